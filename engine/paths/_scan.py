"""Raw-text GJSON evaluator: a faithful port of github.com/tidwall/gjson.

This module answers every path exactly the way the Go library does,
including its leniency on malformed JSON, by scanning the JSON text the
same way.  ``engine.paths.gjson`` uses a faster tree evaluator for common
paths on valid JSON and falls back to this scanner for everything else.

Ported from tidwall/gjson (gjson.go), tidwall/match (match.go) and
tidwall/pretty (pretty.go).  Original code: MIT License,
Copyright (c) 2016 Josh Baker.  The Go code works on bytes; this port works
on Python ``str`` (code points).  Every delimiter GJSON looks at is ASCII,
so the results are the same for valid UTF-8 input.
"""

from __future__ import annotations

import re
from decimal import Decimal

# Result types, in gjson's order (Null < False < Number < String < True < JSON)
NULL, FALSE, NUMBER, STRING, TRUE, JSON = range(6)
TYPE_NAMES = ("Null", "False", "Number", "String", "True", "JSON")

_INF = float("inf")


class Result:
    """One gjson result: the value's type, raw JSON text, string and number."""

    __slots__ = ("t", "raw", "str", "num")

    def __init__(self, t: int = NULL, raw: str = "", s: str = "", num: float = 0.0) -> None:
        self.t = t
        self.raw = raw
        self.str = s
        self.num = num

    @property
    def exists(self) -> bool:
        return self.t != NULL or len(self.raw) != 0

    @property
    def string(self) -> str:
        t = self.t
        if t == STRING:
            return self.str
        if t == JSON:
            return self.raw
        if t == NUMBER:
            raw = self.raw
            if not raw:
                return format_float(self.num)
            i = 1 if raw[0] == "-" else 0
            for ch in raw[i:]:
                if ch < "0" or ch > "9":
                    return format_float(self.num)
            return raw
        if t == TRUE:
            return "true"
        if t == FALSE:
            return "false"
        return ""

    def is_array(self) -> bool:
        return self.t == JSON and len(self.raw) > 0 and self.raw[0] == "["

    def is_object(self) -> bool:
        return self.t == JSON and len(self.raw) > 0 and self.raw[0] == "{"

    def bool(self) -> bool:
        t = self.t
        if t == TRUE:
            return True
        if t == STRING:
            return _parse_bool(self.str.lower()) is True
        if t == NUMBER:
            return self.num != 0
        return False

    def int(self) -> int:
        t = self.t
        if t == TRUE:
            return 1
        if t == STRING:
            n = _parse_int(self.str)
            return n if n is not None else 0
        if t == NUMBER:
            if -9007199254740991 <= self.num <= 9007199254740991:
                return int(self.num)
            n = _parse_int(self.raw)
            if n is not None:
                return n
            try:
                return int(self.num)
            except (OverflowError, ValueError):
                return 0
        return 0

    @property
    def type(self) -> str:
        """``Null``, ``False``, ``Number``, ``String``, ``True`` or ``JSON``."""
        return TYPE_NAMES[self.t]

    def float(self) -> float:
        t = self.t
        if t == TRUE:
            return 1.0
        if t == STRING:
            return parse_float(self.str)
        if t == NUMBER:
            return self.num
        return 0.0

    def get(self, path: str) -> "Result":
        """Evaluate ``path`` on this value (Go's ``Result.Get``)."""
        return safe_get(self.raw, path)

    def array(self) -> list:
        """Go's ``Array()``: the elements of an array, ``[self]`` for a scalar, ``[]`` for null/missing."""
        return result_array(self)

    def value(self):
        """The value as Python data: str, int/float, bool, None, dict or list."""
        return result_value(self)

    def for_each(self) -> list:
        """Go's ``ForEach`` as a list of (key, value) results."""
        return for_each(self)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return (self.t, self.raw, self.str) == (other.t, other.raw, other.str) and (
            self.num == other.num or self.num != self.num)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Result({TYPE_NAMES[self.t]}, raw={self.raw!r})"


# --- numbers -------------------------------------------------------------------

_HEX_FLOAT = re.compile(r"[+-]?0[xX]")


def parse_float(s: str) -> float:
    """Go's ``strconv.ParseFloat(s, 64)`` value (0 on a syntax error)."""
    if not s or s[0] in " \t\n\r\f\v" or s[-1] in " \t\n\r\f\v" or "_" in s or not s.isascii():
        return 0.0
    if s[0] in "+-" and s[1:2] in ("n", "N"):
        return 0.0  # Go takes a sign before "inf" but not before "nan"
    try:
        if _HEX_FLOAT.match(s):
            return float.fromhex(s) if "p" in s or "P" in s else 0.0
        return float(s)
    except (ValueError, OverflowError):
        return 0.0


def format_float(f: float) -> str:
    """Go's ``strconv.FormatFloat(f, 'f', -1, 64)``."""
    if f != f:
        return "NaN"
    if f == _INF:
        return "+Inf"
    if f == -_INF:
        return "-Inf"
    r = repr(f)
    if "e" in r:
        return format(Decimal(r), "f")
    if r.endswith(".0"):
        return r[:-2]
    return r


def _parse_bool(s: str):
    if s in ("1", "t", "true"):
        return True
    if s in ("0", "f", "false"):
        return False
    return None


def _parse_uint(s: str):
    if not s:
        return None
    n = 0
    for ch in s:
        if "0" <= ch <= "9":
            n = n * 10 + (ord(ch) - 48)
        else:
            return None
    return n


def _parse_int(s: str):
    neg = s.startswith("-")
    n = _parse_uint(s[1:] if neg else s)
    if n is None:
        return None
    return -n if neg else n


# --- strings -------------------------------------------------------------------

_HEXDIGITS = frozenset("0123456789abcdefABCDEF")


def _runeit(s: str) -> int:
    h = s[:4]
    if len(h) < 4 or not all(c in _HEXDIGITS for c in h):
        return 0
    return int(h, 16)


def unescape(s: str) -> str:
    """gjson's ``unescape``: decode JSON string escapes, stopping at bad ones."""
    if "\\" not in s:
        for idx, ch in enumerate(s):
            if ch < " ":
                return s[:idx]
        return s
    out = []
    n = len(s)
    i = 0
    while i < n:
        ch = s[i]
        if ch < " ":
            break
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        i += 1
        if i >= n:
            break
        e = s[i]
        if e == "\\" or e == "/" or e == '"':
            out.append(e)
        elif e == "b":
            out.append("\b")
        elif e == "f":
            out.append("\f")
        elif e == "n":
            out.append("\n")
        elif e == "r":
            out.append("\r")
        elif e == "t":
            out.append("\t")
        elif e == "u":
            if i + 5 > n:
                break
            r = _runeit(s[i + 1:])
            i += 5
            if 0xD800 <= r < 0xE000:
                if len(s) - i >= 6 and s[i] == "\\" and s[i + 1] == "u":
                    r2 = _runeit(s[i + 2:])
                    if 0xD800 <= r < 0xDC00 and 0xDC00 <= r2 < 0xE000:
                        r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00)
                    else:
                        r = 0xFFFD
                    i += 6
                else:
                    r = 0xFFFD
            out.append(chr(r))
            continue
        else:
            break
        i += 1
    return "".join(out)


