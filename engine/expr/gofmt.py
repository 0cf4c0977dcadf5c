"""Go's ``fmt.Sprint``, ``Sprintln`` and ``Sprintf`` for template values.

Ported from Go's ``fmt/print.go`` and ``fmt/format.go`` (BSD-3-Clause,
Copyright 2009 The Go Authors), reduced to the value types a template sees
(see :mod:`engine.expr.values`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .values import MISSING, Byte, go_format_float, go_type_name, sorted_keys

_LDIGITS = "0123456789abcdefx"
_UDIGITS = "0123456789ABCDEFX"


def is_print(c: str) -> bool:
    return c == " " or c.isprintable()


def go_quote(s: str, ascii_only: bool = False, quote: str = '"') -> str:
    """``strconv.Quote`` (or ``QuoteToASCII``; ``quote="'"`` for runes)."""
    out = [quote]
    for c in s:
        o = ord(c)
        if c == quote or c == "\\":
            out.append("\\" + c)
        elif 0xDC80 <= o <= 0xDCFF:  # an invalid byte kept as a surrogate escape
            out.append(f"\\x{o - 0xDC00:02x}")
        elif (o < 0x80 or not ascii_only) and is_print(c):
            out.append(c)
        elif c in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t", "\v": "\\v"}[c])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append(quote)
    return "".join(out)


def _can_backquote(s: str) -> bool:
    for c in s:
        if c == "`" or c == "\ufeff":
            return False
        if c != "\t" and (ord(c) < 0x20 or ord(c) == 0x7F):
            return False
    return True


def _float_digits(v: float, prec: int) -> tuple[str, int]:
    """Significant decimal digits of abs(v) (trailing zeros trimmed) and the decimal point position."""
    v = abs(v)
    if v == 0:
        return "", 0
    if prec < 0:
        mant, _, exp = repr(v).partition("e")
        ip, _, fp = mant.partition(".")
        digits = (ip + fp).lstrip("0")
        dp = len(ip.lstrip("0")) if ip.strip("0") else -(len(fp) - len(fp.lstrip("0")))
        dp += int(exp or 0)
        return digits.rstrip("0"), dp
    s = f"{v:.{max(prec - 1, 0)}e}"
    mant, _, exp = s.partition("e")
    digits = mant.replace(".", "").rstrip("0")
    return digits, int(exp) + 1


def _fmt_e(neg: bool, digits: str, dp: int, prec: int, e: str) -> str:
    d0 = digits[0] if digits else "0"
    s = d0
    if prec > 0:
        frac = digits[1:1 + prec]
        s += "." + frac + "0" * (prec - len(frac))
    exp = dp - 1 if digits else 0
    s += e + ("-" if exp < 0 else "+") + f"{abs(exp):02d}"
    return ("-" if neg else "") + s


def _fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    if dp > 0:
        ip = digits[:dp] + "0" * max(dp - len(digits), 0)
    else:
        ip = "0"
    s = ip
    if prec > 0:
        frac = "".join(digits[dp + i] if 0 <= dp + i < len(digits) else "0" for i in range(prec))
        s += "." + frac
    return ("-" if neg else "") + s


def format_float(v: float, verb: str, prec: int) -> str:
    """``strconv.FormatFloat(v, verb, prec, 64)``."""
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    neg = math.copysign(1.0, v) < 0
    if verb in "eE":
        if prec < 0:
            digits, dp = _float_digits(v, -1)
            return _fmt_e(neg, digits, dp, max(len(digits) - 1, 0), verb)
        s = f"{abs(v):.{prec}e}"
        if verb == "E":
            s = s.upper()
        mant, _, exp = s.partition(s[-4] if False else ("e" if verb == "e" else "E"))
        return ("-" if neg else "") + mant + verb + exp[0] + f"{int(exp[1:]):02d}"
    if verb in "fF":
        if prec < 0:
            digits, dp = _float_digits(v, -1)
            return _fmt_f(neg, digits, dp, max(len(digits) - dp, 0))
        return ("-" if neg else "") + f"{abs(v):.{prec}f}"
    if verb in "gG":
        e = "e" if verb == "g" else "E"
        shortest = prec < 0
        if prec == 0:
            prec = 1
        digits, dp = _float_digits(v, prec)
        if not digits:
            digits, dp = "0", 1
        if shortest:
            prec = len(digits)
        eprec = prec
        if eprec > len(digits) and len(digits) >= dp:
            eprec = len(digits)
        if shortest:
            eprec = 6
        exp = dp - 1
        if exp < -4 or exp >= eprec:
            if prec > len(digits):
                prec = len(digits)
            return _fmt_e(neg, digits, dp, prec - 1, e)
        if prec > dp:
            prec = len(digits)
        return _fmt_f(neg, digits, dp, max(prec - dp, 0))
    if verb in "xX":
        return _fmt_hex_float(v, prec, verb)
    if verb == "b":
        if v == 0:
            return ("-" if neg else "") + "0p-1074"
        m, e = math.frexp(abs(v))
        mant = int(m * (1 << 53))
        exp = e - 53
        if exp < -1074:
            mant >>= (-1074 - exp)
            exp = -1074
        return ("-" if neg else "") + f"{mant}p{'+' if exp >= 0 else '-'}{abs(exp)}"
    return go_format_float(v)


def _fmt_hex_float(v: float, prec: int, verb: str) -> str:
    neg = math.copysign(1.0, v) < 0
    v = abs(v)
    if v == 0:
        mant, exp = 0, 0
    else:
        m, e = math.frexp(v)  # v = m * 2**e, 0.5 <= m < 1
        mant = int(m * (1 << 53))  # 53 bits, top bit set
        exp = e - 1
    # mant is 1.xxxx in 53 bits: leading 1 then 52 bits = 13 hex digits
    frac = mant & ((1 << 52) - 1)
    lead = mant >> 52
    hexd = f"{frac:013x}"
    if prec >= 0:
        if prec < 13:
            shift = (13 - prec) * 4
            full = (lead << 52) | frac
            rem = full & ((1 << shift) - 1)
            full >>= shift
            half = 1 << (shift - 1)
            if rem > half or (rem == half and full & 1):
                full += 1
            if full >> (prec * 4) >= 2:
                full >>= 1
                exp += 1
            lead = full >> (prec * 4)
            hexd = f"{full & ((1 << (prec * 4)) - 1):0{prec}x}" if prec else ""
        else:
            hexd = hexd + "0" * (prec - 13)
    else:
        hexd = hexd.rstrip("0")
    s = f"0x{lead}" + ("." + hexd if hexd else "") + f"p{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if verb == "X":
        s = s.upper()
    return ("-" if neg else "") + s


class _Printer:
    __slots__ = ("buf", "wid", "prec", "wid_present", "prec_present", "minus", "plus", "sharp",
                 "space", "zero", "plus_v", "sharp_v", "good_arg_num", "reordered")

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.reordered = False
        self.good_arg_num = True
        self.clear()

    def clear(self) -> None:
        self.wid = self.prec = 0
        self.wid_present = self.prec_present = False
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.plus_v = self.sharp_v = False

    # -- padding
    def padding(self, n: int) -> str:
        if n <= 0:
            return ""
        return ("0" if self.zero else " ") * n

    def pad(self, s: str) -> None:
        if not self.wid_present or self.wid == 0:
            self.buf.append(s)
            return
        width = self.wid - len(s)
        if not self.minus:
            self.buf.append(self.padding(width) + s)
        else:
            self.buf.append(s + " " * max(width, 0))

    def trunc(self, s: str) -> str:
        if self.prec_present and self.prec < len(s):
            return s[:self.prec]
        return s

    # -- per type
    def print_arg(self, arg, verb: str, depth: int = 0) -> None:
        if arg is None or arg is MISSING:
            if verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb, arg)
            return
        if verb == "T":
            self.pad(self.trunc(go_type_name(arg)))
            return
        if isinstance(arg, bool):
            if verb in "tv":
                self.pad("true" if arg else "false")
            else:
                self.bad_verb(verb, arg)
        elif isinstance(arg, int):
            self.fmt_integer(arg, not isinstance(arg, Byte), verb)
        elif isinstance(arg, float):
            self.fmt_float(arg, verb)
        elif isinstance(arg, str):
            self.fmt_string(arg, verb)
        elif isinstance(arg, complex):
            if verb in "vbgGxXfFeE":
                old = self.plus
                self.buf.append("(")
                self.fmt_float(arg.real, verb)
                self.plus = True
                self.fmt_float(arg.imag, verb)
                self.buf.append("i)")
                self.plus = old
            else:
                self.bad_verb(verb, arg)
        elif isinstance(arg, (list, tuple)):
            if self.sharp_v:
                self.buf.append("[]interface {}{")
                for i, x in enumerate(arg):
                    if i:
                        self.buf.append(", ")
                    self.print_elem(x, verb)
                self.buf.append("}")
            else:
                self.buf.append("[")
                for i, x in enumerate(arg):
                    if i:
                        self.buf.append(" ")
                    self.print_elem(x, verb)
                self.buf.append("]")
        elif isinstance(arg, Mapping):
            self.buf.append("map[string]interface {}{" if self.sharp_v else "map[")
            for i, k in enumerate(sorted_keys(arg)):
                if i:
                    self.buf.append(", " if self.sharp_v else " ")
                self.print_arg(k, verb, depth + 1)
                self.buf.append(":")
                self.print_elem(arg[k], verb)
            self.buf.append("}" if self.sharp_v else "]")
        else:
            self.fmt_string(str(arg), verb)

    def print_elem(self, x, verb: str) -> None:
        if x is None or x is MISSING:
            self.buf.append("interface {}(nil)" if self.sharp_v else "<nil>")
        else:
            self.print_arg(x, verb, 1)

    def bad_verb(self, verb: str, arg) -> None:
        self.buf.append("%!" + verb + "(")
        if arg is None or arg is MISSING:
            self.buf.append("<nil>")
        else:
            self.buf.append(go_type_name(arg) + "=")
            self.sharp_v = False
            self.print_arg(arg, "v")
        self.buf.append(")")

    def fmt_integer(self, v: int, signed: bool, verb: str) -> None:
        if verb == "v":
            if self.sharp_v and not signed:
                old = self.sharp
                self.sharp = True
                self.fmt_int(v, 16, verb, _LDIGITS)
                self.sharp = old
            else:
                self.fmt_int(v, 10, verb, _LDIGITS)
        elif verb == "d":
            self.fmt_int(v, 10, verb, _LDIGITS)
        elif verb == "b":
            self.fmt_int(v, 2, verb, _LDIGITS)
        elif verb in "oO":
            self.fmt_int(v, 8, verb, _LDIGITS)
        elif verb == "x":
            self.fmt_int(v, 16, verb, _LDIGITS)
        elif verb == "X":
            self.fmt_int(v, 16, verb, _UDIGITS)
        elif verb == "c":
            self.pad(self.trunc(_rune(v)))
        elif verb == "q":
            self.pad(go_quote(_rune(v), self.plus, "'"))
        elif verb == "U":
            s = f"U+{v:04X}" if self.prec_present is False else f"U+{v:0{max(self.prec, 4)}X}"
            if self.sharp and 0 <= v <= 0x10FFFF and is_print(chr(v)):
                s += f" '{chr(v)}'"
            self.pad(s)
        else:
            self.bad_verb(verb, v)

    def fmt_int(self, v: int, base: int, verb: str, digits: str) -> None:
        neg = v < 0
        u = -v if neg else v
        prec = 0
        if self.prec_present:
            prec = self.prec
            if prec == 0 and u == 0:
                old = self.zero
                self.zero = False
                self.buf.append(self.padding(self.wid))
                self.zero = old
                return
        elif self.zero and not self.minus and self.wid_present:
            prec = self.wid
            if neg or self.plus or self.space:
                prec -= 1
        if base == 10:
            s = str(u)
        elif base == 16:
            s = format(u, "x")
            if digits is _UDIGITS:
                s = s.upper()
        elif base == 8:
            s = format(u, "o")
        else:
            s = format(u, "b")
        if len(s) < prec:
            s = "0" * (prec - len(s)) + s
        if self.sharp:
            if base == 2:
                s = "0b" + s
            elif base == 8:
                if s[0] != "0":
                    s = "0" + s
            elif base == 16:
                s = "0" + digits[16] + s
        if verb == "O":
            s = "0o" + s
        if neg:
            s = "-" + s
        elif self.plus:
            s = "+" + s
        elif self.space:
            s = " " + s
        old = self.zero
        self.zero = False
        self.pad(s)
        self.zero = old

    def fmt_float(self, v: float, verb: str) -> None:
        if verb == "v":
            self._float(v, "g", -1)
        elif verb in "bgGxX":
            self._float(v, verb, -1)
        elif verb in "fFeE":
            self._float(v, verb, 6)
        else:
            self.bad_verb(verb, v)

    def _float(self, v: float, verb: str, prec: int) -> None:
        if self.prec_present:
            prec = self.prec
        num = format_float(v, verb, prec)
        if self.sharp and verb != "b" and verb in "gGeEfFxX" and "." not in num and not num.lstrip("+-")[:1].isalpha():
            # the sharp flag forces a decimal point (trailing zeros kept for %g)
            if verb in "gG":
                digits = prec if prec >= 0 else 6
                mant, sep, tail = num.partition("e" if verb == "g" else "E")
                nd = sum(c.isdigit() for c in mant.lstrip("-+0")) or 1
                mant = mant + "." + "0" * max(digits - nd, 0)
                num = mant + (sep + tail if sep else "")
            elif verb in "eE":
                mant, sep, tail = num.partition(verb)
                num = mant + "." + sep + tail
            elif verb in "xX":
                mant, sep, tail = num.partition("p" if verb == "x" else "P")
                num = mant + "." + sep + tail
            else:
                num += "."
        if num[0] not in "+-":
            num = "+" + num
        if self.space and num[0] == "+" and not self.plus:
            num = " " + num[1:]
        if num[1] in "IN":
            old = self.zero
            self.zero = False
            if num[1] == "N" and not self.space and not self.plus:
                num = num[1:]
            self.pad(num)
            self.zero = old
            return
        if self.plus or num[0] != "+":
            if self.zero and not self.minus and self.wid_present and self.wid > len(num):
                self.buf.append(num[0] + "0" * (self.wid - len(num)) + num[1:])
                return
            self.pad(num)
            return
        self.pad(num[1:])

    def fmt_string(self, v: str, verb: str) -> None:
        if verb == "v":
            if self.sharp_v:
                self.fmt_q(v)
            else:
                self.pad(self.trunc(v))
        elif verb == "s":
            self.pad(self.trunc(v))
        elif verb in "xX":
            self.fmt_sx(v, _LDIGITS if verb == "x" else _UDIGITS)
        elif verb == "q":
            self.fmt_q(v)
        else:
            self.bad_verb(verb, v)

    def fmt_q(self, v: str) -> None:
        v = self.trunc(v)
        if self.sharp and _can_backquote(v):
            self.pad("`" + v + "`")
        else:
            self.pad(go_quote(v, self.plus))

    def fmt_sx(self, v: str, digits: str) -> None:
        b = v.encode("utf-8", "surrogateescape")
        length = len(b)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width > 0:
            if self.space:
                if self.sharp:
                    width *= 2
                width += length - 1
            elif self.sharp:
                width += 2
        else:
            if self.wid_present:
                self.buf.append(self.padding(self.wid))
            return
        if self.wid_present and self.wid > width and not self.minus:
            self.buf.append(self.padding(self.wid - width))
        out = []
        if self.sharp:
            out.append("0" + digits[16])
        for i in range(length):
            if self.space and i > 0:
                out.append(" ")
                if self.sharp:
                    out.append("0" + digits[16])
            out.append(digits[b[i] >> 4] + digits[b[i] & 15])
        self.buf.append("".join(out))
        if self.wid_present and self.wid > width and self.minus:
            self.buf.append(self.padding(self.wid - width))


def _rune(v: int) -> str:
    if 0 <= v <= 0x10FFFF and not 0xD800 <= v < 0xE000:
        return chr(v)
    return "\ufffd"


def sprint(args) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    p = _Printer()
    prev_string = False
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            p.buf.append(" ")
        p.print_arg(a, "v")
        prev_string = is_string
    return "".join(p.buf)


def sprintln(args) -> str:
    """``fmt.Sprintln``: operands separated by spaces, then a newline."""
    p = _Printer()
    for i, a in enumerate(args):
        if i:
            p.buf.append(" ")
        p.print_arg(a, "v")
    p.buf.append("\n")
    return "".join(p.buf)


def _parsenum(s: str, i: int, end: int) -> tuple[int, bool, int]:
    if i >= end or not s[i].isdigit() or not s[i].isascii():
        return 0, False, i
    num = 0
    while i < end and "0" <= s[i] <= "9":
        num = num * 10 + ord(s[i]) - 48
        if num > 1_000_000:
            return 0, False, end
        i += 1
    return num, True, i


def _int_from_arg(a: list, arg_num: int) -> tuple[int, bool, int]:
    if arg_num < len(a):
        v = a[arg_num]
        ok = isinstance(v, int) and not isinstance(v, bool)
        num = int(v) if ok else 0
        if ok and not -1_000_000 <= num <= 1_000_000:
            num, ok = 0, False
        return num, ok, arg_num + 1
    return 0, False, arg_num


def sprintf(fmt: str, a) -> str:
    """``fmt.Sprintf`` with Go's verbs, flags, widths, argument indexes and error forms."""
    a = list(a)
    p = _Printer()
    end = len(fmt)
    arg_num = 0
    after_index = False
    i = 0

    def arg_number(arg_num: int, i: int) -> tuple[int, int, bool]:
        if i >= end or fmt[i] != "[":
            return arg_num, i, False
        p.reordered = True
        # parseArgNumber
        s = fmt[i:]
        if len(s) >= 3:
            for j in range(1, len(s)):
                if s[j] == "]":
                    w, ok, newi = _parsenum(s, 1, j)
                    if not ok or newi != j:
                        p.good_arg_num = False
                        return arg_num, i + j + 1, False
                    idx = w - 1
                    if 0 <= idx < len(a):
                        return idx, i + j + 1, True
                    p.good_arg_num = False
                    return arg_num, i + j + 1, True
        p.good_arg_num = False
        return arg_num, i + 1, False

    while i < end:
        p.good_arg_num = True
        lasti = i
        while i < end and fmt[i] != "%":
            i += 1
        if i > lasti:
            p.buf.append(fmt[lasti:i])
        if i >= end:
            break
        i += 1
        p.clear()
        simple_done = False
        while i < end:
            c = fmt[i]
            if c == "#":
                p.sharp = True
            elif c == "0":
                p.zero = not p.minus
            elif c == "+":
                p.plus = True
            elif c == "-":
                p.minus = True
                p.zero = False
            elif c == " ":
                p.space = True
            else:
                if "a" <= c <= "z" and arg_num < len(a):
                    if c == "v":
                        p.sharp_v, p.sharp = p.sharp, False
                        p.plus_v, p.plus = p.plus, False
                    p.print_arg(a[arg_num], c)
                    arg_num += 1
                    i += 1
                    simple_done = True
                break
            i += 1
        if simple_done:
            continue
        arg_num, i, after_index = arg_number(arg_num, i)
        if i < end and fmt[i] == "*":
            i += 1
            p.wid, p.wid_present, arg_num = _int_from_arg(a, arg_num)
            if not p.wid_present:
                p.buf.append("%!(BADWIDTH)")
            if p.wid < 0:
                p.wid = -p.wid
                p.minus = True
                p.zero = False
            after_index = False
        else:
            p.wid, p.wid_present, i = _parsenum(fmt, i, end)
            if after_index and p.wid_present:
                p.good_arg_num = False
        if i + 1 < end and fmt[i] == ".":
            i += 1
            if after_index:
                p.good_arg_num = False
            arg_num, i, after_index = arg_number(arg_num, i)
            if i < end and fmt[i] == "*":
                i += 1
                p.prec, p.prec_present, arg_num = _int_from_arg(a, arg_num)
                if p.prec < 0:
                    p.prec, p.prec_present = 0, False
                if not p.prec_present:
                    p.buf.append("%!(BADPREC)")
                after_index = False
            else:
                p.prec, p.prec_present, i = _parsenum(fmt, i, end)
                if not p.prec_present:
                    p.prec, p.prec_present = 0, True
        if not after_index:
            arg_num, i, after_index = arg_number(arg_num, i)
        if i >= end:
            p.buf.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            p.buf.append("%")
        elif not p.good_arg_num:
            p.buf.append(f"%!{verb}(BADINDEX)")
        elif arg_num >= len(a):
            p.buf.append(f"%!{verb}(MISSING)")
        else:
            if verb == "v":
                p.sharp_v, p.sharp = p.sharp, False
                p.plus_v, p.plus = p.plus, False
            p.print_arg(a[arg_num], verb)
            arg_num += 1
    if not p.reordered and arg_num < len(a):
        p.clear()
        p.buf.append("%!(EXTRA ")
        for k, arg in enumerate(a[arg_num:]):
            if k:
                p.buf.append(", ")
            if arg is None or arg is MISSING:
                p.buf.append("<nil>")
            else:
                p.buf.append(go_type_name(arg) + "=")
                p.print_arg(arg, "v")
        p.buf.append(")")
    return "".join(p.buf)
