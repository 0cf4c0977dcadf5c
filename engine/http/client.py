"""The HTTP client of one integration: bounded concurrency, ring-sized timeouts, retries, traces.

One :class:`HelpdeskHttp` (one ``httpx.AsyncClient``) per integration.  At
most ``max_concurrent`` requests are in flight (the template's
``MaxConcurrentRequest``); the others wait for a slot.  TLS verification is
on, proxies come from the environment, every request carries
``User-Agent: deskline/<version>`` and leaves a redacted :class:`Trace`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from engine import __version__
from engine.http.redaction import Redactor, SecretRegistry, redacted_logger, register_secrets
from engine.http.retry import RetryPolicy
from engine.http.trace import DEFAULT_RESPONSE_CAP, Attempt, Trace, record_response, request_trace

USER_AGENT = f"deskline/{__version__}"
log = redacted_logger("deskline.http")

# A contact popup that arrives after the caller hung up is useless: a phone
# rings for 20-30 s, so one request gets 2 s to connect and 5 s to answer,
# and a whole send (retries included) at most 12 s.
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 5.0
DEFAULT_MAX_CONCURRENT = 10  # requests in flight when neither the template nor the operator says
DEFAULT_DEADLINE = 12.0


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Network behaviour of one integration."""

    max_concurrent: int | None = None  # None: the template's MaxConcurrentRequest, else DEFAULT_MAX_CONCURRENT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    write_timeout: float = DEFAULT_READ_TIMEOUT
    deadline: float = DEFAULT_DEADLINE
    verify: bool = True
    trust_env: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    response_cap: int = DEFAULT_RESPONSE_CAP  # what a trace keeps of a response body
    max_response_bytes: int = 16 * 1024 * 1024  # larger answers are refused, never held in memory

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_timeout, read=self.read_timeout,
                             write=self.write_timeout, pool=self.connect_timeout)


@dataclass(slots=True)
class Exchange:
    """The outcome of :meth:`HelpdeskHttp.send`: the final response (or error) and its trace."""

    trace: Trace
    response: httpx.Response | None = None
    error: str = ""

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.is_success and not self.error

    @property
    def text(self) -> str:
        return self.response.text if self.response is not None else ""


TraceSink = Callable[[Trace], None]


class ResponseTooLarge(Exception):
    """The helpdesk answered with more bytes than an integration accepts."""


class DeadlineExceeded(Exception):
    """The answer was not complete within the request's deadline (a slow or trickling server)."""