def _string_end(json: str, i: int) -> int:
    """Index of the quote that closes a string whose body starts at ``i``, or -1."""
    while True:
        q = json.find('"', i)
        if q < 0:
            return -1
        if q == 0 or json[q - 1] != "\\":
            return q
        k = q - 1
        while k >= i and json[k] == "\\":
            k -= 1
        if (q - 1 - k) % 2 == 0:
            return q
        i = q + 1


def parse_string(json: str, i: int):
    """Parse a string whose opening quote is at ``i - 1``: (end, raw, escaped, ok)."""
    q = _string_end(json, i)
    if q < 0:
        return len(json), json[i - 1:], False, False
    return q + 1, json[i - 1:q + 1], "\\" in json[i:q], True


def _tostr(json: str):
    """(raw, str) of a string value at the start of ``json``."""
    q = _string_end(json, 1)
    if q < 0:
        if "\\" in json:
            return json, unescape(json[1:])
        return json, json[1:]
    body = json[1:q]
    if "\\" in body:
        return json[:q + 1], unescape(body)
    return json[:q + 1], body


def _tonum(json: str):
    n = len(json)
    i = 1
    while i < n:
        c = json[i]
        if c <= "-":
            if c <= " " or c == ",":
                break
        elif c == "]" or c == "}":
            break
        i += 1
    raw = json[:i]
    return raw, parse_float(raw)


_LIT_END = re.compile(r"[^a-z]")


def _tolit(json: str) -> str:
    m = _LIT_END.search(json, 1)
    return json[:m.start()] if m else json


def parse_number(json: str, i: int):
    s = i
    n = len(json)
    i += 1
    while i < n:
        c = json[i]
        if c <= " " or c == "," or c == "]" or c == "}":
            return i, json[s:i]
        i += 1
    return i, json[s:]


def parse_literal(json: str, i: int):
    m = _LIT_END.search(json, i + 1)
    if m:
        e = m.start()
        return e, json[i:e]
    return len(json), json[i:]


_SQUASH = re.compile(r'["{}\[\]()]')


def parse_squash(json: str, i: int):
    """Skip the container opening at ``i``: (end, raw)."""
    s = i
    i += 1
    depth = 1
    search = _SQUASH.search
    while True:
        m = search(json, i)
        if m is None:
            return len(json), json[s:]
        i = m.start()
        c = json[i]
        if c == '"':
            q = _string_end(json, i + 1)
            if q < 0:
                return len(json), json[s:]
            i = q + 1
            continue
        if c in "{[(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i + 1, json[s:i + 1]
        i += 1


def squash(json: str) -> str:
    """The container or string at the start of ``json`` (gjson's ``squash``)."""
    if not json:
        return json
    if json[0] == '"':
        q = _string_end(json, 1)
        return json if q < 0 else json[:q + 1]
    _, raw = parse_squash(json, 0)
    return raw


# --- whole-value parsing -------------------------------------------------------

def parse(json: str) -> Result:
    """gjson's ``Parse``: the first value of ``json``."""
    n = len(json)
    i = 0
    while i < n:
        c = json[i]
        if c == "{" or c == "[":
            return Result(JSON, json[i:])
        if c <= " ":
            i += 1
            continue
        if c in "+-0123456789iIN" or (c == "n" and i + 1 < n and json[i + 1] != "u"):
            raw, num = _tonum(json[i:])
            return Result(NUMBER, raw, "", num)
        if c == "n":
            return Result(NULL, _tolit(json[i:]))
        if c == "t":
            return Result(TRUE, _tolit(json[i:]))
        if c == "f":
            return Result(FALSE, _tolit(json[i:]))
        if c == '"':
            raw, s = _tostr(json[i:])
            return Result(STRING, raw, s)
        return Result()
    return Result()


def parse_any(json: str, i: int, hit: bool):
    """gjson's ``parseAny``: (end, result, ok) of the next value from ``i``."""
    n = len(json)
    while i < n:
        c = json[i]
        if c == "{" or c == "[":
            i, val = parse_squash(json, i)
            return i, (Result(JSON, val) if hit else Result()), True
        if c <= " ":
            i += 1
            continue
        num = False
        if c == '"':
            i, val, vesc, ok = parse_string(json, i + 1)
            if not ok:
                return i, Result(), False
            res = Result()
            if hit:
                body = val[1:-1]
                res = Result(STRING, val, unescape(body) if vesc else body)
            return i, res, True
        if c == "n" and i + 1 < n and json[i + 1] != "u":
            num = True
        elif c in "ntf":
            i, val = parse_literal(json, i)
            if hit:
                return i, Result(TRUE if c == "t" else FALSE if c == "f" else NULL, val), True
        elif c in "+-0123456789iIN":
            num = True
        if num:
            i, val = parse_number(json, i)
            res = Result(NUMBER, val, "", parse_float(val)) if hit else Result()
            return i, res, True
        i += 1
    return i, Result(), False


def for_each(t: Result):
    """gjson's ``ForEach``: list of (key, value) results of a container."""
    out = []
    if not t.exists:
        return out
    if t.t != JSON:
        out.append((Result(), t))
        return out
    json = t.raw
    n = len(json)
    i = 0
    obj = False
    key = Result()
    while i < n:
        c = json[i]
        if c == "{":
            i += 1
            obj = True
            break
        if c == "[":
            i += 1
            break
        if c > " ":
            return out
        i += 1
    else:
        return out
    idx = -1
    while i < n:
        if obj:
            if json[i] != '"':
                i += 1
                continue
            i, sval, vesc, ok = parse_string(json, i + 1)
            if not ok:
                return out
            body = sval[1:-1]
            key = Result(STRING, sval, unescape(body) if vesc else body)
        else:
            idx += 1
            key = Result(NUMBER, "", "", float(idx))
        while i < n and (json[i] <= " " or json[i] == "," or json[i] == ":"):
            i += 1
        i, value, ok = parse_any(json, i, True)
        if not ok:
            return out
        out.append((key, value))
        # the Go loop's i++ steps over the character after the value
        i += 1
    return out


