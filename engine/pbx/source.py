"""Where PBX events come from: the Yeastar Open API websocket, replay files, recordings.

Every source is an async iterable of ``CallEvent | SourceStatus``: the events, interleaved with
connection state changes (``connecting``, ``subscribed``, ``lost``, ``auth_failed``, ``frame_error``,
``finished``, ``closed``) so the console can show "PBX: connected" or "PBX: lost, retrying in 4 s"
next to the calls. ``aclose()`` stops a source from another task. Raw frames can be observed with
``frame_listeners`` (what :class:`RecordingSource` uses to write a replay file).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import httpx
import websockets
from websockets.asyncio.client import connect as ws_connect

from engine.errors import LocatedError, Location
from engine.http.redaction import SecretRegistry, redact_text, redacted_logger, register_secrets
from engine.pbx.events import (
    CALL_FAILED, CALL_FORWARDED, CALL_STATUS_CHANGED, EXTENSION_STATUS_CHANGED, INBOUND_CALL_INVITATION,
    NEW_CDR, UACSTA_CALL, CallEvent, FrameError, is_subscription_ack, parse_event,
)
from engine.pbx.script import expand_script

log = redacted_logger("deskline.pbx")

CONNECTING = "connecting"
SUBSCRIBED = "subscribed"
LOST = "lost"
AUTH_FAILED = "auth_failed"
FRAME_ERROR = "frame_error"
FINISHED = "finished"
CLOSED = "closed"

DEFAULT_TOPICS = (EXTENSION_STATUS_CHANGED, CALL_STATUS_CHANGED, NEW_CDR, CALL_FORWARDED, CALL_FAILED,
                  INBOUND_CALL_INVITATION, UACSTA_CALL)
USER_AGENT = "OpenAPI"     # the PBX ignores requests without it
HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A change of the source's connection (not a call event)."""

    state: str
    detail: str = ""
    error: LocatedError | None = None
    retry_in: float | None = None      # seconds until the next attempt (``lost``)


SourceItem = CallEvent | SourceStatus
FrameListener = Callable[[str], None]


@runtime_checkable
class PbxEventSource(Protocol):
    """An async iterable of call events and status changes."""

    frame_listeners: list[FrameListener]

    def __aiter__(self) -> AsyncIterator[SourceItem]: ...

    async def aclose(self) -> None: ...


# -- secrets stay out of logs -----------------------------------------------------------------
# One mechanism for the whole product (engine.http.redaction): the client secret and every token
# the PBX hands out are registered with it, and websockets' and httpx's loggers are filtered.


def redact(text: str) -> str:
    """*text* without the live secrets and secret-named ``name=value`` pairs (access_token=...)."""
    return redact_text(text)


class RedactingLogger(logging.LoggerAdapter):
    """Hands log records on with secrets blanked out (websockets logs the request line at DEBUG)."""

    def __init__(self, logger: logging.Logger, extra: Any = None) -> None:
        super().__init__(redacted_logger(logger.name), extra)

    def log(self, level, msg, *args, **kwargs):  # noqa: D102
        if self.isEnabledFor(level):
            args = tuple(redact(a) if isinstance(a, str) else a for a in args)
            self.logger.log(level, redact(str(msg)), *args, **kwargs)


# -- Yeastar Open API ------------------------------------------------------------------------

class _AuthRejected(Exception):
    """The PBX answered get_token with a non-zero errcode (wrong Client ID/Secret, blocked IP)."""


class _SubscribeRejected(Exception):
    """The PBX refused the topic_list (e.g. the token was not accepted)."""


@dataclass(slots=True)
class _Tokens:
    access: str = field(repr=False)
    access_expires: float      # monotonic
    refresh: str = field(repr=False)
    refresh_expires: float
    refresh_at: float          # when to refresh the access token and reconnect


