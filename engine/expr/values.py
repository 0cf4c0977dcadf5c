"""How template values map to Go's, and how Go prints them.

Data values are plain Python: ``str``, ``int`` (Go ``int``), ``float``
(``float64``), ``bool``, ``None`` (a nil interface), ``list``
(``[]interface {}``), ``dict`` (``map[string]interface {}``), ``complex``
(``complex128``).  :data:`MISSING` is Go's invalid value: a key that is not
in the map.  :class:`Byte` is Go's ``uint8`` (what ``index`` gives on a string).
"""

from __future__ import annotations

import math
from collections.abc import Mapping


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


class Byte(int):
    """Go's ``uint8``."""

    __slots__ = ()


class SafeString(str):
    """Text already escaped for its destination (``raw``, ``UrlEncode``...); not escaped again."""

    __slots__ = ()


def go_format_float(x: float) -> str:
    """How Go prints a float64 with {{.}}, print and %v (strconv 'g', shortest).

    From the conformance corpus README (checked there against go1.27.3).
    """
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sign = "-" if x < 0 else ""
    mant, _, exp = repr(abs(x)).partition("e")
    intpart, _, frac = mant.partition(".")
    if intpart.strip("0"):
        e = len(intpart.lstrip("0")) - 1
    else:
        e = -(len(frac) - len(frac.lstrip("0")) + 1)
    e += int(exp or 0)
    digits = (intpart + frac).strip("0")
    if e < -4 or e >= 6:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{m}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if e < 0:
        return f"{sign}0.{'0' * (-e - 1)}{digits}"
    if len(digits) <= e + 1:
        return sign + digits + "0" * (e + 1 - len(digits))
    return f"{sign}{digits[:e + 1]}.{digits[e + 1:]}"


def go_format_complex(c: complex) -> str:
    im = go_format_float(c.imag)
    if not im.startswith(("-", "+")):
        im = "+" + im
    return f"({go_format_float(c.real)}{im}i)"


def go_type_name(v) -> str:
    """Go's ``%T`` of a value."""
    if v is None or v is MISSING:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Byte):
        return "uint8"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, complex):
        return "complex128"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    return type(v).__name__


def is_true(v) -> bool:
    """Go's ``isTrue``: the truth of a value in if/with/range/and/or/not."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, (str, list, tuple, Mapping)):
        return len(v) > 0
    if isinstance(v, (bool, int, float, complex)):
        return v != 0
    return True


def format_value(v) -> str:
    """``fmt.Sprint`` of one value (Go's %v)."""
    if isinstance(v, str):
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return go_format_float(v)
    if v is None or v is MISSING:
        return "<nil>"
    if isinstance(v, complex):
        return go_format_complex(v)
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(format_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "map[" + " ".join(f"{format_value(k)}:{format_value(v[k])}" for k in sorted_keys(v)) + "]"
    return str(v)


def sorted_keys(d: dict) -> list:
    """Map keys in Go's order (strings by bytes; Python compares code points, the same order)."""
    try:
        return sorted(d)
    except TypeError:
        return sorted(d, key=lambda k: (type(k).__name__, str(k)))


def go_len(v) -> int:
    """Length in Go terms: strings count UTF-8 bytes."""
    if isinstance(v, str):
        if v.isascii():
            return len(v)
        return len(v.encode("utf-8", "surrogatepass"))
    return len(v)