def array_or_map(t: Result, vc: str):
    """gjson's ``arrayOrMap`` (values only): ('[', list) or ('{', dict) or ('', None)."""
    json = t.raw
    n = len(json)
    i = 0
    kind = ""
    while i < n:
        c = json[i]
        if (vc == "" and c in "{[") or c == vc:
            kind = c
            i += 1
            break
        if c > " ":
            return "", None
        i += 1
    else:
        return "", None
    items: list = []
    obj: dict = {}
    count = 0
    key = None
    while i < n:
        c = json[i]
        if c <= " ":
            i += 1
            continue
        if c == "]" or c == "}":
            break
        if c in "{[":
            value = Result(JSON, squash(json[i:]))
        elif c == "n":
            value = Result(NULL, _tolit(json[i:]))
        elif c == "t":
            value = Result(TRUE, _tolit(json[i:]))
        elif c == "f":
            value = Result(FALSE, _tolit(json[i:]))
        elif c == '"':
            raw, s = _tostr(json[i:])
            value = Result(STRING, raw, s)
        elif ("0" <= c <= "9") or c == "-":
            raw, num = _tonum(json[i:])
            value = Result(NUMBER, raw, "", num)
        else:
            i += 1
            continue
        i += len(value.raw)
        if kind == "{":
            if count % 2 == 0:
                key = value
            elif key.str not in obj:
                obj[key.str] = value
            count += 1
        else:
            items.append(value)
    return kind, (obj if kind == "{" else items)


def result_array(t: Result) -> list:
    """gjson's ``Array()``."""
    if t.t == NULL:
        return []
    if not t.is_array():
        return [t]
    return array_or_map(t, "[")[1]


def result_value(t: Result):
    """gjson's ``Value()`` as Python data (ints stay ints when the text is an integer)."""
    tt = t.t
    if tt == STRING:
        return t.str
    if tt == NUMBER:
        n = _parse_int(t.raw)
        return n if n is not None else t.num
    if tt == TRUE:
        return True
    if tt == FALSE:
        return False
    if tt == JSON:
        kind, v = array_or_map(t, "")
        if kind == "{":
            return {k: result_value(x) for k, x in v.items()}
        if kind == "[":
            return [result_value(x) for x in v]
    return None


# --- path parsing ----------------------------------------------------------------

class _ArrayPath:
    __slots__ = ("part", "path", "pipe", "piped", "more", "alogok", "arrch", "alogkey",
                 "q_on", "q_all", "q_path", "q_op", "q_value")

    def __init__(self) -> None:
        self.part = self.path = self.pipe = self.alogkey = ""
        self.piped = self.more = self.alogok = self.arrch = False
        self.q_on = self.q_all = False
        self.q_path = self.q_op = self.q_value = ""


def parse_array_path(path: str) -> _ArrayPath:
    r = _ArrayPath()
    n = len(path)
    i = 0
    while i < n:
        c = path[i]
        if c == "|":
            r.part = path[:i]
            r.pipe = path[i + 1:]
            r.piped = True
            return r
        if c == ".":
            r.part = path[:i]
            if not r.arrch and i < n - 1 and is_dot_piper_char(path[i + 1:]):
                r.pipe = path[i + 1:]
                r.piped = True
            else:
                r.path = path[i + 1:]
                r.more = True
            return r
        if c == "#":
            r.arrch = True
            if i == 0 and n > 1:
                if path[1] == ".":
                    r.alogok = True
                    r.alogkey = path[2:]
                    r.path = path[:1]
                elif path[1] == "[" or path[1] == "(":
                    r.q_on = True
                    qpath, op, value, _, fi, vesc, ok = parse_query(path[i:])
                    if not ok:
                        break
                    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                        value = value[1:-1]
                        if vesc:
                            value = unescape(value)
                    r.q_path = qpath
                    r.q_op = op
                    r.q_value = value
                    i = fi - 1
                    if i + 1 < n and path[i + 1] == "#":
                        r.q_all = True
        i += 1
    r.part = path
    r.path = ""
    return r


def parse_query(query: str):
    """gjson's ``parseQuery``: (path, op, value, remain, end, vesc, ok)."""
    n = len(query)
    if n < 2 or query[0] != "#" or (query[1] != "(" and query[1] != "["):
        return "", "", "", "", 0, False, False
    i = 2
    j = 0
    depth = 1
    vesc = False
    while i < n:
        c = query[i]
        if depth == 1 and j == 0 and c in "!=<>%":
            j = i
            i += 1
            continue
        if c == "\\":
            i += 1
        elif c == "[" or c == "(":
            depth += 1
        elif c == "]" or c == ")":
            depth -= 1
            if depth == 0:
                break
        elif c == '"':
            i += 1
            while i < n:
                if query[i] == "\\":
                    vesc = True
                    i += 1
                elif query[i] == '"':
                    break
                i += 1
        i += 1
    if depth > 0:
        return "", "", "", "", i, False, False
    path = op = value = ""
    if j > 0:
        path = _trim(query[2:j])
        value = _trim(query[j:i])
        remain = query[i + 1:]
        opsz = 0
        if len(value) == 1:
            opsz = 1
        elif value[:2] in ("!=", "!%", "<=", ">="):
            opsz = 2
        elif value[:2] == "==":
            value = value[1:]
            opsz = 1
        elif value[0] in "<>=%":
            opsz = 1
        op = value[:opsz]
        value = _trim(value[opsz:])
    else:
        path = _trim(query[2:i])
        remain = query[i + 1:]
    return path, op, value, remain, i + 1, vesc, True


def _trim(s: str) -> str:
    a = 0
    b = len(s)
    while a < b and s[a] <= " ":
        a += 1
    while b > a and s[b - 1] <= " ":
        b -= 1
    return s[a:b]


def is_dot_piper_char(s: str) -> bool:
    c = s[0]
    if c == "@":
        i = 1
        n = len(s)
        while i < n and s[i] not in ".|:":
            i += 1
        return s[1:i] in MODIFIERS
    return c == "[" or c == "{"


class _ObjectPath:
    __slots__ = ("part", "path", "pipe", "piped", "wild", "more")

    def __init__(self) -> None:
        self.part = self.path = self.pipe = ""
        self.piped = self.wild = self.more = False


def parse_object_path(path: str) -> _ObjectPath:
    r = _ObjectPath()
    n = len(path)
    i = 0
    while i < n:
        c = path[i]
        if c == "|":
            r.part = path[:i]
            r.pipe = path[i + 1:]
            r.piped = True
            return r
        if c == ".":
            r.part = path[:i]
            if i < n - 1 and is_dot_piper_char(path[i + 1:]):
                r.pipe = path[i + 1:]
                r.piped = True
            else:
                r.path = path[i + 1:]
                r.more = True
            return r
        if c == "*" or c == "?":
            r.wild = True
            i += 1
            continue
        if c == "\\":
            epart = [path[:i]]
            i += 1
            if i < n:
                epart.append(path[i])
                i += 1
                while i < n:
                    c = path[i]
                    if c == "\\":
                        i += 1
                        if i < n:
                            epart.append(path[i])
                        i += 1
                        continue
                    if c == ".":
                        r.part = "".join(epart)
                        if i < n - 1 and is_dot_piper_char(path[i + 1:]):
                            r.pipe = path[i + 1:]
                            r.piped = True
                        else:
                            r.path = path[i + 1:]
                            r.more = True
                        return r
                    if c == "|":
                        r.part = "".join(epart)
                        r.pipe = path[i + 1:]
                        r.piped = True
                        return r
                    if c == "*" or c == "?":
                        r.wild = True
                    epart.append(c)
                    i += 1
            r.part = "".join(epart)
            return r
        i += 1
    r.part = path
    return r