class OpenApiSource:
    """Events from a Yeastar P-Series PBX over the Open API websocket.

    Gets a token (``POST /openapi/v1.0/get_token`` with ``User-Agent: OpenAPI``), subscribes to
    ``topics`` on ``/openapi/v1.0/subscribe``, sends a heartbeat every ``heartbeat_interval``
    seconds (the PBX drops idle sockets after 60 s), refreshes the access token before it expires
    and reconnects with the new one, and reconnects with exponential back-off after a lost
    connection. Because the PBX blocks an IP after 5 failed authentications, it gives up after
    ``max_auth_failures`` (2) rejected logins and reports ``auth_failed``. Tokens and the client
    secret are never logged.
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str,
                 topics: Iterable[int] = DEFAULT_TOPICS, verify_tls: bool = True, *,
                 tz: tzinfo | None = None, heartbeat_interval: float = 50.0, ack_timeout: float = 10.0,
                 http_timeout: float = 10.0, max_auth_failures: int = 2,
                 backoff_initial: float = 1.0, backoff_max: float = 60.0, name: str = "pbx") -> None:
        split = urlsplit(base_url.rstrip("/"))
        if split.scheme not in ("http", "https") or not split.netloc:
            raise ValueError(f"PBX address must be http://host:port or https://host:port, got {base_url!r}")
        self.base_url = urlunsplit((split.scheme, split.netloc, split.path, "", ""))
        self.client_id = client_id
        self._client_secret = client_secret
        self.topics = tuple(int(t) for t in topics)
        self.verify_tls = verify_tls
        self.tz = tz
        self.heartbeat_interval = heartbeat_interval
        self.ack_timeout = ack_timeout
        self.http_timeout = http_timeout
        self.max_auth_failures = max_auth_failures
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.name = name
        self.frame_listeners: list[FrameListener] = []
        self.auth_failures = 0
        self._tokens: _Tokens | None = None
        self._closed = asyncio.Event()
        self._ws: Any = None
        self._secrets = register_secrets(SecretRegistry([client_secret]))
        self._token_secrets: list[SecretRegistry] = []

    @property
    def secrets(self) -> list[str]:
        """The client secret and the tokens in use (every form), for redaction elsewhere (exports)."""
        return [form for registry in (self._secrets, *self._token_secrets) for form in registry]

    def _status(self, state: str, detail: str = "", **kw: Any) -> SourceStatus:
        """A status for the consumer, also logged (details never hold tokens or the secret)."""
        level = logging.WARNING if state in (LOST, AUTH_FAILED) else logging.INFO
        log.log(level, "PBX %s %s: %s", self.name, state, detail)
        return SourceStatus(state, detail, **kw)

    def __repr__(self) -> str:
        return f"OpenApiSource({self.base_url!r}, client_id={self.client_id!r}, client_secret='***')"

    @property
    def _api(self) -> str:
        return f"{self.base_url}/openapi/v1.0"

    @property
    def subscribe_url(self) -> str:
        """The websocket address, without the token."""
        split = urlsplit(self.base_url)
        scheme = "wss" if split.scheme == "https" else "ws"
        return urlunsplit((scheme, split.netloc, f"{split.path}/openapi/v1.0/subscribe", "", ""))

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.base_url.startswith("https"):
            return None
        context = ssl.create_default_context()
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # -- tokens --------------------------------------------------------------------------
    async def _post(self, http: httpx.AsyncClient, path: str, body: dict[str, str]) -> dict[str, Any]:
        response = await http.post(f"{self._api}/{path}", json=body)
        try:
            data = response.json()
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            if response.status_code in (401, 403):
                raise _AuthRejected(f"HTTP {response.status_code}")
            raise ConnectionError(f"{path}: HTTP {response.status_code}, not a JSON answer")
        return data

    def _store(self, data: dict[str, Any]) -> None:
        now = time.monotonic()
        access_ttl = _number(data.get("access_token_expire_time"), 1800.0)
        refresh_ttl = _number(data.get("refresh_token_expire_time"), 86400.0)
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise ConnectionError("the PBX answered without an access_token")
        self._tokens = _Tokens(access, now + access_ttl, refresh if isinstance(refresh, str) else "",
                               now + refresh_ttl, now + max(access_ttl - 300.0, access_ttl * 0.8))
        # the tokens in use and the ones before them (still valid for a while) stay out of logs
        self._token_secrets = [*self._token_secrets[-1:], register_secrets(SecretRegistry([access, self._tokens.refresh]))]

    async def _authenticate(self, http: httpx.AsyncClient) -> str:
        """A valid access token: refreshed when possible, else a new login. Returns how."""
        now = time.monotonic()
        tokens = self._tokens
        if tokens and now < tokens.refresh_at:
            return "token still valid"
        if tokens and tokens.refresh and now < tokens.refresh_expires - 60:
            data = await self._post(http, "refresh_token", {"refresh_token": tokens.refresh})
            if data.get("errcode") == 0:
                self._store(data)
                return "token refreshed"
            log.info("PBX refused the token refresh (%s); logging in again", _errmsg(data))
        self._tokens = None
        data = await self._post(http, "get_token", {"username": self.client_id, "password": self._client_secret})
        if data.get("errcode") != 0:
            raise _AuthRejected(_errmsg(data))
        self._store(data)
        self.auth_failures = 0
        return "logged in"

    async def _revoke(self, http: httpx.AsyncClient) -> None:
        if self._tokens is None:
            return
        try:
            await http.get(f"{self._api}/del_token", params={"access_token": self._tokens.access})
        except (httpx.HTTPError, OSError):
            pass
        self._tokens = None

    # -- the loop ------------------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._run()

    async def aclose(self) -> None:
        """Stop: close the socket; the iteration ends with a ``closed`` status."""
        self._closed.set()
        ws = self._ws
        if ws is not None:
            await ws.close()

    async def _run(self) -> AsyncIterator[SourceItem]:
        attempt = 0
        headers = {"User-Agent": USER_AGENT}
        async with httpx.AsyncClient(headers=headers, timeout=self.http_timeout, verify=self._ssl() or True,
                                     trust_env=False) as http:
            try:
                while not self._closed.is_set():
                    yield self._status(CONNECTING, self.subscribe_url)
                    problem = ""
                    try:
                        await self._authenticate(http)
                        async for item in self._session():
                            if isinstance(item, SourceStatus) and item.state == SUBSCRIBED:
                                attempt = 0      # back-off starts again after a good connection
                            yield item
                        continue     # token refresh due or closed
                    except _AuthRejected as exc:
                        self.auth_failures += 1
                        if self.auth_failures >= self.max_auth_failures:
                            yield self._status(AUTH_FAILED, f"the PBX rejected Client ID {self.client_id!r} "
                                               f"{self.auth_failures} times ({exc}); not retrying, "
                                               f"5 failed logins block this IP on the PBX")
                            return
                        problem = f"authentication failed ({exc})"
                    except _SubscribeRejected as exc:
                        self._tokens = None
                        problem = f"subscription refused ({exc})"
                    except (httpx.HTTPError, OSError, ConnectionError, TimeoutError,
                            websockets.exceptions.WebSocketException) as exc:
                        problem = _describe(exc)
                    if self._closed.is_set():
                        break
                    delay = min(self.backoff_max, self.backoff_initial * 2 ** attempt)
                    delay *= 0.75 + random.random() / 4
                    attempt += 1
                    yield self._status(LOST, problem, retry_in=round(delay, 2))
                    try:
                        await asyncio.wait_for(self._closed.wait(), delay)
                    except TimeoutError:
                        pass
            finally:
                await self._revoke(http)
        yield self._status(CLOSED, "stopped")

    async def _session(self) -> AsyncIterator[SourceItem]:
        """One websocket connection: subscribe, then events until it drops or the token is due."""
        assert self._tokens is not None
        url = f"{self.subscribe_url}?access_token={self._tokens.access}"
        async with ws_connect(url, user_agent_header=USER_AGENT, ssl=self._ssl(), proxy=None,
                              open_timeout=self.ack_timeout, max_size=4 * 1024 * 1024,
                              logger=RedactingLogger(logging.getLogger("deskline.pbx.websocket"), {})) as ws:
            self._ws = ws
            try:
                await ws.send(json.dumps({"topic_list": list(self.topics)}))
                async with asyncio.timeout(self.ack_timeout):
                    while True:
                        reply = await ws.recv()
                        obj = _json_or_none(reply)
                        if is_subscription_ack(obj):
                            break
                if obj.get("errcode", 0) not in (0, "0"):
                    raise _SubscribeRejected(_errmsg(obj))
                yield self._status(SUBSCRIBED, f"topics {', '.join(map(str, self.topics))}")
                heartbeat = asyncio.create_task(self._heartbeat(ws))
                try:
                    while not self._closed.is_set():
                        due = self._tokens.refresh_at - time.monotonic()
                        if due <= 0:
                            return
                        try:
                            async with asyncio.timeout(due):
                                frame = await ws.recv()
                        except TimeoutError:
                            return          # refresh the token and reconnect with it
                        item = self._read(frame)
                        if item is not None:
                            self._tell(frame)
                            yield item
                finally:
                    heartbeat.cancel()
            except websockets.exceptions.ConnectionClosed:
                if self._closed.is_set():
                    return
                raise
            finally:
                self._ws = None

    async def _heartbeat(self, ws) -> None:
        try:
            while True:
                await asyncio.sleep(self.heartbeat_interval)
                await ws.send(HEARTBEAT)
        except (websockets.exceptions.ConnectionClosed, OSError):
            pass

    def _tell(self, frame: str | bytes) -> None:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        for listener in self.frame_listeners:
            listener(text)

    def _read(self, frame: str | bytes) -> SourceItem | None:
        obj = _json_or_none(frame)
        if obj is None or (isinstance(obj, dict) and "type" not in obj) or is_subscription_ack(obj):
            return None              # heartbeat answers and other control messages
        try:
            return parse_event(obj, tz=self.tz, source=self.name)
        except FrameError as exc:
            log.warning("PBX %s sent a frame deskline cannot read: %s", self.name, exc)
            return SourceStatus(FRAME_ERROR, str(exc), error=exc)


def _json_or_none(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except (ValueError, RecursionError):
        return None


def _number(value: Any, default: float) -> float:
    """A finite number of seconds >= 0 from a PBX answer (numbers may come as text), else *default*."""
    if isinstance(value, bool):
        return default
    try:
        number = float(value) if value is not None else default
    except (TypeError, ValueError):
        return default
    return number if 0 <= number < math.inf else default


def _errmsg(data: dict[str, Any]) -> str:
    return f"errcode {data.get('errcode')}: {data.get('errmsg', '')}".strip()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, websockets.exceptions.ConnectionClosed):
        return "the PBX closed the connection" + (f" ({exc.rcvd.code})" if exc.rcvd else "")
    if isinstance(exc, websockets.exceptions.InvalidStatus):
        return f"websocket refused: HTTP {exc.response.status_code}"
    if isinstance(exc, TimeoutError):
        return "no answer from the PBX in time"
    return redact(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__


# -- replay files ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReplayFrame:
    """One frame of a replay: when (seconds from the start), the frame, and its line in the file."""

    at: float
    frame: Any
    line: int = 0


def load_replay(text: str, *, source: str = "<replay>") -> list[ReplayFrame]:
    """Read a replay: JSON Lines (``{"at": 1.5, "event": {...}}``) or a call script.

    The format is chosen by the first line that is not blank or a ``#`` comment: ``{`` means
    JSON Lines. Raises a located :class:`FrameError` for a line that cannot be read.
    """
    first = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
    if not first.startswith("{"):
        return [ReplayFrame(f.at, f.frame, f.line) for f in expand_script(text, source=source)]
    frames = []
    last = 0.0
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        col = len(line) - len(line.lstrip()) + 1
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise FrameError(f"invalid JSON: {exc.msg}", Location(source, lineno, col + exc.colno - 1, "")) from None
        except RecursionError:
            raise FrameError("invalid JSON: it nests too deeply", Location(source, lineno, col, "")) from None
        if not isinstance(obj, dict) or "event" not in obj:
            raise FrameError('expected {"at": SECONDS, "event": FRAME}', Location(source, lineno, col, "event"))
        at = obj.get("at", last)
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not 0 <= at < math.inf:
            raise FrameError(f"'at' must be seconds from the start (a number >= 0), got {at!r}",
                             Location(source, lineno, col, "at"))
        last = max(last, float(at))
        frames.append(ReplayFrame(float(at), obj["event"], lineno))
    frames.sort(key=lambda f: f.at)
    return frames


def read_replay_text(path: Path, name: str) -> str:
    """A replay file as text; a file that cannot be read or is not UTF-8 is a located :class:`FrameError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrameError(f"cannot read the file: {exc.strerror or exc}", Location(name, 0, 0, "")) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FrameError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
                         Location(name, line, col, "")) from None


class ReplaySource:
    """Plays a replay file (JSON Lines or call script, see :func:`load_replay`) as a PBX would.

    ``speed`` 1.0 keeps the recorded timing, 2.0 plays twice as fast, 0 plays without waiting.
    ``text`` plays a script or JSON Lines given directly instead of reading ``path``.
    """

    def __init__(self, path: str | Path | None = None, speed: float = 1.0, *, text: str | None = None,
                 tz: tzinfo | None = None, sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        if path is None and text is None:
            raise ValueError("ReplaySource needs a path or a text")
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.path = Path(path) if path is not None else None
        self.name = str(path) if path is not None else "<script>"
        self.speed = speed
        self.tz = tz
        self._text = text
        self._sleep = sleep
        self._closed = False
        self.position = 0.0           # replay time (seconds from the start) of the last frame
        self.frame_listeners: list[FrameListener] = []

    def frames(self) -> list[ReplayFrame]:
        """Load and check the whole replay (raises a located :class:`FrameError`)."""
        text = self._text if self._text is not None else read_replay_text(self.path, self.name)
        return load_replay(text, source=self.name)

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._run()

    async def aclose(self) -> None:
        self._closed = True

    async def _run(self) -> AsyncIterator[SourceItem]:
        frames = self.frames()
        yield SourceStatus(SUBSCRIBED, f"replaying {self.name} ({len(frames)} frames)")
        clock = 0.0
        for frame in frames:
            if self._closed:
                yield SourceStatus(CLOSED, "stopped")
                return
            if self.speed and frame.at > clock:
                await self._sleep((frame.at - clock) / self.speed)
            clock = max(clock, frame.at)
            self.position = clock
            raw = frame.frame if isinstance(frame.frame, str) else json.dumps(frame.frame, ensure_ascii=False)
            for listener in self.frame_listeners:
                listener(raw)
            try:
                yield parse_event(frame.frame, tz=self.tz, source=self.name, line=frame.line)
            except FrameError as exc:
                yield SourceStatus(FRAME_ERROR, str(exc), error=exc)
        yield SourceStatus(FINISHED, f"end of {self.name}")


class RecordingSource:
    """Passes the items of ``inner`` through and writes every raw frame to ``path`` as a replay file."""

    def __init__(self, inner: PbxEventSource, path: str | Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self.path = Path(path)
        self.clock = clock
        self.frame_listeners: list[FrameListener] = []
        self._file = None
        self._start: float | None = None

    def _write(self, raw: str) -> None:
        now = self.clock()
        if self._start is None:
            self._start = now
        event = _json_or_none(raw)
        line = {"at": round(now - self._start, 3), "event": event if event is not None else raw}
        if self._file is not None:
            self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._file.flush()
        for listener in self.frame_listeners:
            listener(raw)

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._run()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _run(self) -> AsyncIterator[SourceItem]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.inner.frame_listeners.append(self._write)
        self._file = self.path.open("w", encoding="utf-8")
        try:
            async for item in self.inner:
                yield item
        finally:
            self.inner.frame_listeners.remove(self._write)
            self._file.close()
            self._file = None
