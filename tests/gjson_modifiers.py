"""The custom modifiers the GJSON conformance cases register (see tests/data/gjson/README.md)."""

from __future__ import annotations

from engine.paths import gjson


def case(json_text: str, arg: str) -> str:
    arg = arg.lower()
    if arg == "upper":
        return json_text.upper()
    if arg == "lower":
        return json_text.lower()
    return json_text


def push(json_text: str, arg: str) -> str:
    if not gjson.get(json_text, "@this").is_array():
        return json_text
    body = json_text.strip()[1:-1].strip()
    return "[" + (body + "," if body else "") + arg + "]"


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(json_text: str, arg: str) -> str:
    """Go's ``strconv.Quote`` of the input."""
    out = ['"']
    for ch in json_text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch < " " or ch == "\x7f":
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


CUSTOM = {"case": case, "push": push, "string": go_quote}