# --- wildcard matching (tidwall/match) -----------------------------------------

class _MatchStop(Exception):
    pass


def match_limit(s: str, pattern: str, maxcomp: int = 10000) -> bool:
    """tidwall/match ``MatchLimit``: ``*`` and ``?`` wildcards, ``\\`` escapes."""
    if pattern == "*":
        return True
    counter = [0]
    try:
        return _match(s, pattern, len(s), counter, maxcomp)
    except _MatchStop:
        return False


def _match(s: str, pat: str, slen: int, counter: list, maxcomp: int) -> bool:
    if counter[0] > slen * maxcomp:
        raise _MatchStop
    counter[0] += 1
    while pat:
        wild = False
        pc = pat[0]
        ps = 1
        ss = 1 if s else 0
        sc = s[0] if s else ""
        if pc == "?":
            if ss == 0:
                return False
        elif pc == "*":
            while len(pat) > 1 and pat[1] == "*":
                pat = pat[1:]
            if len(pat) == 1:
                return True
            s, pat, ok = _match_trim_suffix(s, pat)
            if not ok:
                return False
            if len(pat) == 1:
                return True
            if _match(s, pat[1:], slen, counter, maxcomp):
                return True
            if not s:
                return False
            wild = True
        else:
            if ss == 0:
                return False
            if pc == "\\":
                pat = pat[1:]
                if not pat:
                    return False
                pc = pat[0]
            if sc != pc:
                return False
        s = s[ss:]
        if not wild:
            pat = pat[ps:]
    return not s


def _match_trim_suffix(s: str, pat: str):
    ok = True
    while s and len(pat) > 1:
        pc = pat[-1]
        ps = 1
        esc = False
        i = 0
        while True:
            k = len(pat) - ps - i - 1
            if k < 0 or pat[k] != "\\":
                if i & 1 == 1:
                    esc = True
                    ps += 1
                break
            i += 1
        if pc == "*" and not esc:
            ok = True
            break
        sc = s[-1]
        if not ((pc == "?" and not esc) or pc == sc):
            ok = False
            break
        s = s[:-1]
        pat = pat[:-ps]
    return s, pat, ok


# --- the scanner ----------------------------------------------------------------

class _Ctx:
    __slots__ = ("json", "value", "pipe", "piped", "calcd", "lines")

    def __init__(self, json: str) -> None:
        self.json = json
        self.value = Result()
        self.pipe = ""
        self.piped = False
        self.calcd = False
        self.lines = False


def parse_object(c: _Ctx, i: int, path: str):
    json = c.json
    n = len(json)
    rp = parse_object_path(path)
    if not rp.more and rp.piped:
        c.pipe = rp.pipe
        c.piped = True
    key = ""
    kesc = False
    ok = False
    while i < n:
        while i < n:
            ch = json[i]
            if ch == '"':
                i += 1
                q = _string_end(json, i)
                if q < 0:
                    key, kesc, ok = json[i:], False, False
                    i = n
                else:
                    key = json[i:q]
                    kesc = "\\" in key
                    ok = True
                    i = q + 1
                break
            if ch == "}":
                return i + 1, False
            i += 1
        if not ok:
            return i, False
        if kesc:
            key = unescape(key)
        if rp.wild:
            pmatch = match_limit(key, rp.part)
        else:
            pmatch = rp.part == key
        hit = pmatch and not rp.more
        while i < n:
            ch = json[i]
            num = False
            if ch == '"':
                i, val, vesc, ok = parse_string(json, i + 1)
                if not ok:
                    return i, False
                if hit:
                    body = val[1:-1]
                    c.value = Result(STRING, val, unescape(body) if vesc else body)
                    return i, True
            elif ch == "{":
                if pmatch and not hit:
                    i, hit = parse_object(c, i + 1, rp.path)
                    if hit:
                        return i, True
                else:
                    i, val = parse_squash(json, i)
                    if hit:
                        c.value = Result(JSON, val)
                        return i, True
            elif ch == "[":
                if pmatch and not hit:
                    i, hit = parse_array(c, i + 1, rp.path)
                    if hit:
                        return i, True
                else:
                    i, val = parse_squash(json, i)
                    if hit:
                        c.value = Result(JSON, val)
                        return i, True
            elif ch == "n" and i + 1 < n and json[i + 1] != "u":
                num = True
            elif ch in "ntf":
                i, val = parse_literal(json, i)
                if hit:
                    c.value = Result(TRUE if ch == "t" else FALSE if ch == "f" else NULL, val)
                    return i, True
            elif ch in "+-0123456789iIN":
                num = True
            else:
                i += 1
                continue
            if num:
                i, val = parse_number(json, i)
                if hit:
                    c.value = Result(NUMBER, val, "", parse_float(val))
                    return i, True
            break
    return i, False


def _falseish(t: Result) -> bool:
    if t.t == NULL or t.t == FALSE:
        return True
    if t.t == STRING:
        b = _parse_bool(t.str.lower())
        return b is False
    if t.t == NUMBER:
        return t.num == 0
    return False


def _trueish(t: Result) -> bool:
    if t.t == TRUE:
        return True
    if t.t == STRING:
        return _parse_bool(t.str.lower()) is True
    if t.t == NUMBER:
        return t.num != 0
    return False


def query_matches(op: str, rpv: str, value: Result) -> bool:
    if rpv and rpv[0] == "~":
        rpv = rpv[1:]
        ish = None
        if rpv == "*":
            ish = value.exists
        elif rpv == "null":
            ish = value.t == NULL
        elif rpv == "true":
            ish = _trueish(value)
        elif rpv == "false":
            ish = _falseish(value)
        if ish is not None:
            rpv = "true"
            value = Result(TRUE if ish else FALSE)
        else:
            rpv = ""
            value = Result()
    if not value.exists:
        return False
    if op == "":
        return True
    t = value.t
    if t == STRING:
        s = value.str
        if op == "=":
            return s == rpv
        if op == "!=":
            return s != rpv
        if op == "<":
            return s < rpv
        if op == "<=":
            return s <= rpv
        if op == ">":
            return s > rpv
        if op == ">=":
            return s >= rpv
        if op == "%":
            return match_limit(s, rpv)
        if op == "!%":
            return not match_limit(s, rpv)
    elif t == NUMBER:
        v = value.num
        x = parse_float(rpv)
        if op == "=":
            return v == x
        if op == "!=":
            return v != x
        if op == "<":
            return v < x
        if op == "<=":
            return v <= x
        if op == ">":
            return v > x
        if op == ">=":
            return v >= x
    elif t == TRUE:
        if op == "=":
            return rpv == "true"
        if op == "!=":
            return rpv != "true"
        if op == ">":
            return rpv == "false"
        if op == ">=":
            return True
    elif t == FALSE:
        if op == "=":
            return rpv == "false"
        if op == "!=":
            return rpv != "false"
        if op == "<":
            return rpv == "true"
        if op == "<=":
            return True
    return False


