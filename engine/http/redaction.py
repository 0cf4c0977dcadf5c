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
import re
import threading
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
