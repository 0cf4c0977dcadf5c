"""A record of every helpdesk request: what was sent, what came back, what mapped.

Traces are built from the real ``httpx`` request and response through a
:class:`~engine.http.redaction.Redactor`, so they never hold a secret; a
trace can be shown, stored, exported or turned into a ``curl`` command as is.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

import httpx

from engine.http.redaction import Redactor

DEFAULT_RESPONSE_CAP = 64 * 1024


@dataclass(slots=True)
class Attempt:
    """One try of a request: its status or error, its duration and the retry decision after it."""

    status: int | None
    elapsed_ms: float
    error: str = ""
    retry_reason: str = ""
    delay_s: float = 0.0


@dataclass(slots=True)
class MappingNote:
    """How one output path fared on the response: how many values it matched."""

    name: str
    path: str
    values: int

    @property
    def matched(self) -> bool:
        return self.values > 0


@dataclass(slots=True)
class Trace:
    """One request of a scenario, redacted."""

    scenario: str
    request_name: str
    method: str
    url: str
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: str = ""
    status: int | None = None
    reason: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    response_size: int = 0
    response_truncated: bool = False
    started_at: float = 0.0
    elapsed_ms: float = 0.0
    queued_ms: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    error: str = ""
    skipped: str = ""
    dry_run: bool = False
    mapping: list[MappingNote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error and self.status is not None and 200 <= self.status < 300

    @property
    def matched_paths(self) -> list[MappingNote]:
        return [m for m in self.mapping if m.matched]

    @property
    def empty_paths(self) -> list[MappingNote]:
        return [m for m in self.mapping if not m.matched]

    def as_curl(self) -> str:
        """The request as a ``curl`` command line (secrets stay masked)."""
        parts = ["curl", "-X", self.method]
        for name, value in self.request_headers:
            if name.lower() in ("content-length", "host", "accept-encoding", "connection"):
                continue
            parts += ["-H", f"{name}: {value}"]
        if self.request_body:
            parts += ["--data-raw", self.request_body]
        parts.append(self.url)
        return " ".join(shlex.quote(p) for p in parts)

    def summary(self) -> str:
        """One line: ``scenario/request METHOD url -> status (ms)``."""
        head = f"{self.scenario}/{self.request_name}" if self.scenario else self.request_name
        if self.skipped:
            return f"{head}: skipped ({self.skipped})"
        outcome = self.error or (f"{self.status} {self.reason}".strip() if self.status is not None else "not sent")
        if self.dry_run:
            outcome = "dry run, not sent"
        return f"{head} {self.method} {self.url} -> {outcome} ({self.elapsed_ms:.0f} ms)"


def _raw_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    """Headers with the case they were written in."""
    return [(k.decode("latin-1"), _header_text(v)) for k, v in headers.raw]


def _header_text(value: bytes) -> str:
    # UTF-8 first, so a non-ASCII secret is recognised by the registry; latin-1 never fails
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def request_trace(request: httpx.Request, redactor: Redactor, *, scenario: str = "", name: str = "") -> Trace:
    """A trace of *request* as it will be sent, redacted."""
    content_type = request.headers.get("content-type", "")
    try:
        body = request.content.decode("utf-8", errors="replace")
    except httpx.RequestNotRead:  # streaming body
        body = "<stream>"
    return Trace(
        scenario=scenario,
        request_name=name,
        method=request.method,
        url=redactor.url(str(request.url)),
        request_headers=redactor.headers(_raw_headers(request.headers)),
        request_body=redactor.body(body, content_type),
    )


def record_response(trace: Trace, response: httpx.Response, redactor: Redactor, cap: int = DEFAULT_RESPONSE_CAP) -> None:
    """Copy the status, headers and (capped, redacted) body of *response* into *trace*."""
    trace.status = response.status_code
    trace.reason = response.reason_phrase
    trace.response_headers = redactor.headers(_raw_headers(response.headers))
    raw = response.content
    trace.response_size = len(raw)
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    # Redact the whole body first (a capped JSON body would no longer parse).
    text = redactor.body(text, response.headers.get("content-type", ""))
    if len(text) > cap:
        text = text[:cap]
        trace.response_truncated = True
    trace.response_body = text