def parse_array(c: _Ctx, i: int, path: str):
    json = c.json
    n = len(json)
    rp = parse_array_path(path)
    partidx = -1
    if not rp.arrch:
        u = _parse_uint(rp.part)
        partidx = -1 if u is None else u
    if not rp.more and rp.piped:
        c.pipe = rp.pipe
        c.piped = True
    multires: list = []
    alog: list = []
    h = 0
    pmatch = hit = False

    def proc_query(qval: Result) -> bool:
        if rp.q_all and not multires:
            multires.append("[")
        if qval.t == JSON:
            res = get(qval.raw, rp.q_path)
        else:
            if rp.q_path != "":
                return False
            res = qval
        if query_matches(rp.q_op, rp.q_value, res):
            if rp.more:
                left, right, ok = split_possible_pipe(rp.path)
                if ok:
                    rp.path = left
                    c.pipe = right
                    c.piped = True
                res = get(qval.raw, rp.path)
            else:
                res = qval
            if rp.q_all:
                raw = res.raw or res.string
                if raw != "":
                    if len(multires) > 1:
                        multires.append(",")
                    multires.append(raw)
            else:
                c.value = res
                return True
        return False

    while i < n + 1:
        if not rp.arrch:
            pmatch = partidx == h
            hit = pmatch and not rp.more
        h += 1
        if rp.alogok:
            alog.append(i)
        while True:
            if i > n:
                break
            ch = "]" if i == n else json[i]
            num = False
            if ch == '"':
                i, val, vesc, ok = parse_string(json, i + 1)
                if not ok:
                    return i, False
                if rp.q_on:
                    body = val[1:-1]
                    if proc_query(Result(STRING, val, unescape(body) if vesc else body)):
                        return i, True
                elif hit:
                    if rp.alogok:
                        break
                    body = val[1:-1]
                    c.value = Result(STRING, val, unescape(body) if vesc else body)
                    return i, True
            elif ch == "{" or ch == "[":
                if pmatch and not hit:
                    if ch == "{":
                        i, hit = parse_object(c, i + 1, rp.path)
                    else:
                        i, hit = parse_array(c, i + 1, rp.path)
                    if hit:
                        if rp.alogok:
                            break
                        return i, True
                else:
                    i, val = parse_squash(json, i)
                    if rp.q_on:
                        if proc_query(Result(JSON, val)):
                            return i, True
                    elif hit:
                        if rp.alogok:
                            break
                        c.value = Result(JSON, val)
                        return i, True
            elif ch == "n" and i + 1 < n and json[i + 1] != "u":
                num = True
            elif ch in "ntf":
                i, val = parse_literal(json, i)
                lt = TRUE if ch == "t" else FALSE if ch == "f" else NULL
                if rp.q_on:
                    if proc_query(Result(lt, val)):
                        return i, True
                elif hit:
                    if rp.alogok:
                        break
                    c.value = Result(lt, val)
                    return i, True
            elif ch in "+-0123456789iIN":
                num = True
            elif ch == "]":
                if rp.arrch and rp.part == "#":
                    if rp.alogok:
                        left, right, ok = split_possible_pipe(rp.alogkey)
                        if ok:
                            rp.alogkey = left
                            c.pipe = right
                            c.piped = True
                        parts = []
                        for idx in alog:
                            while idx < n and json[idx] in " \t\r\n":
                                idx += 1
                            if idx < n and json[idx] != "]":
                                _, res, ok = parse_any(json, idx, True)
                                if ok:
                                    res = get(res.raw, rp.alogkey)
                                    if res.exists:
                                        parts.append(res.raw or res.string)
                        c.value = Result(JSON, "[" + ",".join(parts) + "]")
                        return i + 1, True
                    if rp.alogok:
                        break
                    c.value = Result(NUMBER, str(h - 1), "", float(h - 1))
                    c.calcd = True
                    return i + 1, True
                if not c.value.exists:
                    if multires:
                        c.value = Result(JSON, "".join(multires) + "]")
                    elif rp.q_all:
                        c.value = Result(JSON, "[]")
                return i + 1, False
            else:
                i += 1
                continue
            if num:
                i, val = parse_number(json, i)
                if rp.q_on:
                    if proc_query(Result(NUMBER, val, "", parse_float(val))):
                        return i, True
                elif hit:
                    if rp.alogok:
                        break
                    c.value = Result(NUMBER, val, "", parse_float(val))
                    return i, True
            break
    return i, False


def split_possible_pipe(path: str):
    if "|" not in path:
        return "", "", False
    n = len(path)
    if n > 0 and path[0] == "{":
        squashed = squash(path[1:])
        if len(squashed) < n - 1:
            squashed = path[:len(squashed) + 1]
            remain = path[len(squashed):]
            if remain[0] == "|":
                return squashed, remain[1:], True
        return "", "", False
    i = 0
    while i < n:
        ch = path[i]
        if ch == "\\":
            i += 1
        elif ch == ".":
            if i == n - 1:
                return "", "", False
            if path[i + 1] == "#":
                i += 2
                if i == n:
                    return "", "", False
                if path[i] == "[" or path[i] == "(":
                    start, end = ("[", "]") if path[i] == "[" else ("(", ")")
                    i += 1
                    depth = 1
                    while i < n:
                        c = path[i]
                        if c == "\\":
                            i += 1
                        elif c == start:
                            depth += 1
                        elif c == end:
                            depth -= 1
                            if depth == 0:
                                break
                        elif c == '"':
                            i += 1
                            while i < n:
                                if path[i] == "\\":
                                    i += 1
                                elif path[i] == '"':
                                    break
                                i += 1
                        i += 1
        elif ch == "|":
            return path[:i], path[i + 1:], True
        i += 1
    return "", "", False


