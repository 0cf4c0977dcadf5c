"""Template functions: Go's builtins and the PBX's own (TimeFormat, ToMillis, Capitalize, UrlEncode).

A function is described by :class:`Function`: the callable plus the Go
parameter kinds, so arguments are checked and converted the way Go's
``text/template`` does it before the call.  Parameter kinds:

* ``"value"``: any value, as Go's ``reflect.Value`` parameters (nil allowed; ``None``)
* ``"any"``: ``interface{}`` (the same for us)
* ``"string"``: a Go ``string``; anything else is an exec error.

Builtins ported from Go's ``text/template/funcs.go`` (BSD-3-Clause, Copyright
2011 The Go Authors).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from .gofmt import sprint, sprintf, sprintln
from .values import MISSING, Byte, SafeString, format_value, go_len, go_type_name, is_true


class FuncError(Exception):
    """Raised by a template function: becomes ``error calling NAME: message``."""


class RawString(SafeString):
    """Output of ``raw``: inserted as is in every destination."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Function:
    """A template function: *fn* plus Go parameter kinds (see the module docstring).

    *variadic* is the kind of the trailing ``...`` parameter, or None.  *fn*
    receives the converted arguments and returns the result; it raises
    :class:`FuncError` (or any exception) to fail with ``error calling NAME``.
    """

    fn: Callable
    params: tuple = ()
    variadic: str | None = None
    needs_tz: bool = False  # called with tz=<the PBX time zone of the render>


# ------------------------------------------------------------ comparison

_BAD_CMP = "invalid type for comparison"


def _basic_kind(v):
    if v is None or v is MISSING:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Byte):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, complex):
        return "complex"
    if isinstance(v, str):
        return "string"
    return "other"


def _eq(a, *bs):
    if not bs:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(a)
    for b in bs:
        k2 = _basic_kind(b)
        truth = False
        if k1 != k2:
            if {k1, k2} == {"int", "uint"}:
                truth = int(a) == int(b)
            elif k1 not in ("invalid",) and k2 not in ("invalid",):
                raise FuncError(f"incompatible types for comparison: {go_type_name(a)} and {go_type_name(b)}")
        elif k1 in ("bool", "complex", "float", "int", "string", "uint"):
            truth = a == b
        elif k1 == "invalid":
            truth = True
        else:  # slices, maps: not comparable
            raise FuncError(f"non-comparable type {format_value(b)}: {go_type_name(b)}")
        if truth:
            return True
    return False


def _lt(a, b):
    k1 = _basic_kind(a)
    if k1 in ("invalid", "other"):
        raise FuncError(_BAD_CMP)
    k2 = _basic_kind(b)
    if k2 in ("invalid", "other"):
        raise FuncError(_BAD_CMP)
    if k1 != k2:
        if {k1, k2} == {"int", "uint"}:
            return int(a) < int(b)
        raise FuncError(f"incompatible types for comparison: {go_type_name(a)} and {go_type_name(b)}")
    if k1 in ("bool", "complex"):
        raise FuncError(_BAD_CMP)
    return a < b


def _le(a, b):
    return _lt(a, b) or _eq(a, b)


def _ne(a, b):
    return not _eq(a, b)


def _gt(a, b):
    return not _le(a, b)


def _ge(a, b):
    return not _lt(a, b)


# ------------------------------------------------------------ collections

def _index_arg(i, cap: int) -> int:
    if i is None or i is MISSING:
        raise FuncError("cannot index slice/array with nil")
    if isinstance(i, bool) or not isinstance(i, int):
        raise FuncError(f"cannot index slice/array with type {go_type_name(i)}")
    if i < 0 or i > cap:
        raise FuncError(f"index out of range: {i}")
    return int(i)


