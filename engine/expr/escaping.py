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
* ``form``: an ``application/x-www-form-urlencoded`` body: every value is
  percent-encoded like a query value, so ``&`` or ``=`` in it cannot add a field.

Error messages never quote the value (it may be a token or a password).
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

CONTEXTS = ("text", "json", "url", "header", "gjson", "form")


class EscapeError(Exception):
    """A value cannot be placed safely; the renderer adds the location."""


class Escaper:
    """How one destination escapes values.  The state lives in the render state (``st.estate``).

    ``STATES`` are the possible states (0 is the start); ``scan`` moves a state
    over literal text; ``value`` escapes one printed value for ``st.estate``
    and updates it.
    """

    STATES: tuple = (0,)

    @staticmethod
    def scan(s: str, state: int) -> int:
        return state

    @staticmethod
    def value(st, s: str) -> str:
        return s


_JSON_OUT, _JSON_IN, _JSON_ESC = 0, 1, 2
_JSON_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


def _json_scan(s: str, state: int) -> int:
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


def _json_value(st, s: str) -> str:
    if type(s) is RawString:
        st.estate = _json_scan(s, st.estate)
        return s
    if st.estate == _JSON_OUT:
        if _JSON_SCALAR.fullmatch(s):
            return s
        return json.dumps(s, ensure_ascii=False)
    st.estate = _JSON_IN
    if '"' not in s and "\\" not in s and s.isprintable():
        return s
    return json.dumps(s, ensure_ascii=False)[1:-1]


class JsonEscaper(Escaper):
    STATES = (_JSON_OUT, _JSON_IN, _JSON_ESC)
    scan = staticmethod(_json_scan)
    value = staticmethod(_json_value)


_URL_START, _URL_HOST, _URL_PATH, _URL_QUERY, _URL_FRAGMENT = range(5)
PATH_SAFE = "-_.~!$'()*,;=:@"
QUERY_SAFE = "-_.~"


def _url_scan(s: str, state: int) -> int:
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


def _url_value(st, s: str) -> str:
    if isinstance(s, SafeString):
        st.estate = _url_scan(s, st.estate)
        return s
    state = st.estate
    if state <= _URL_HOST:
        if any(c.isspace() for c in s):
            raise EscapeError("the value contains whitespace and is inserted before the URL path "
                              "(scheme/host/port); use UrlEncode, or raw to insert it unchanged")
        st.estate = _url_scan(s, state)
        return s
    if state == _URL_PATH:
        if s in (".", ".."):  # a dot segment would move up the path
            return s.replace(".", "%2E")
        return quote(s.encode("utf-8", "surrogateescape"), safe=PATH_SAFE)
    return quote(s.encode("utf-8", "surrogateescape"), safe=QUERY_SAFE)


class UrlEscaper(Escaper):
    STATES = (_URL_START, _URL_HOST, _URL_PATH, _URL_QUERY, _URL_FRAGMENT)
    scan = staticmethod(_url_scan)
    value = staticmethod(_url_value)


def _form_value(st, s: str) -> str:
    if isinstance(s, SafeString):  # raw, or already encoded (UrlEncode, urlquery, ...)
        return s
    return quote(s.encode("utf-8", "surrogateescape"), safe=QUERY_SAFE)


class FormEscaper(Escaper):
    value = staticmethod(_form_value)


def _header_value(st, s: str) -> str:
    if "\r" in s or "\n" in s:
        raise EscapeError("the value contains CR or LF, which a header cannot carry")
    return s


class HeaderEscaper(Escaper):
    value = staticmethod(_header_value)


def _gjson_value(st, s: str) -> str:
    if type(s) is RawString:
        return s
    if "\\" in s or '"' in s:
        return s.replace("\\", "\\\\").replace('"', '\\"')
    return s


class GjsonEscaper(Escaper):
    value = staticmethod(_gjson_value)


ESCAPERS = {"text": None, "json": JsonEscaper, "url": UrlEscaper, "header": HeaderEscaper, "gjson": GjsonEscaper,
            "form": FormEscaper}