def parse_sub_selectors(path: str):
    """gjson's ``parseSubSelectors``: ([(name, path)], rest, ok)."""
    sels = []
    modifier = 0
    depth = 1
    colon = 0
    start = 1
    i = 1
    n = len(path)
    while i < n:
        ch = path[i]
        if ch == "\\":
            i += 1
        elif ch == "@":
            if modifier == 0 and i > 0 and path[i - 1] in ".|":
                modifier = i
        elif ch == ":":
            if modifier == 0 and colon == 0 and depth == 1:
                colon = i
        elif ch == ",":
            if depth == 1:
                sels.append(("", path[start:i]) if colon == 0 else (path[start:colon], path[colon + 1:i]))
                colon = modifier = 0
                start = i + 1
        elif ch == '"':
            i += 1
            while i < n:
                if path[i] == "\\":
                    i += 1
                elif path[i] == '"':
                    break
                i += 1
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
            if depth == 0:
                sels.append(("", path[start:i]) if colon == 0 else (path[start:colon], path[colon + 1:i]))
                return sels, path[i + 1:], True
        i += 1
    return sels, "", False


def _name_of_last(path: str) -> str:
    for i in range(len(path) - 1, -1, -1):
        if path[i] == "|" or path[i] == ".":
            if i > 0 and path[i - 1] == "\\":
                continue
            return path[i + 1:]
    return path


def _is_simple_name(component: str) -> bool:
    for ch in component:
        if ch < " " or ch in "[]{}()#|!":
            return False
    return True


def append_json_string(s: str) -> str:
    """gjson's ``AppendJSONString``: a JSON string literal, HTML characters escaped."""
    out = ['"']
    for ch in s:
        if ch < " ":
            if ch == "\b":
                out.append("\\b")
            elif ch == "\f":
                out.append("\\f")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            else:
                out.append("\\u%04x" % ord(ch))
        elif ch in "<>&":
            out.append("\\u%04x" % ord(ch))
        elif ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\u2028" or ch == "\u2029":
            out.append("\\u202" + ("8" if ch == "\u2028" else "9"))
        elif "\ud800" <= ch <= "\udfff":
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def get(json: str, path: str) -> Result:
    """gjson's ``Get``: evaluate ``path`` on ``json`` text."""
    if len(path) > 1:
        p0 = path[0]
        if p0 == "@" or p0 == "!":
            if p0 == "@":
                npath, rjson, ok = exec_modifier(json, path)
            else:
                npath, rjson, ok = exec_static(json, path)
            if ok:
                path = npath
                if path and (path[0] == "|" or path[0] == "."):
                    return get(rjson, path[1:])
                return parse(rjson)
        if p0 == "[" or p0 == "{":
            kind = p0
            subs, rest, ok = parse_sub_selectors(path)
            if ok and (not rest or rest[0] == "|" or rest[0] == "."):
                parts = []
                for name, sub in subs:
                    res = get(json, sub)
                    if not res.exists:
                        continue
                    item = ""
                    if kind == "{":
                        if name:
                            if name[0] == '"' and valid(name):
                                item = name
                            else:
                                item = append_json_string(name)
                        else:
                            last = _name_of_last(sub)
                            item = append_json_string(last if _is_simple_name(last) else "_")
                        item += ":"
                    raw = res.raw
                    if not raw:
                        raw = res.string or "null"
                    parts.append(item + raw)
                res = Result(JSON, kind + ",".join(parts) + ("}" if kind == "{" else "]"))
                if rest:
                    res = get(res.raw, rest[1:])
                return res
    c = _Ctx(json)
    if len(path) >= 2 and path[0] == "." and path[1] == ".":
        c.lines = True
        parse_array(c, 0, path[2:])
    else:
        n = len(json)
        i = 0
        while i < n:
            ch = json[i]
            if ch == "{":
                parse_object(c, i + 1, path)
                break
            if ch == "[":
                parse_array(c, i + 1, path)
                break
            i += 1
    if c.piped:
        return get(c.value.raw, c.pipe)
    return c.value


def safe_get(json: str, path: str) -> Result:
    """:func:`get` that answers "missing" instead of raising on absurdly deep nesting.

    Go's goroutine stacks grow where Python's recursion limit stops; only
    documents nested thousands of levels deep (with recursive modifiers such
    as ``@dig``/``@pretty``) can get here.
    """
    try:
        return get(json, path)
    except RecursionError:
        return Result()


def exec_static(json: str, path: str):
    name = path[1:]
    if name and name[0] in '{["+-0123456789':
        _, res = parse_squash(name, 0)
        return name[len(res):], res, True
    path_out = ""
    for i in range(1, len(path)):
        if path[i] == "|" or path[i] == ".":
            path_out = path[i:]
            name = path[1:i]
            break
    if name.lower() in ("true", "false", "null", "nan", "inf"):
        return path_out, name, True
    return path_out, "", False


def exec_modifier(json: str, path: str):
    name = path[1:]
    path_out = ""
    has_args = False
    for i in range(1, len(path)):
        ch = path[i]
        if ch == ":":
            path_out = path[i + 1:]
            name = path[1:i]
            has_args = len(path_out) > 0
            break
        if ch == "|" or ch == ".":
            path_out = path[i:]
            name = path[1:i]
            break
    fn = MODIFIERS.get(name)
    if fn is None:
        return path_out, "", False
    args = ""
    if has_args:
        parsed = False
        if path_out[0] in '{["':
            if parse(path_out).exists:
                args = squash(path_out)
                path_out = path_out[len(args):]
                parsed = True
        if not parsed:
            i = 0
            n = len(path_out)
            while i < n:
                ch = path_out[i]
                if ch == "|":
                    break
                if ch in '{["(':
                    i += len(squash(path_out[i:])) - 1
                i += 1
            args = path_out[:i]
            path_out = path_out[i:]
    return path_out, fn(json, args), True


# --- validation -------------------------------------------------------------------

_WS = " \t\n\r"


def valid(json: str) -> bool:
    """gjson's ``Valid``: strict JSON check (one value, surrounding whitespace)."""
    n = len(json)
    i = 0
    while i < n and json[i] in _WS:
        i += 1
    if i >= n:
        return False
    i, ok = _valid_any(json, i)
    if not ok:
        return False
    while i < n:
        if json[i] not in _WS:
            return False
        i += 1
    return True


_VALID_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _valid_any(d: str, i: int):
    n = len(d)
    while i < n:
        c = d[i]
        if c in _WS:
            i += 1
            continue
        if c == "{":
            return _valid_object(d, i + 1)
        if c == "[":
            return _valid_array(d, i + 1)
        if c == '"':
            return _valid_string(d, i + 1)
        if c == "-" or "0" <= c <= "9":
            m = _VALID_NUMBER.match(d, i)
            if not m:
                return i, False
            e = m.end()
            # Go's validnumber rejects a dangling '.', 'e' or sign
            if e < n and d[e] in ".eE":
                return e, False
            return e, True
        for lit in ("true", "false", "null"):
            if d.startswith(lit, i):
                return i + len(lit), True
        return i, False
    return i, False