def _index(item, *indexes):
    if item is None:
        raise FuncError("index of untyped nil")
    for ix in indexes:
        if item is None:
            raise FuncError("index of nil pointer")
        if isinstance(item, str):
            b = item.encode("utf-8", "surrogateescape")
            x = _index_arg(ix, len(b))
            if x == len(b):
                raise FuncError("reflect: string index out of range")
            item = Byte(b[x])
        elif isinstance(item, (list, tuple)):
            x = _index_arg(ix, len(item))
            if x == len(item):
                raise FuncError("reflect: slice index out of range")
            item = item[x]
        elif isinstance(item, Mapping):
            if ix is None or ix is MISSING:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(ix, str):
                raise FuncError(f"value has type {go_type_name(ix)}; should be string")
            item = item.get(ix)
        else:
            raise FuncError(f"can't index item of type {go_type_name(item)}")
    return item


def _go_cap(n: int) -> int:
    """Capacity of a slice decoded by encoding/json (grown by append)."""
    if n == 0:
        return 0
    c = 1
    while c < n:
        c *= 2
    return c


class _Slice(list):
    """A sliced list that remembers Go's capacity."""

    __slots__ = ("cap",)


def _slice(item, *indexes):
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        b = item.encode("utf-8", "surrogateescape")
        cap = length = len(b)
    elif isinstance(item, (list, tuple)):
        length = len(item)
        cap = getattr(item, "cap", None) or _go_cap(length)
    else:
        raise FuncError(f"can't slice item of type {go_type_name(item)}")
    idx = [0, length, 0]
    for i, ix in enumerate(indexes):
        idx[i] = _index_arg(ix, cap)
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
    if isinstance(item, str):
        return b[idx[0]:idx[1]].decode("utf-8", "surrogateescape")
    if idx[1] > length:
        raise FuncError(f"slice bounds out of range [:{idx[1]}] with length {length}")
    out = _Slice(item[idx[0]:idx[1]])
    out.cap = (idx[2] if len(indexes) == 3 else cap) - idx[0]
    return out


def _len(item):
    if item is None or item is MISSING:
        raise FuncError("len of nil pointer")
    if isinstance(item, (str, list, tuple, Mapping)):
        return go_len(item)
    raise FuncError(f"len of type {go_type_name(item)}")


def _call(fn, *args):
    if fn is None:
        raise FuncError("call of nil")
    raise FuncError(f"non-function of type {go_type_name(fn)}")


def _not(v):
    return not is_true(v)


# ------------------------------------------------------------ escapers

def _eval_args(args) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(["<no value>" if a is None or a is MISSING else a for a in args])


def html_escape(s: str) -> str:
    """Go's ``template.HTMLEscapeString``."""
    if not any(c in s for c in "'\"&<>\0"):
        return s
    return (s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("\0", "\ufffd"))


_JS_SPECIAL = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def js_escape(s: str) -> str:
    """Go's ``template.JSEscapeString``."""
    out = []
    for c in s:
        o = ord(c)
        if c in _JS_SPECIAL:
            out.append(_JS_SPECIAL[c])
        elif o < 0x20:
            out.append(f"\\u00{o:02X}")
        elif o < 0x80 or c == " " or c.isprintable():
            out.append(c)
        else:
            out.append(f"\\u{o:04X}")
    return "".join(out)


def query_escape(s: str) -> str:
    """Go's ``url.QueryEscape``: space becomes ``+``."""
    return quote(s.encode("utf-8", "surrogateescape"), safe=" -_.~").replace(" ", "+")


def _html(*args):
    return SafeString(html_escape(_eval_args(args)))


def _js(*args):
    return SafeString(js_escape(_eval_args(args)))


def _urlquery(*args):
    return SafeString(query_escape(_eval_args(args)))


def _print(*args):
    return sprint(args)


def _println(*args):
    return sprintln(args)


def _printf(fmt, *args):
    return sprintf(fmt, args)


V = "value"
A = "any"
S = "string"

