"""Keep secrets out of traces, logs and "copy as curl".

Two nets catch a secret:

* by **name**: headers such as ``Authorization`` and JSON keys, form fields
  and query parameters whose name says "password", "secret", "token",
  "api key", ... have their values replaced;
* by **value**: every secret the integration knows (password-type custom
  fields, client secret, access and refresh tokens, the Basic credential) is
  registered in a :class:`SecretRegistry`; any occurrence of it, also
  URL-encoded, JSON-escaped or Base64-encoded, is replaced wherever it shows
  up (URL paths, bodies, error messages).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import weakref
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"

SENSITIVE_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey",
    "x-auth-token", "x-access-token", "private-token", "x-csrftoken", "x-rt-token",
})
_SENSITIVE_NAME = re.compile(
    r"pass(word|wd)?$|passwd|password|pwd$|secret|token|api[_-]?key|apikey|authorization|credential"
    r"|cookie|signature|private[_-]?key|session[_-]?id|^code$|code[_-]?verifier|^assertion$",
    re.IGNORECASE,
)
# Shorter values are not redacted by value (a 2-character "secret" would mask
# half of every trace); they are still caught by name.
MIN_SECRET_LENGTH = 4


# Names that look sensitive but describe a secret rather than hold one.
_NOT_SECRET = frozenset({"token_type", "tokentype", "token_endpoint", "tokenendpoint", "token_type_hint"})


def sensitive_name(name: str) -> bool:
    """True when a header, field or parameter called *name* holds a secret."""
    lowered = name.lower()
    if lowered in _NOT_SECRET:
        return False
    return lowered in SENSITIVE_HEADERS or bool(_SENSITIVE_NAME.search(name))


class SecretRegistry:
    """The secret values of one integration; thread-safe, grows as tokens arrive."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        """Register *value* and the encodings it may appear in."""
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        raw = value.encode()
        forms.add(base64.b64encode(raw).decode().rstrip("="))
        with self._lock:
            before = len(self._forms)
            self._forms.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)
            if len(self._forms) != before:
                ordered = sorted(self._forms, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(f) for f in ordered))

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and value in self._forms

    def __len__(self) -> int:
        return len(self._forms)

    def __iter__(self):
        """Every registered form (for redactors that take a plain list, such as the history export)."""
        with self._lock:
            return iter(sorted(self._forms))

    def redact(self, text: str) -> str:
        """Replace every registered secret in *text* by ``***``."""
        pattern = self._pattern
        if not text or pattern is None:
            return text
        return pattern.sub(MASK, text)


class Redactor:
    """Redacts URLs, headers and bodies by name and by value."""

    def __init__(self, secrets: SecretRegistry | None = None, extra_names: Iterable[str] = ()) -> None:
        self.secrets = secrets if secrets is not None else SecretRegistry()
        self.extra_names = frozenset(n.lower() for n in extra_names)

    def is_sensitive(self, name: str) -> bool:
        return name.lower() in self.extra_names or sensitive_name(name)

    def text(self, text: str) -> str:
        return self.secrets.redact(text)

    def message(self, text: str) -> str:
        """An error message or note: secrets by value, secret-named pairs and URL credentials masked."""
        return redact_by_name(self.secrets.redact(text))

    def url(self, url: str) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:  # not a URL Python can split (e.g. "http://[::1"): still mask what it may hold
            head, sep, query = url.partition("?")
            head = re.sub(r"//[^/?#]*@", f"//{MASK}@", head)
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(self.is_sensitive(k) for k, _ in pairs):
                query = urlencode([(k, MASK if self.is_sensitive(k) else v) for k, v in pairs], safe="*")
            return self.text(head + sep + query)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rpartition("@")[2]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(self.is_sensitive(k) for k, _ in pairs):
                query = urlencode([(k, MASK if self.is_sensitive(k) else v) for k, v in pairs], safe="*")
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for name, value in headers:
            if self.is_sensitive(name):
                scheme, _, rest = value.partition(" ")
                value = f"{scheme} {MASK}" if rest and name.lower() in ("authorization", "proxy-authorization") else MASK
            out.append((name, self.text(value)))
        return out

    def body(self, body: str, content_type: str = "") -> str:
        """Redact a request or response body (JSON, form-encoded or plain text)."""
        if not body:
            return body
        stripped = body.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                return self.text(json.dumps(self._json(json.loads(body)), ensure_ascii=False))
            except (ValueError, RecursionError):  # not JSON, or nested too deeply to walk: redact as text
                pass
        if "x-www-form-urlencoded" in content_type.lower():
            pairs = parse_qsl(body, keep_blank_values=True)
            return self.text(urlencode([(k, MASK if self.is_sensitive(k) else v) for k, v in pairs], safe="*"))
        return self.text(body)

    def _json(self, value):
        if isinstance(value, dict):
            return {k: (MASK if self.is_sensitive(str(k)) and isinstance(v, (str, int, float)) and v != ""
                        else self._json(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._json(v) for v in value]
        return value


# -- logging ---------------------------------------------------------------------------------
#
# One filter keeps secrets out of every log record deskline and its libraries write: the
# secrets of every live integration and PBX connection (by value) plus ``name=value`` and
# ``"name": "value"`` pairs whose name says secret, and ``user:password@`` in URLs.

_LIVE: weakref.WeakSet[SecretRegistry] = weakref.WeakSet()
_PAIR = re.compile(r"""(?P<key>[A-Za-z_][\w-]*)(?P<sep>=|["']\s*:\s*["']?)(?P<value>[^&\s"',}\]]+)""")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][\w+.-]*://)[^/\s@]+@")


def register_secrets(registry: SecretRegistry) -> SecretRegistry:
    """Have log records redacted with *registry* for as long as it is alive."""
    _LIVE.add(registry)
    return registry


def redact_text(text: str) -> str:
    """*text* without the live secrets, secret-named pairs or URL credentials (for logs)."""
    if not text:
        return text
    for registry in list(_LIVE):
        text = registry.redact(text)
    return redact_by_name(text)


def redact_by_name(text: str) -> str:
    """*text* with the values of secret-named pairs and URL credentials masked (no registry needed)."""
    text = _PAIR.sub(lambda m: m["key"] + m["sep"] + MASK if sensitive_name(m["key"]) and m["value"] != MASK
                     else m[0], text)
    return _USERINFO.sub(lambda m: m["scheme"] + MASK + "@", text)


class LogRedaction(logging.Filter):
    """Replaces a record's message by its redacted text (exception text included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's to report, with its args dropped
            message = str(record.msg)
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


LOG_REDACTION = LogRedaction()

# Logger filters do not see records of child loggers, so every logger that writes is named.
REDACTED_LOGGERS = (
    "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
    "httpcore.socks", "websockets", "websockets.client", "websockets.server", "websockets.protocol",
    "deskline", "deskline.http", "deskline.pbx", "deskline.pbx.websocket", "deskline.pbx.simulator",
    "deskline.console", "deskline.auth", "engine.outbox",
)


def redacted_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with :data:`LOG_REDACTION` on it."""
    logger = logging.getLogger(name)
    if LOG_REDACTION not in logger.filters:
        logger.addFilter(LOG_REDACTION)
    return logger


for _name in REDACTED_LOGGERS:
    redacted_logger(_name)