def _skip_ws(d: str, i: int) -> int:
    n = len(d)
    while i < n and d[i] in _WS:
        i += 1
    return i


def _valid_object(d: str, i: int):
    n = len(d)
    i = _skip_ws(d, i)
    if i >= n:
        return i, False
    if d[i] == "}":
        return i + 1, True
    while True:
        if i >= n or d[i] != '"':
            return i, False
        i, ok = _valid_string(d, i + 1)
        if not ok:
            return i, False
        i = _skip_ws(d, i)
        if i >= n or d[i] != ":":
            return i, False
        i, ok = _valid_any(d, i + 1)
        if not ok:
            return i, False
        i = _skip_ws(d, i)
        if i >= n:
            return i, False
        if d[i] == "}":
            return i + 1, True
        if d[i] != ",":
            return i, False
        i = _skip_ws(d, i + 1)


def _valid_array(d: str, i: int):
    n = len(d)
    i = _skip_ws(d, i)
    if i >= n:
        return i, False
    if d[i] == "]":
        return i + 1, True
    while True:
        i, ok = _valid_any(d, i)
        if not ok:
            return i, False
        i = _skip_ws(d, i)
        if i >= n:
            return i, False
        if d[i] == "]":
            return i + 1, True
        if d[i] != ",":
            return i, False
        i += 1


def _valid_string(d: str, i: int):
    n = len(d)
    while i < n:
        c = d[i]
        if c < " ":
            return i, False
        if c == "\\":
            i += 1
            if i == n:
                return i, False
            e = d[i]
            if e == "u":
                h = d[i + 1:i + 5]
                if len(h) < 4 or not all(x in _HEXDIGITS for x in h):
                    return i, False
                i += 4
            elif e not in '"\\/bfnrt':
                return i, False
        elif c == '"':
            return i + 1, True
        i += 1
    return i, False


# --- modifiers --------------------------------------------------------------------

def _unwrap(json: str) -> str:
    json = _trim(json)
    if len(json) >= 2 and json[0] in "[{":
        json = json[1:-1]
    return json


def _clean_ws(s: str) -> str:
    return "".join(ch for ch in s if ch in _WS)


def mod_pretty(json: str, arg: str) -> str:
    width, prefix, indent, sort_keys = 80, "", "  ", False
    if arg:
        for key, value in for_each(parse(arg)):
            k = key.string
            if k == "sortKeys":
                sort_keys = value.bool()
            elif k == "indent":
                indent = _clean_ws(value.string)
            elif k == "prefix":
                prefix = _clean_ws(value.string)
            elif k == "width":
                width = value.int()
    return _Pretty(json, width, prefix, indent, sort_keys).run()


def mod_this(json: str, arg: str) -> str:
    return json


def mod_ugly(json: str, arg: str) -> str:
    out = []
    n = len(json)
    i = 0
    while i < n:
        c = json[i]
        if c > " ":
            if c == '"':
                q = _string_end(json, i + 1)
                if q < 0:
                    out.append(json[i:])
                    break
                out.append(json[i:q + 1])
                i = q + 1
                continue
            out.append(c)
        i += 1
    return "".join(out)


def mod_reverse(json: str, arg: str) -> str:
    res = parse(json)
    if res.is_array():
        values = [v.raw for _, v in for_each(res)]
        return "[" + ",".join(reversed(values)) + "]"
    if res.is_object():
        pairs = [k.raw + ":" + v.raw for k, v in for_each(res)]
        return "{" + ",".join(reversed(pairs)) + "}"
    return json


def mod_flatten(json: str, arg: str) -> str:
    res = parse(json)
    if not res.is_array():
        return json
    deep = False
    if arg:
        for key, value in for_each(parse(arg)):
            if key.string == "deep":
                deep = value.bool()
    out = []
    for _, value in for_each(res):
        if value.is_array():
            raw = _unwrap(mod_flatten(value.raw, arg)) if deep else _unwrap(value.raw)
        else:
            raw = value.raw
        raw = raw.strip()
        if raw:
            out.append(raw)
    return "[" + ",".join(out) + "]"


def mod_keys(json: str, arg: str) -> str:
    v = parse(json)
    if not v.exists:
        return "[]"
    obj = v.is_object()
    return "[" + ",".join(k.raw if obj else "null" for k, _ in for_each(v)) + "]"


def mod_values(json: str, arg: str) -> str:
    v = parse(json)
    if not v.exists:
        return "[]"
    if v.is_array():
        return json
    return "[" + ",".join(x.raw for _, x in for_each(v)) + "]"


def mod_join(json: str, arg: str) -> str:
    res = parse(json)
    if not res.is_array():
        return json
    preserve = False
    if arg:
        for key, value in for_each(parse(arg)):
            if key.string == "preserve":
                preserve = value.bool()
    if preserve:
        parts = [_unwrap(v.raw) for _, v in for_each(res) if v.is_object()]
        return "{" + ",".join(parts) + "}"
    keys: list = []
    kvals: dict = {}
    for _, value in for_each(res):
        if not value.is_object():
            continue
        for key, val in for_each(value):
            k = key.string
            if k not in kvals:
                keys.append(key)
            kvals[k] = val
    return "{" + ",".join(k.raw + ":" + kvals[k.string].raw for k in keys) + "}"


def mod_valid(json: str, arg: str) -> str:
    return json if valid(json) else ""


def mod_fromstr(json: str, arg: str) -> str:
    if not valid(json):
        return ""
    return parse(json).string


def mod_tostr(json: str, arg: str) -> str:
    return append_json_string(json)


def mod_group(json: str, arg: str) -> str:
    res = parse(json)
    if not res.is_object():
        return ""
    groups: list = []
    for key, value in for_each(res):
        if not value.is_array():
            continue
        for idx, (_, v) in enumerate(for_each(value)):
            if idx == len(groups):
                groups.append([])
            groups[idx].append(key.raw + ":" + v.raw)
    return "[" + ",".join("{" + ",".join(g) + "}" for g in groups) + "]"


def _dig(out: list, parent: Result, path: str) -> None:
    res = get(parent.raw, path)
    if res.exists:
        out.append(res)
    if parent.is_array() or parent.is_object():
        for _, val in for_each(parent):
            _dig(out, val, path)


def mod_dig(json: str, arg: str) -> str:
    found: list = []
    _dig(found, parse(json), arg)
    return "[" + ",".join(r.raw for r in found) + "]"


MODIFIERS = {
    "pretty": mod_pretty,
    "ugly": mod_ugly,
    "reverse": mod_reverse,
    "this": mod_this,
    "flatten": mod_flatten,
    "join": mod_join,
    "valid": mod_valid,
    "keys": mod_keys,
    "values": mod_values,
    "tostr": mod_tostr,
    "fromstr": mod_fromstr,
    "group": mod_group,
    "dig": mod_dig,
}
BUILTIN_MODIFIERS = frozenset(MODIFIERS)