BUILTINS: dict[str, Function] = {
    "and": Function(None, (V,), V),
    "or": Function(None, (V,), V),
    "call": Function(_call, (V,), V),
    "html": Function(_html, (), A),
    "index": Function(_index, (V,), V),
    "slice": Function(_slice, (V,), V),
    "js": Function(_js, (), A),
    "len": Function(_len, (V,)),
    "not": Function(_not, (V,)),
    "print": Function(_print, (), A),
    "printf": Function(_printf, (S,), A),
    "println": Function(_println, (), A),
    "urlquery": Function(_urlquery, (), A),
    "eq": Function(_eq, (V,), V),
    "ge": Function(_ge, (V, V)),
    "gt": Function(_gt, (V, V)),
    "le": Function(_le, (V, V)),
    "lt": Function(_lt, (V, V)),
    "ne": Function(_ne, (V, V)),
}


# ------------------------------------------------------------ PBX functions

def pbx_text(v) -> str:
    """A value as PBX-dialect text: missing/nil is empty, numbers as Go prints them."""
    if v is None or v is MISSING:
        return ""
    if isinstance(v, str):
        return v
    return format_value(v)


_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def _unix_seconds(v, fname: str) -> int | None:
    n = _parse_seconds(v, fname)
    if n is not None and not -_MAX_SECONDS <= n <= _MAX_SECONDS:
        raise FuncError(f"timestamp out of range: {n}")
    return n


def _parse_seconds(v, fname: str) -> int | None:
    if v is None or v is MISSING:
        return None
    if isinstance(v, bool):
        raise FuncError(f"not a Unix timestamp: {format_value(v)}")
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float) and v == v and v not in (float("inf"), float("-inf")):
        return int(v)
    s = pbx_text(v).strip()
    if s == "":
        return None
    if re.fullmatch(r"[+-]?\d+", s):
        return int(s)
    if re.fullmatch(r"[+-]?\d+\.\d*", s):
        return int(float(s))
    raise FuncError(f"not a Unix timestamp: {s!r}")


def to_millis(ts) -> str:
    """``ToMillis ts``: Unix seconds (int or digit string) times 1000, as digits."""
    n = _unix_seconds(ts, "ToMillis")
    return "" if n is None else str(n * 1000)


def capitalize(s) -> str:
    """``Capitalize s``: the first character upper-cased (one-to-one mapping), the rest unchanged."""
    s = pbx_text(s)
    if not s:
        return s
    up = s[0].upper()
    if len(up) != 1:
        up = s[0].title() if len(s[0].title()) == 1 else s[0]
    return up + s[1:]


def url_encode(s) -> str:
    """``UrlEncode s``: percent-encode all but RFC 3986 unreserved characters (space -> %20)."""
    return SafeString(quote(pbx_text(s).encode("utf-8", "surrogateescape"), safe="-_.~"))


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_LAYOUT_TOKEN = re.compile(r"'([^']*)'|Zz|(y+|M+|d+|H+|h+|m+|s+|S+|a+|Z+|z+|X+|E+)")


def resolve_timezone(tz) -> _dt.tzinfo | None:
    """A tzinfo from a zone name (``Europe/Berlin``), ``"UTC"``, a tzinfo, or None (the host's zone)."""
    if tz is None or isinstance(tz, _dt.tzinfo):
        return tz
    if isinstance(tz, str):
        if tz.upper() in ("UTC", "Z"):
            return _dt.timezone.utc
        from zoneinfo import ZoneInfo
        return ZoneInfo(tz)
    raise TypeError(f"not a time zone: {tz!r}")


