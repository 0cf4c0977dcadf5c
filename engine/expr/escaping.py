"""Escaping of substituted values by destination ("context").

The state of the destination (inside a JSON string or not; before the URL
path, in the path, in the query) is followed through the text emitted so far
by a tiny state machine.  Template text moves the state; values are escaped
for the state they land in, so they cannot change it.

* ``text``: nothing is escaped.
* ``json``: inside a string literal a value is escaped as string content; outside
  one it is inserted as is when it is a JSON scalar (number, ``true``,
  ``false``, ``null``), otherwise as a quoted JSON string.
* ``url``: before the path (scheme, host, port) a value is inserted as is but may
  not contain whitespace; in the path it is percent-encoded as one segment
  (``/`` too); in the query and fragment everything but RFC 3986 unreserved
  characters is percent-encoded (``+`` -> ``%2B``, space -> ``%20``).
  Output of ``UrlEncode``, ``urlquery``, ``js``, ``html`` and ``raw`` is not
  encoded again.
* ``header``: a value containing CR or LF is an error.
* ``gjson``: ``"`` and ``\\`` are backslash-escaped (a GJSON string literal).

``raw`` values (:class:`~engine.expr.functions.RawString`) are inserted as is in
every context except ``header``, where CR/LF is still refused.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from .functions import RawString
from .values import SafeString

CONTEXTS = ("text", "json", "url", "header", "gjson")


class EscapeError(Exception):
    """A value cannot be placed safely; the renderer adds the location."""


class Escaper:
    """Per-render escaping state for one destination."""

    __slots__ = ("state",)
    initial = 0
    _cache: dict = {}

    def __init__(self) -> None:
        self.state = self.initial

    def text(self, s: str) -> None:
        key = (s, self.state)
        cache = self._cache
        st = cache.get(key)
        if st is None:
            st = self.scan(s, self.state)
            if len(cache) > 20000:
                cache.clear()
            cache[key] = st
        self.state = st

    def scan(self, s: str, state: int) -> int:
        return state

    def value(self, s: str) -> str:
        return s


_JSON_OUT, _JSON_IN, _JSON_ESC = 0, 1, 2
_JSON_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


class JsonEscaper(Escaper):
    __slots__ = ()
    _cache: dict = {}

    def scan(self, s: str, state: int) -> int:
        if state == _JSON_OUT and '"' not in s:
            return state
        for c in s:
            if state == _JSON_OUT:
                if c == '"':
                    state = _JSON_IN
            elif state == _JSON_IN:
                if c == "\\":
                    state = _JSON_ESC
                elif c == '"':
                    state = _JSON_OUT
            else:
                state = _JSON_IN
        return state

    def value(self, s: str) -> str:
        if type(s) is RawString:
            self.state = self.scan(s, self.state)
            return s
        if self.state == _JSON_OUT:
            if _JSON_SCALAR.fullmatch(s):
                return s
            return json.dumps(s, ensure_ascii=False)
        self.state = _JSON_IN
        if s.isalnum() or s == "":
            return s
        return json.dumps(s, ensure_ascii=False)[1:-1]


_URL_START, _URL_HOST, _URL_PATH, _URL_QUERY, _URL_FRAGMENT = range(5)
PATH_SAFE = "-_.~!$'()*,;=:@"
QUERY_SAFE = "-_.~"


class UrlEscaper(Escaper):
    __slots__ = ()
    _cache: dict = {}

    def scan(self, s: str, state: int) -> int:
        i, n = 0, len(s)
        while i < n:
            c = s[i]
            if state == _URL_START and c == ":" and s.startswith("//", i + 1):
                state = _URL_HOST
                i += 3
                continue
            if c == "#" and state != _URL_FRAGMENT:
                state = _URL_FRAGMENT
            elif c == "?" and state < _URL_QUERY:
                state = _URL_QUERY
            elif c == "/" and state < _URL_PATH:
                state = _URL_PATH
            i += 1
        return state

    def value(self, s: str) -> str:
        if isinstance(s, SafeString):
            self.state = self.scan(s, self.state)
            return s
        st = self.state
        if st <= _URL_HOST:
            if any(c.isspace() for c in s):
                raise EscapeError(f"value {s!r} contains whitespace and is inserted before the URL path "
                                  "(scheme/host/port)")
            self.state = self.scan(s, st)
            return s
        b = s.encode("utf-8", "surrogateescape")
        return quote(b, safe=PATH_SAFE if st == _URL_PATH else QUERY_SAFE)


class HeaderEscaper(Escaper):
    __slots__ = ()

    def value(self, s: str) -> str:
        if "\r" in s or "\n" in s:
            raise EscapeError(f"value {s!r} contains CR or LF, which is not allowed in a header")
        return s


class GjsonEscaper(Escaper):
    __slots__ = ()

    def value(self, s: str) -> str:
        if type(s) is RawString:
            return s
        if "\\" in s or '"' in s:
            return s.replace("\\", "\\\\").replace('"', '\\"')
        return s


ESCAPERS = {"json": JsonEscaper, "url": UrlEscaper, "header": HeaderEscaper, "gjson": GjsonEscaper}