# --- @pretty (tidwall/pretty) ------------------------------------------------------

def _jtype(v: str) -> int:
    if not v:
        return NULL
    c = v[0]
    if c == '"':
        return STRING
    if c == "f":
        return FALSE
    if c == "t":
        return TRUE
    if c == "n":
        return NULL
    if c in "[{":
        return JSON
    return NUMBER


class _Pretty:
    """Port of tidwall/pretty ``PrettyOptions`` (buffer kept as a list of chars)."""

    def __init__(self, json: str, width: int, prefix: str, indent: str, sort_keys: bool) -> None:
        self.json = json
        self.width = width
        self.prefix = prefix
        self.indent = indent
        self.sort_keys = sort_keys

    def run(self) -> str:
        buf: list = []
        if self.prefix:
            buf.extend(self.prefix)
        buf, _, _, _ = self.any(buf, 0, True, self.width, self.prefix, self.indent,
                                self.sort_keys, 0, 0, -1)
        if buf:
            buf.append("\n")
        return "".join(buf)

    def any(self, buf, i, pretty, width, prefix, indent, sortkeys, tabs, nl, mx):
        json = self.json
        n = len(json)
        while i < n:
            c = json[i]
            if c <= " ":
                i += 1
                continue
            if c == '"':
                return self.string(buf, i, nl)
            if ("0" <= c <= "9") or c == "-" or c in "iI+N" or (c == "n" and i + 1 < n and json[i + 1] != "u"):
                return self.number(buf, i, nl)
            if c == "{":
                return self.obj(buf, i, "{", "}", pretty, width, prefix, indent, sortkeys, tabs, nl, mx)
            if c == "[":
                return self.obj(buf, i, "[", "]", pretty, width, prefix, indent, sortkeys, tabs, nl, mx)
            if c == "t":
                buf.extend("true")
                return buf, i + 4, nl, True
            if c == "f":
                buf.extend("false")
                return buf, i + 5, nl, True
            if c == "n":
                buf.extend("null")
                return buf, i + 4, nl, True
            i += 1
        return buf, i, nl, True

    def string(self, buf, i, nl):
        json = self.json
        s = i
        q = _string_end(json, i + 1)
        i = len(json) if q < 0 else q + 1
        buf.extend(json[s:i])
        return buf, i, nl, True

    def number(self, buf, i, nl):
        json = self.json
        n = len(json)
        s = i
        i += 1
        while i < n and not (json[i] <= " " or json[i] in ",:]}"):
            i += 1
        buf.extend(json[s:i])
        return buf, i, nl, True

    def tabs(self, buf, prefix, indent, tabs):
        if prefix:
            buf.extend(prefix)
        buf.extend(indent * tabs)
        return buf

    def obj(self, buf, i, open_, close, pretty, width, prefix, indent, sortkeys, tabs, nl, mx):
        json = self.json
        n = len(json)
        if width > 0:
            if pretty and open_ == "[" and mx == -1:
                mx2 = width - (len(buf) - nl)
                if mx2 > 3:
                    s1, s2 = len(buf), i
                    buf, i, _, ok = self.obj(buf, i, "[", "]", False, width, prefix, "", sortkeys, 0, 0, mx2)
                    if ok and len(buf) - s1 <= mx2:
                        return buf, i, nl, True
                    del buf[s1:]
                    i = s2
            elif mx != -1 and open_ == "{":
                return buf, i, nl, False
        buf.append(open_)
        i += 1
        pairs: list = []
        cnt = 0
        while i < n:
            c = json[i]
            if c <= " ":
                i += 1
                continue
            if c == close:
                if pretty:
                    if open_ == "{" and sortkeys:
                        buf = self.sort_pairs(buf, pairs)
                    if cnt > 0:
                        nl = len(buf)
                        if buf[nl - 1] == " ":
                            buf[nl - 1] = "\n"
                        else:
                            buf.append("\n")
                    if buf[-1] != open_:
                        buf = self.tabs(buf, prefix, indent, tabs)
                buf.append(close)
                return buf, i + 1, nl, open_ != "{"
            if open_ == "[" or c == '"':
                if cnt > 0:
                    buf.append(",")
                    if width != -1 and open_ == "[":
                        buf.append(" ")
                p = [0, 0, 0, 0]
                if pretty:
                    nl = len(buf)
                    if buf[nl - 1] == " ":
                        buf[nl - 1] = "\n"
                    else:
                        buf.append("\n")
                    if open_ == "{" and sortkeys:
                        p[0] = i
                        p[2] = len(buf)
                    buf = self.tabs(buf, prefix, indent, tabs + 1)
                if open_ == "{":
                    buf, i, nl, _ = self.string(buf, i, nl)
                    if sortkeys:
                        p[1] = i
                    buf.append(":")
                    if pretty:
                        buf.append(" ")
                buf, i, nl, ok = self.any(buf, i, pretty, width, prefix, indent, sortkeys, tabs + 1, nl, mx)
                if mx != -1 and not ok:
                    return buf, i, nl, False
                if pretty and open_ == "{" and sortkeys:
                    p[3] = len(buf)
                    if p[0] > p[1] or p[2] > p[3]:
                        sortkeys = False
                    else:
                        pairs.append(p)
                i -= 1
                cnt += 1
            i += 1
        return buf, i, nl, open_ != "{"

    def sort_pairs(self, buf, pairs):
        if not pairs:
            return buf
        json = self.json
        vstart = pairs[0][2]

        def parts(p):
            k = json[p[0]:p[1]]
            v = "".join(buf[p[2]:p[3]]).strip()
            if len(v) >= len(k) + 1:
                v = v[len(k) + 1:].strip()
            return k, v

        def sort_key_of(s):
            t = _jtype(s)
            if t == STRING:
                return (t, _pretty_parsestr(s))
            if t == NUMBER:
                return (t, parse_float(s))
            return (t, s)

        keyed = []
        for p in pairs:
            k, v = parts(p)
            keyed.append((sort_key_of(k), sort_key_of(v), p))
        order = sorted(range(len(keyed)), key=lambda x: (keyed[x][0], keyed[x][1]))
        if order == list(range(len(keyed))):
            return buf
        chunks = []
        for idx, oi in enumerate(order):
            p = keyed[oi][2]
            chunks.extend(buf[p[2]:p[3]])
            if idx < len(order) - 1:
                chunks.extend(",\n")
        del buf[vstart:]
        buf.extend(chunks)
        return buf


def _pretty_parsestr(s: str) -> str:
    for i in range(1, len(s)):
        if s[i] == "\\":
            import json as _json
            try:
                return _json.loads(s)
            except ValueError:
                return ""
        if s[i] == '"':
            return s[1:i]
    return ""