def time_format(ts, layout, *rest, tz=None) -> str:
    """``TimeFormat ts layout utc``: format Unix seconds with Java-style tokens.

    Tokens: ``yyyy yy MM M MMM MMMM dd d HH H hh h mm m ss s SSS a EEE EEEE``;
    zones ``Z`` (+0000), ``z`` (UTC or the abbreviation), ``Zz``/``XXX`` (``Z``
    at UTC, else +hh:mm), ``X`` (+hh), ``XX`` (+hhmm).  ``'...'`` quotes
    literal text; other characters are literal.  *utc* ``"1"`` formats in UTC,
    anything else in the PBX zone *tz* (default: the host's).  A missing or
    empty *ts* gives an empty string.
    """
    if len(rest) > 1:
        raise FuncError(f"TimeFormat takes 2 or 3 arguments, got {2 + len(rest)}")
    utc = rest[0] if rest else None
    n = _unix_seconds(ts, "TimeFormat")
    if n is None:
        return ""
    layout = pbx_text(layout)
    if utc == "1" or pbx_text(utc).strip() == "1":
        t = _EPOCH + _dt.timedelta(seconds=n)
    else:
        zone = resolve_timezone(tz)
        t = _dt.datetime.fromtimestamp(n, zone) if zone else _dt.datetime.fromtimestamp(n).astimezone()
    off = t.utcoffset() or _dt.timedelta(0)
    secs = int(off.total_seconds())
    sign = "-" if secs < 0 else "+"
    hh, mm = divmod(abs(secs) // 60, 60)
    out = []
    for seg in _layout(layout):
        if type(seg) is str:
            out.append(seg)
            continue
        c, k = seg
        if c == "Zz":
            out.append("Z" if secs == 0 else f"{sign}{hh:02d}:{mm:02d}")
        elif c == "y":
            out.append(f"{t.year % 100:02d}" if k == 2 else f"{t.year:0{k if k != 3 else 4}d}" if k > 1 else str(t.year))
        elif c == "M":
            out.append(_MONTHS[t.month - 1] if k >= 4 else _MONTHS[t.month - 1][:3] if k == 3 else f"{t.month:0{k}d}")
        elif c == "d":
            out.append(f"{t.day:0{k}d}")
        elif c == "H":
            out.append(f"{t.hour:0{k}d}")
        elif c == "h":
            out.append(f"{(t.hour % 12) or 12:0{k}d}")
        elif c == "m":
            out.append(f"{t.minute:0{k}d}")
        elif c == "s":
            out.append(f"{t.second:0{k}d}")
        elif c == "S":
            out.append("0" * k)
        elif c == "a":
            out.append("AM" if t.hour < 12 else "PM")
        elif c == "E":
            out.append(_DAYS[t.weekday()] if k >= 4 else _DAYS[t.weekday()][:3])
        elif c == "Z":
            out.append(f"{sign}{hh:02d}{mm:02d}")
        elif c == "z":
            name = t.tzname()
            out.append("UTC" if secs == 0 and name in (None, "UTC", "GMT", "Z") else (name or f"{sign}{hh:02d}:{mm:02d}"))
        elif c == "X":
            if secs == 0:
                out.append("Z")
            elif k == 1:
                out.append(f"{sign}{hh:02d}")
            elif k == 2:
                out.append(f"{sign}{hh:02d}{mm:02d}")
            else:
                out.append(f"{sign}{hh:02d}:{mm:02d}")
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _layout(layout: str) -> tuple:
    """A TimeFormat layout as literal strings and (letter, run length) tokens."""
    segs: list = []
    pos = 0
    for m in _LAYOUT_TOKEN.finditer(layout):
        if m.start() > pos:
            segs.append(layout[pos:m.start()])
        if m.group(1) is not None:
            segs.append(m.group(1) if m.group(1) else "'")
        elif m.group(0) == "Zz":
            segs.append(("Zz", 2))
        else:
            segs.append((m.group(0)[0], len(m.group(0))))
        pos = m.end()
    if pos < len(layout):
        segs.append(layout[pos:])
    return tuple(segs)


def _raw(v) -> str:
    return RawString(pbx_text(v))


PBX_FUNCTION_SPECS: dict[str, Function] = {
    "TimeFormat": Function(time_format, (A, A), A, needs_tz=True),
    "ToMillis": Function(to_millis, (A,)),
    "Capitalize": Function(capitalize, (A,)),
    "UrlEncode": Function(url_encode, (A,)),
    "raw": Function(_raw, (A,)),
}
