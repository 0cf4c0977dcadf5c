"""A small but real helpdesk: an HTTP/1.1 JSON API on loopback, for ``deskline demo`` and tests.

It keeps agents, contacts (several phone fields each), tickets and call-journal entries in
memory, and behaves like a hosted helpdesk API rather than a canned stub: paginated
collections with ``next`` links, phone search with number-variant matching, validation
errors (400), missing credentials or expired tokens (401), 404, 405 with ``Allow``,
duplicates (409), rate limiting (429 + ``Retry-After``), injected server faults (5xx) and an
optional latency. Authentication: OAuth2 authorization code (auto-approved, PKCE S256
checked when sent, refresh-token rotation, expiring access tokens), an API token
(``Authorization: Token …``) and Basic.

Use from a thread or from sync code::

    hd = DemoHelpdesk(DemoOptions(latency=0.05))
    base_url = hd.start()          # http://127.0.0.1:<free port>
    ...
    hd.stop()

or from async code: ``async with DemoHelpdesk() as hd: ... hd.base_url ...``.

API (all JSON; base ``{base_url}/api/v1``)::

    GET    /health                                   no auth
    GET    /me                                       who the credentials belong to
    GET    /agents?page=&per_page=                   {"data": [...], "meta": {...}, "links": {"next": …}}
    GET    /agents/{id}
    GET    /contacts?phone=&match=exact|digits|suffix&suffix=N&q=&email=&page=&per_page=
    POST   /contacts                                 201; 400 invalid; 409 e-mail already used
    GET    /contacts/{id}       PATCH /contacts/{id}
    GET    /tickets?contact_id=&status=&page=&per_page=
    POST   /tickets                                  201
    GET    /tickets/{id}        PATCH|PUT /tickets/{id}
    GET|POST /contacts/{id}/journal   GET|POST /tickets/{id}/journal   (call-journal entries)

OAuth2: ``GET /oauth/authorize``, ``POST /oauth/token``, ``POST /oauth/revoke``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.server
import json
import math
import random
import re
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

JSON = dict[str, Any]

CONTACT_PHONE_FIELDS = (
    "business_phone", "business_phone2", "business_fax", "mobile_phone", "mobile_phone2",
    "home_phone", "home_phone2", "home_fax", "other_phone",
)
CONTACT_FIELDS = ("first_name", "last_name", "company", "email", "remark", *CONTACT_PHONE_FIELDS)
TICKET_STATUSES = ("new", "open", "pending", "solved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
JOURNAL_FIELDS = {"subject": str, "body": str, "direction": str, "call_status": str, "from": str,
                  "to": str, "started_at": (str, int), "duration_seconds": int, "recording_url": str,
                  "agent_id": str}
SCOPES = ("read", "write")
MIN_SUFFIX_DIGITS = 6


@dataclass
class DemoOptions:
    """How the demo helpdesk behaves. Every field can also be changed while it runs."""

    host: str = "127.0.0.1"
    port: int = 0                          # 0: pick a free port
    latency: float = 0.0                   # seconds added to every response
    rate_limit: int = 0                    # max API requests per rate_window (0: unlimited)
    rate_window: float = 1.0
    fail_rate: float = 0.0                 # share of API requests answered with fail_status
    fail_status: int = 503
    fail_seed: int = 7
    token_ttl: int = 3600                  # OAuth2 access-token lifetime, seconds
    code_ttl: int = 60
    pkce_required: bool = False
    rotate_refresh_tokens: bool = True
    require_auth: bool = True
    seed: bool = True
    max_per_page: int = 100
    api_token: str = field(default="demo-api-token", repr=False)
    basic_user: str = "demo"
    basic_password: str = field(default="demo-password", repr=False)
    client_id: str = "deskline-demo"
    client_secret: str = field(default="deskline-demo-secret", repr=False)
    # registered redirect URIs; any loopback port is accepted for these paths (RFC 8252 7.3)
    redirect_uris: tuple[str, ...] = ("http://127.0.0.1:8765/callback",)
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the demo helpdesk saw it (no credentials, no token-endpoint bodies)."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    auth: str          # "bearer", "token", "basic", "none" or "invalid"
    body: Any          # parsed JSON body of API writes, else None


class ApiError(Exception):
    """An error answer: status, machine code, message, optional extra headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> JSON:
        return {"error": self.code, "message": self.message, **self.extra}