class HelpdeskHttp:
    """Sends requests to one helpdesk."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        secrets: SecretRegistry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_trace: TraceSink | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.secrets = secrets if secrets is not None else SecretRegistry()
        self.redactor = Redactor(self.secrets)
        register_secrets(self.secrets)  # httpx logs request URLs; keep these secrets out of every log
        self._sleep = sleep
        self._rng = rng
        self._on_trace = on_trace
        self._slots = asyncio.Semaphore(max(1, self.settings.max_concurrent or DEFAULT_MAX_CONCURRENT))
        self.in_flight = 0
        self.peak_in_flight = 0
        self.client = httpx.AsyncClient(
            timeout=self.settings.timeout(),
            verify=self.settings.verify,
            trust_env=self.settings.trust_env,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    async def __aenter__(self) -> HelpdeskHttp:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    def build_request(self, method: str, url: str, *, headers=None, content: str | bytes | None = None,
                      params=None) -> httpx.Request:
        """An ``httpx.Request`` with this client's defaults (User-Agent, ...)."""
        return self.client.build_request(method.upper(), url, headers=headers, content=content, params=params)

    async def send(
        self,
        request: httpx.Request,
        *,
        scenario: str = "",
        name: str = "",
        retry_safe: bool = False,
        deadline: float | None = None,
    ) -> Exchange:
        """Send *request* with retries; never raises for HTTP or transport failures.

        The whole send (waiting for a slot, every attempt, the pauses between
        them) ends at ``deadline`` seconds (default ``settings.deadline``).

        ``retry_safe`` lets a non-idempotent request (POST) be repeated after
        an outcome-unknown failure; only callers that made it safe (an
        idempotency key, a durable outbox that checks first) may set it.
        """
        policy = self.settings.retry
        trace = request_trace(request, self.redactor, scenario=scenario, name=name)
        trace.started_at = time.time()
        start = time.monotonic()
        limit = start + (self.settings.deadline if deadline is None else deadline)
        exchange = Exchange(trace)
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            error: BaseException | None = None
            queued = time.monotonic()
            async with self._slots:
                trace.queued_ms += (time.monotonic() - queued) * 1000
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                began = time.monotonic()
                try:
                    # the deadline bounds each attempt too: read timeouts alone let a trickling server
                    # hold the request (and a slot) far past the ring
                    async with asyncio.timeout(max(0.0, limit - began)):
                        response = await self.client.send(request, stream=True)
                        await self._read_bounded(response)
                except TimeoutError:
                    if response is not None:
                        await response.aclose()
                    error = DeadlineExceeded(f"no complete answer within the deadline of {limit - start:g}s")
                    response = None
                except ResponseTooLarge as exc:
                    error = exc
                    response = None
                except httpx.HTTPError as exc:
                    error = exc
                finally:
                    self.in_flight -= 1
                    elapsed = (time.monotonic() - began) * 1000
            note = Attempt(status=response.status_code if response is not None else None, elapsed_ms=elapsed,
                           error=self._describe(error) if error is not None else "")
            trace.attempts.append(note)
            decision = policy.decide(
                method=request.method, attempt=attempt,
                status=response.status_code if response is not None else None, error=error,
                retry_after=response.headers.get("retry-after") if response is not None else None,
                retry_safe=retry_safe, rng=self._rng,
            )
            if decision.retry and time.monotonic() + decision.delay >= limit:
                decision = type(decision)(False, reason=f"deadline of {limit - start:g}s reached")
            note.retry_reason = decision.reason
            if not decision.retry:
                exchange.response = response
                if response is not None:
                    record_response(trace, response, self.redactor, self.settings.response_cap)
                if error is not None:
                    exchange.error = trace.error = note.error
                break
            note.delay_s = decision.delay
            if response is not None:
                await response.aclose()
            await self._sleep(decision.delay)
        trace.elapsed_ms = (time.monotonic() - start) * 1000
        log.debug("%s", trace.summary())  # redacted like the trace itself
        if self._on_trace is not None:
            self._on_trace(trace)
        return exchange

    async def _read_bounded(self, response: httpx.Response) -> None:
        """Read the body, refusing more than ``max_response_bytes`` (decoded)."""
        limit = self.settings.max_response_bytes
        try:
            declared = int(response.headers.get("content-length", "0"))
        except ValueError:
            declared = 0
        if declared > limit:
            await response.aclose()
            raise ResponseTooLarge(f"the answer is {declared} bytes; more than the limit of {limit}")
        chunks, size = [], 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLarge(f"the answer is larger than the limit of {limit} bytes")
                chunks.append(chunk)
        finally:
            await response.aclose()
        response._content = b"".join(chunks)  # what Response.aread() does; httpx is pinned below 0.29

    def record(self, trace: Trace) -> None:
        """Pass a trace made elsewhere (a skipped or dry-run request) to the trace sink."""
        if self._on_trace is not None:
            self._on_trace(trace)

    def _describe(self, error: BaseException) -> str:
        kind = {
            httpx.ConnectTimeout: "connect timeout",
            httpx.ReadTimeout: "read timeout",
            httpx.WriteTimeout: "write timeout",
            httpx.PoolTimeout: "timed out waiting for a connection",
            httpx.ConnectError: "cannot connect",
            DeadlineExceeded: "deadline",
        }.get(type(error), type(error).__name__)
        detail = str(error)
        return self.redactor.message(f"{kind}: {detail}" if detail else kind)