class OAuthError(ApiError):
    """An RFC 6749 error answer (``error`` + ``error_description``)."""

    def body(self) -> JSON:
        return {"error": self.code, "error_description": self.message}


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def phone_digits(number: str) -> str:
    """The digits of a phone number: ``"+1 (555) 010-0"`` -> ``"15550100"``."""
    return "".join(ch for ch in number if ch.isdigit())


def phone_matches(stored: str, wanted: str, mode: str, suffix: int) -> bool:
    """Whether a stored number matches the searched one under ``mode`` (exact, digits, suffix)."""
    if not stored or not wanted:
        return False
    if mode == "exact":
        return stored.strip() == wanted.strip()
    a, b = phone_digits(stored), phone_digits(wanted)
    if mode == "digits":
        return bool(a) and a == b
    # the last `suffix` digits, or all of them when a number is shorter (but never fewer than 6)
    n = min(suffix, len(a), len(b))
    return n >= min(suffix, MIN_SUFFIX_DIGITS) and a[-n:] == b[-n:]


class DemoState:
    """Everything the demo helpdesk stores; guarded by ``lock``."""

    def __init__(self, seed: bool) -> None:
        self.lock = threading.RLock()
        self.agents: dict[str, JSON] = {}
        self.contacts: dict[str, JSON] = {}
        self.tickets: dict[int, JSON] = {}
        self.journal: list[JSON] = []
        self.codes: dict[str, JSON] = {}
        self.access_tokens: dict[str, JSON] = {}
        self.refresh_tokens: dict[str, JSON] = {}
        self._next_contact = 1
        self._next_ticket = 1001
        self._next_entry = 1
        if seed:
            self._seed()

    def _seed(self) -> None:
        agents = [("Ada", "Lovelace", "1001"), ("Grace", "Hopper", "1002"), ("Alan", "Turing", "1003"),
                  ("Katherine", "Johnson", "1004"), ("Edsger", "Dijkstra", "1005")]
        for i, (first, last, ext) in enumerate(agents, 1):
            self.agents[f"a{i}"] = {"id": f"a{i}", "first_name": first, "last_name": last,
                                    "email": f"{first.lower()}@demo-helpdesk.test", "extension": ext}
        contacts = [
            {"first_name": "Alice", "last_name": "Anders", "company": "Acme", "email": "alice@acme.example",
             "business_phone": "+15550100", "mobile_phone": "+15550101"},
            {"first_name": "Bob", "last_name": "Brown", "company": "Brown & Sons", "email": "bob@brown.example",
             "mobile_phone": "020 7946 0018", "home_phone": "+44 20 7946 0019"},
            {"first_name": "Carol", "last_name": "Chen", "email": "carol@example.com",
             "home_phone": "+1 (555) 030-0", "mobile_phone": "+15550301", "remark": "Prefers e-mail"},
            # two people behind the Globex switchboard number
            {"first_name": "Dan", "last_name": "Diaz", "company": "Globex", "email": "dan@globex.example",
             "business_phone": "+15557000", "mobile_phone": "+15557001"},
            {"first_name": "Erin", "last_name": "Evans", "company": "Globex", "email": "erin@globex.example",
             "business_phone": "+15557000", "mobile_phone": "+15557002"},
            {"first_name": "Frank", "last_name": "Fischer", "company": "Initech", "email": "frank@initech.example",
             "business_phone": "+49 30 1234567", "business_fax": "+49 30 1234568"},
        ]
        for contact in contacts:
            self.add_contact(contact)
        self.add_ticket({"subject": "Printer on floor 2 is jammed", "description": "Seeded ticket",
                         "contact_id": "c1", "assignee_id": "a1", "status": "open", "priority": "normal"}, 0.0)

    def add_contact(self, data: JSON) -> JSON:
        cid = f"c{self._next_contact}"
        self._next_contact += 1
        contact = {"id": cid, **{k: "" for k in CONTACT_FIELDS}, **data}
        self.contacts[cid] = contact
        return contact

    def add_ticket(self, data: JSON, now: float) -> JSON:
        tid = self._next_ticket
        self._next_ticket += 1
        stamp = _iso(now)
        ticket = {"id": tid, "subject": "", "description": "", "contact_id": None, "assignee_id": None,
                  "status": "new", "priority": "normal", **data, "created_at": stamp, "updated_at": stamp}
        self.tickets[tid] = ticket
        return ticket

    def add_entry(self, target: str, target_id: Any, data: JSON, now: float) -> JSON:
        entry = {"id": f"j{self._next_entry}", "contact_id": None, "ticket_id": None, "subject": "",
                 "body": "", **data, f"{target}_id": target_id, "created_at": _iso(now)}
        self._next_entry += 1
        self.journal.append(entry)
        return entry


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _pkce_s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body go out in separate writes
    server_version = "deskline-demo-helpdesk/1"
    helpdesk: DemoHelpdesk   # set on the per-server subclass

    def setup(self) -> None:
        super().setup()
        self.helpdesk._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.helpdesk._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:   # quiet: state.requests is the log
        return

    def do_GET(self) -> None: self._serve("GET")
    def do_POST(self) -> None: self._serve("POST")
    def do_PUT(self) -> None: self._serve("PUT")
    def do_PATCH(self) -> None: self._serve("PATCH")
    def do_DELETE(self) -> None: self._serve("DELETE")
    def do_HEAD(self) -> None: self._serve("HEAD")

    def _serve(self, method: str) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = b""
            response = Response(411, {"error": "length_required", "message": "send a Content-Length"})
            self.close_connection = True
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0
            raw = self.rfile.read(length) if length > 0 else b""
            response = None
        hd = self.helpdesk
        if response is None:
            response = hd._dispatch(method, self.path, dict(self.headers.items()), raw)
        if hd.options.latency > 0:
            time.sleep(hd.options.latency)
        payload = b""
        if response.body is not None:
            payload = json.dumps(response.body, ensure_ascii=False).encode()
        self.send_response(response.status)
        if response.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)


class DemoHelpdesk:
    """The demo helpdesk server. ``start()`` returns its base URL; ``stop()`` ends it."""

    def __init__(self, options: DemoOptions | None = None) -> None:
        self.options = options or DemoOptions()
        self.state = DemoState(self.options.seed)
        self.requests: list[RecordedRequest] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        self._hits: deque[float] = deque()
        self._fail_next: list[int] = []
        self._random = random.Random(self.options.fail_seed)
        self._routes = self._build_routes()

    # -- life cycle -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo helpdesk is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/v1"

    def start(self) -> str:
        """Bind (port 0 picks a free one), serve in a daemon thread, return the base URL."""
        if self._server is not None:
            return self.base_url
        handler = type("DemoHandler", (_Handler,), {"helpdesk": self})
        server = http.server.ThreadingHTTPServer((self.options.host, self.options.port), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="demo-helpdesk", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and close open keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DemoHelpdesk:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> DemoHelpdesk:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- test controls ----------------------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` API requests with ``status`` (fault injection)."""
        with self.state.lock:
            self._fail_next.extend([status] * count)

    @property
    def tickets(self) -> list[JSON]:
        with self.state.lock:
            return [dict(t) for t in self.state.tickets.values()]

    @property
    def journal(self) -> list[JSON]:
        with self.state.lock:
            return [dict(e) for e in self.state.journal]

    @property
    def contacts(self) -> list[JSON]:
        with self.state.lock:
            return [dict(c) for c in self.state.contacts.values()]

    def issue_token(self, ttl: int | None = None, scope: str = "read write") -> str:
        """An access token without the browser step (for tests of API calls)."""
        with self.state.lock:
            return self._new_tokens(self.options.client_id, "a1", scope, ttl)["access_token"]

    # -- dispatch ---------------------------------------------------------------------------------
    def _build_routes(self) -> list[tuple[re.Pattern[str], dict[str, Callable[..., Response]], bool]]:
        """(path pattern, handlers by method, needs auth)."""
        r = re.compile
        return [
            (r(r"/api/v1/health"), {"GET": self._health}, False),
            (r(r"/oauth/authorize"), {"GET": self._authorize}, False),
            (r(r"/oauth/token"), {"POST": self._token}, False),
            (r(r"/oauth/revoke"), {"POST": self._revoke}, False),
            (r(r"/api/v1/me"), {"GET": self._me}, True),
            (r(r"/api/v1/agents"), {"GET": self._list_agents}, True),
            (r(r"/api/v1/agents/(?P<aid>[^/]+)"), {"GET": self._get_agent}, True),
            (r(r"/api/v1/contacts"), {"GET": self._list_contacts, "POST": self._create_contact}, True),
            (r(r"/api/v1/contacts/(?P<cid>[^/]+)"), {"GET": self._get_contact, "PATCH": self._update_contact}, True),
            (r(r"/api/v1/contacts/(?P<cid>[^/]+)/journal"),
             {"GET": self._list_contact_journal, "POST": self._add_contact_journal}, True),
            (r(r"/api/v1/tickets"), {"GET": self._list_tickets, "POST": self._create_ticket}, True),
            (r(r"/api/v1/tickets/(?P<tid>[^/]+)"),
             {"GET": self._get_ticket, "PATCH": self._update_ticket, "PUT": self._update_ticket}, True),
            (r(r"/api/v1/tickets/(?P<tid>[^/]+)/journal"),
             {"GET": self._list_ticket_journal, "POST": self._add_ticket_journal}, True),
        ]

    def _dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        lowered = {k.lower(): v for k, v in headers.items()}
        auth_kind, body = "none", None
        try:
            route = self._route(path)
            if route is None:
                raise ApiError(404, "not_found", f"no such resource: {path}")
            handlers, needs_auth, params = route
            verb = "GET" if method == "HEAD" else method
            if verb not in handlers:
                allow = ", ".join(sorted(handlers))
                raise ApiError(405, "method_not_allowed", f"{method} is not allowed on {path}", {"Allow": allow})
            if path.startswith("/api/"):
                self._throttle()
            auth_kind, who = self._authenticate(lowered.get("authorization", ""))
            if needs_auth and self.options.require_auth and who is None:
                self._deny(auth_kind)
            if verb in ("POST", "PUT", "PATCH") and path.startswith("/api/"):
                body = self._json_body(lowered.get("content-type", ""), raw)
            with self.state.lock:
                response = handlers[verb](query=query, body=body, raw=raw, headers=lowered, who=who,
                                          **params)
        except ApiError as exc:
            response = Response(exc.status, exc.body(), exc.headers)
        except Exception as exc:   # a bug in the demo must still answer like a server would
            response = Response(500, {"error": "internal", "message": f"{type(exc).__name__}: {exc}"})
        self.requests.append(RecordedRequest(method, path, query, response.status, auth_kind,
                                             body if path.startswith("/api/") else None))
        return response

    def _route(self, path: str) -> tuple[dict[str, Callable[..., Response]], bool, dict[str, str]] | None:
        for pattern, handlers, needs_auth in self._routes:
            match = pattern.fullmatch(path)
            if match:
                return handlers, needs_auth, match.groupdict()
        return None

    def _throttle(self) -> None:
        opts = self.options
        with self.state.lock:
            if self._fail_next:
                status = self._fail_next.pop(0)
                raise ApiError(status, "server_error", "injected fault")
            if opts.fail_rate and self._random.random() < opts.fail_rate:
                raise ApiError(opts.fail_status, "server_error", "injected fault")
            if opts.rate_limit:
                now = time.monotonic()
                while self._hits and now - self._hits[0] >= opts.rate_window:
                    self._hits.popleft()
                if len(self._hits) >= opts.rate_limit:
                    wait = max(1, math.ceil(opts.rate_window - (now - self._hits[0])))
                    raise ApiError(429, "rate_limited", f"more than {opts.rate_limit} requests in "
                                   f"{opts.rate_window:g} s", {"Retry-After": str(wait)}, retry_after=wait)
                self._hits.append(now)

    def _authenticate(self, header: str) -> tuple[str, str | None]:
        """(kind, agent id or account name); the id is None when the credentials are not valid."""
        scheme, _, value = header.strip().partition(" ")
        scheme, value = scheme.lower(), value.strip()
        opts = self.options
        if not scheme:
            return "none", None
        if scheme == "bearer":
            with self.state.lock:
                token = self.state.access_tokens.get(value)
            if token is None or token["revoked"]:
                return "invalid", None
            if token["expires"] <= opts.clock():
                return "expired", None
            return "bearer", token["user"]
        if scheme == "token":
            return ("token", "api-token") if secrets.compare_digest(value, opts.api_token) else ("invalid", None)
        if scheme == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return "invalid", None
            ok = secrets.compare_digest(user, opts.basic_user) and secrets.compare_digest(password, opts.basic_password)
            return ("basic", user) if ok else ("invalid", None)
        return "invalid", None

    def _deny(self, kind: str) -> None:
        if kind == "expired":
            raise ApiError(401, "invalid_token", "the access token expired",
                           {"WWW-Authenticate": 'Bearer realm="demo", error="invalid_token", '
                                                'error_description="The access token expired"'})
        if kind == "invalid":
            raise ApiError(401, "invalid_token", "the credentials are not valid",
                           {"WWW-Authenticate": 'Bearer realm="demo", error="invalid_token"'})
        raise ApiError(401, "unauthorized", "authentication required (Bearer, Token or Basic)",
                       {"WWW-Authenticate": 'Bearer realm="demo", Basic realm="demo"'})

    @staticmethod
    def _json_body(content_type: str, raw: bytes) -> Any:
        if not raw.strip():
            raise ApiError(400, "invalid_request", "a JSON request body is required")
        if "json" not in content_type.lower():
            raise ApiError(415, "unsupported_media_type",
                           f"send Content-Type: application/json (got {content_type or 'none'!r})")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "invalid_json", f"the request body is not valid JSON: {exc}") from None

    # -- paging -----------------------------------------------------------------------------------
    def _page(self, items: list[JSON], query: dict[str, list[str]], path: str) -> Response:
        page = _int_param(query, "page", 1, minimum=1)
        per_page = _int_param(query, "per_page", 20, minimum=1)
        if per_page > self.options.max_per_page:
            raise ApiError(400, "invalid_parameter", f"per_page must be at most {self.options.max_per_page}",
                           field="per_page")
        total = len(items)
        pages = max(1, math.ceil(total / per_page))
        chunk = items[(page - 1) * per_page: page * per_page]

        def link(n: int) -> str:
            params = {k: v[-1] for k, v in query.items() if k not in ("page", "per_page")}
            return f"{self.base_url}{path}?{urlencode({**params, 'page': n, 'per_page': per_page})}"

        return Response(200, {
            "data": chunk,
            "meta": {"page": page, "per_page": per_page, "total": total, "pages": pages},
            "links": {"self": link(page), "next": link(page + 1) if page < pages else None,
                      "prev": link(page - 1) if 1 < page <= pages + 1 else None},
        })

    # -- handlers ---------------------------------------------------------------------------------
    def _health(self, **_: Any) -> Response:
        return Response(200, {"status": "ok"})

    def _me(self, who: str | None, **_: Any) -> Response:
        agent = self.state.agents.get(who or "")
        return Response(200, agent or {"id": who, "account": who})

    def _list_agents(self, query: dict[str, list[str]], **_: Any) -> Response:
        return self._page(list(self.state.agents.values()), query, "/api/v1/agents")

    def _get_agent(self, aid: str, **_: Any) -> Response:
        return Response(200, self._find(self.state.agents, aid, "agent"))

    def _list_contacts(self, query: dict[str, list[str]], **_: Any) -> Response:
        items = list(self.state.contacts.values())
        phone = _str_param(query, "phone")
        if phone is not None:
            mode = _str_param(query, "match") or "exact"
            if mode not in ("exact", "digits", "suffix"):
                raise ApiError(400, "invalid_parameter", "match must be exact, digits or suffix", field="match")
            suffix = _int_param(query, "suffix", 9, minimum=4)
            if not phone.strip():
                raise ApiError(400, "invalid_parameter", "phone must not be empty", field="phone")
            items = [c for c in items
                     if any(phone_matches(c.get(f, ""), phone, mode, suffix) for f in CONTACT_PHONE_FIELDS)]
        text = _str_param(query, "q")
        if text:
            needle = text.casefold()
            items = [c for c in items if needle in " ".join(
                str(c.get(f, "")) for f in ("first_name", "last_name", "company", "email")).casefold()]
        email = _str_param(query, "email")
        if email:
            items = [c for c in items if c.get("email", "").casefold() == email.casefold()]
        return self._page(items, query, "/api/v1/contacts")

    def _get_contact(self, cid: str, **_: Any) -> Response:
        return Response(200, self._find(self.state.contacts, cid, "contact"))

    def _create_contact(self, body: Any, **_: Any) -> Response:
        data = _fields(body, {f: str for f in CONTACT_FIELDS})
        if not (data.get("first_name", "").strip() or data.get("last_name", "").strip()):
            raise ApiError(400, "validation_failed", "first_name or last_name is required", field="first_name")
        self._check_email(data.get("email", ""), None)
        contact = self.state.add_contact(data)
        return Response(201, contact, {"Location": f"{self.base_url}/api/v1/contacts/{contact['id']}"})

    def _update_contact(self, cid: str, body: Any, **_: Any) -> Response:
        contact = self._find(self.state.contacts, cid, "contact")
        data = _fields(body, {f: str for f in CONTACT_FIELDS})
        if "email" in data:
            self._check_email(data["email"], cid)
        contact.update(data)
        return Response(200, contact)

    def _check_email(self, email: str, own_id: str | None) -> None:
        if email and "@" not in email:
            raise ApiError(400, "validation_failed", f"not an e-mail address: {email!r}", field="email")
        for other in self.state.contacts.values():
            if email and other["id"] != own_id and other.get("email", "").casefold() == email.casefold():
                raise ApiError(409, "duplicate", f"a contact with e-mail {email} already exists",
                               existing_id=other["id"])

    def _list_tickets(self, query: dict[str, list[str]], **_: Any) -> Response:
        items = list(self.state.tickets.values())
        if (cid := _str_param(query, "contact_id")):
            items = [t for t in items if t["contact_id"] == cid]
        if (status := _str_param(query, "status")):
            items = [t for t in items if t["status"] in status.split(",")]
        return self._page(items, query, "/api/v1/tickets")

    def _ticket_fields(self, body: Any) -> JSON:
        data = _fields(body, {"subject": str, "description": str, "contact_id": (str, type(None)),
                              "assignee_id": (str, type(None)), "status": str, "priority": str})
        if "status" in data and data["status"] not in TICKET_STATUSES:
            raise ApiError(400, "validation_failed", f"status must be one of {', '.join(TICKET_STATUSES)}",
                           field="status")
        if "priority" in data and data["priority"] not in TICKET_PRIORITIES:
            raise ApiError(400, "validation_failed", f"priority must be one of {', '.join(TICKET_PRIORITIES)}",
                           field="priority")
        if data.get("contact_id") == "":
            data["contact_id"] = None
        if data.get("assignee_id") == "":
            data["assignee_id"] = None
        if data.get("contact_id") and data["contact_id"] not in self.state.contacts:
            raise ApiError(400, "validation_failed", f"unknown contact {data['contact_id']!r}", field="contact_id")
        if data.get("assignee_id") and data["assignee_id"] not in self.state.agents:
            raise ApiError(400, "validation_failed", f"unknown agent {data['assignee_id']!r}", field="assignee_id")
        return data

    def _create_ticket(self, body: Any, **_: Any) -> Response:
        data = self._ticket_fields(body)
        if not data.get("subject", "").strip():
            raise ApiError(400, "validation_failed", "subject is required", field="subject")
        ticket = self.state.add_ticket(data, self.options.clock())
        return Response(201, ticket, {"Location": f"{self.base_url}/api/v1/tickets/{ticket['id']}"})

    def _get_ticket(self, tid: str, **_: Any) -> Response:
        return Response(200, self._find_ticket(tid))

    def _update_ticket(self, tid: str, body: Any, **_: Any) -> Response:
        ticket = self._find_ticket(tid)
        data = self._ticket_fields(body)
        if "subject" in data and not data["subject"].strip():
            raise ApiError(400, "validation_failed", "subject must not be empty", field="subject")
        ticket.update(data, updated_at=_iso(self.options.clock()))
        return Response(200, ticket)

    def _find_ticket(self, tid: str) -> JSON:
        ticket = self.state.tickets.get(int(tid)) if tid.isdigit() else None
        if ticket is None:
            raise ApiError(404, "not_found", f"no ticket {tid}")
        return ticket

    @staticmethod
    def _find(table: dict[str, JSON], key: str, what: str) -> JSON:
        if key not in table:
            raise ApiError(404, "not_found", f"no {what} {key}")
        return table[key]

    def _journal_fields(self, body: Any) -> JSON:
        data = _fields(body, JOURNAL_FIELDS)
        if not (data.get("body", "").strip() or data.get("subject", "").strip()):
            raise ApiError(400, "validation_failed", "body or subject is required", field="body")
        if "duration_seconds" in data and data["duration_seconds"] < 0:
            raise ApiError(400, "validation_failed", "duration_seconds must not be negative",
                           field="duration_seconds")
        return data

    def _list_contact_journal(self, cid: str, query: dict[str, list[str]], **_: Any) -> Response:
        self._find(self.state.contacts, cid, "contact")
        items = [e for e in self.state.journal if e["contact_id"] == cid]
        return self._page(items, query, f"/api/v1/contacts/{cid}/journal")

    def _add_contact_journal(self, cid: str, body: Any, **_: Any) -> Response:
        self._find(self.state.contacts, cid, "contact")
        entry = self.state.add_entry("contact", cid, self._journal_fields(body), self.options.clock())
        return Response(201, entry)

    def _list_ticket_journal(self, tid: str, query: dict[str, list[str]], **_: Any) -> Response:
        ticket = self._find_ticket(tid)
        items = [e for e in self.state.journal if e["ticket_id"] == ticket["id"]]
        return self._page(items, query, f"/api/v1/tickets/{tid}/journal")

    def _add_ticket_journal(self, tid: str, body: Any, **_: Any) -> Response:
        ticket = self._find_ticket(tid)
        entry = self.state.add_entry("ticket", ticket["id"], self._journal_fields(body), self.options.clock())
        entry["contact_id"] = ticket["contact_id"]
        return Response(201, entry)

    # -- OAuth2 -----------------------------------------------------------------------------------
    def _redirect_allowed(self, uri: str) -> bool:
        """Registered URIs match exactly; on loopback hosts any port is accepted (RFC 8252 7.3)."""
        if uri in self.options.redirect_uris:
            return True
        got = urlsplit(uri)
        for registered in self.options.redirect_uris:
            want = urlsplit(registered)
            if (got.scheme, got.hostname, got.path) == (want.scheme, want.hostname, want.path) \
                    and got.hostname in ("127.0.0.1", "::1", "localhost") and not got.query:
                return True
        return False

    def _authorize(self, query: dict[str, list[str]], **_: Any) -> Response:
        opts = self.options
        client_id = _str_param(query, "client_id") or ""
        if client_id != opts.client_id:
            raise OAuthError(400, "invalid_client", f"unknown client_id {client_id!r}")
        redirect_uri = _str_param(query, "redirect_uri") or opts.redirect_uris[0]
        if not self._redirect_allowed(redirect_uri):
            raise OAuthError(400, "invalid_request", f"redirect_uri {redirect_uri!r} is not registered")
        state = _str_param(query, "state")

        def back(**params: str) -> Response:
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            return Response(302, None, {"Location": f"{redirect_uri}{sep}{urlencode(params)}"})

        if _str_param(query, "response_type") != "code":
            return back(error="unsupported_response_type")
        scope = _str_param(query, "scope") or " ".join(SCOPES)
        if any(s not in SCOPES for s in scope.split()):
            return back(error="invalid_scope")
        challenge = _str_param(query, "code_challenge")
        method = _str_param(query, "code_challenge_method") or ("S256" if challenge else None)
        if challenge and method != "S256":
            return back(error="invalid_request", error_description="only code_challenge_method=S256 is supported")
        if opts.pkce_required and not challenge:
            return back(error="invalid_request", error_description="PKCE is required (code_challenge)")
        code = secrets.token_urlsafe(24)
        self.state.codes[code] = {"client_id": client_id, "redirect_uri": _str_param(query, "redirect_uri"),
                                  "challenge": challenge, "scope": scope, "user": "a1",
                                  "expires": opts.clock() + opts.code_ttl, "used": False, "tokens": []}
        return back(code=code)

    def _client(self, form: dict[str, list[str]], headers: dict[str, str]) -> str:
        opts = self.options
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                cid, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                cid, secret = "", ""
        else:
            cid, secret = _str_param(form, "client_id") or "", _str_param(form, "client_secret") or ""
        if not (secrets.compare_digest(cid, opts.client_id) and secrets.compare_digest(secret, opts.client_secret)):
            raise OAuthError(401, "invalid_client", "client authentication failed",
                             {"WWW-Authenticate": 'Basic realm="demo"'})
        return cid

    def _token(self, raw: bytes, headers: dict[str, str], **_: Any) -> Response:
        if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
            raise OAuthError(400, "invalid_request", "send the form as application/x-www-form-urlencoded")
        form = parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
        client_id = self._client(form, headers)
        grant = _str_param(form, "grant_type")
        now = self.options.clock()
        if grant == "authorization_code":
            code = self.state.codes.get(_str_param(form, "code") or "")
            if code is None or code["client_id"] != client_id or code["expires"] <= now:
                raise OAuthError(400, "invalid_grant", "unknown or expired authorization code")
            if code["used"]:
                for access in code["tokens"]:   # RFC 6749 4.1.2: revoke what the code gave
                    self._revoke_access(access)
                raise OAuthError(400, "invalid_grant", "the authorization code was already used")
            if code["redirect_uri"] is not None and _str_param(form, "redirect_uri") != code["redirect_uri"]:
                raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request")
            verifier = _str_param(form, "code_verifier")
            if code["challenge"]:
                if not verifier:
                    raise OAuthError(400, "invalid_request", "code_verifier is required (PKCE)")
                if _pkce_s256(verifier) != code["challenge"]:
                    raise OAuthError(400, "invalid_grant", "code_verifier does not match the code_challenge")
            code["used"] = True
            tokens = self._new_tokens(client_id, code["user"], code["scope"])
            code["tokens"].append(tokens["access_token"])
        elif grant == "refresh_token":
            value = _str_param(form, "refresh_token") or ""
            refresh = self.state.refresh_tokens.get(value)
            if refresh is None or refresh["client_id"] != client_id or refresh["revoked"]:
                raise OAuthError(400, "invalid_grant", "unknown, used or revoked refresh token")
            tokens = self._new_tokens(client_id, refresh["user"], refresh["scope"],
                                      refresh_token=None if self.options.rotate_refresh_tokens else value)
            if self.options.rotate_refresh_tokens:
                refresh["revoked"] = True
                self._revoke_access(refresh["access_token"])
            else:
                refresh["access_token"] = tokens["access_token"]
        elif not grant:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        else:
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
        return Response(200, tokens, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _new_tokens(self, client_id: str, user: str, scope: str, ttl: int | None = None,
                    refresh_token: str | None = None) -> JSON:
        ttl = self.options.token_ttl if ttl is None else ttl
        access = secrets.token_urlsafe(24)
        refresh = refresh_token or secrets.token_urlsafe(32)
        self.state.access_tokens[access] = {"user": user, "scope": scope, "client_id": client_id,
                                            "expires": self.options.clock() + ttl, "revoked": False}
        self.state.refresh_tokens.setdefault(refresh, {"user": user, "scope": scope, "client_id": client_id,
                                                       "revoked": False})["access_token"] = access
        return {"access_token": access, "token_type": "Bearer", "expires_in": ttl,
                "refresh_token": refresh, "scope": scope}

    def _revoke_access(self, access: str) -> None:
        if access in self.state.access_tokens:
            self.state.access_tokens[access]["revoked"] = True

    def _revoke(self, raw: bytes, headers: dict[str, str], **_: Any) -> Response:
        form = parse_qs(raw.decode(errors="replace"))
        self._client(form, headers)
        token = _str_param(form, "token") or ""
        self._revoke_access(token)
        if token in self.state.refresh_tokens:
            self.state.refresh_tokens[token]["revoked"] = True
            self._revoke_access(self.state.refresh_tokens[token]["access_token"])
        return Response(200, {})   # RFC 7009: 200 also for unknown tokens


def _str_param(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int_param(query: dict[str, list[str]], name: str, default: int, minimum: int) -> int:
    value = _str_param(query, name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < minimum:
        raise ApiError(400, "invalid_parameter", f"{name} must be an integer >= {minimum}, got {value!r}",
                       field=name)
    return int(value)


def _fields(body: Any, allowed: dict[str, Any]) -> JSON:
    """Validate a JSON object against allowed field names and types; 400 on anything else."""
    if not isinstance(body, dict):
        raise ApiError(400, "validation_failed", "the request body must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(400, "validation_failed", f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
    for name, value in body.items():
        kinds = allowed[name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is int):
            expected = " or ".join(k.__name__ for k in (kinds if isinstance(kinds, tuple) else (kinds,)))
            raise ApiError(400, "validation_failed", f"{name} must be {expected.replace('NoneType', 'null')}",
                           field=name)
    return dict(body)
