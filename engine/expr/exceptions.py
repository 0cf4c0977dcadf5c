"""The two located errors of the template engine."""

from __future__ import annotations

from engine.errors import Location, TemplateError, caret_excerpt


class TemplateSyntaxError(TemplateError):
    """The template text does not parse.  ``location`` is (template name, line, col)."""


class TemplateExecError(TemplateError):
    """Rendering failed (bad argument, wrong type, unsafe value...).  Located like a syntax error."""


def position(text: str, pos: int) -> tuple[int, int]:
    """1-based (line, column) of offset *pos* in *text*."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def located(cls, text: str, name: str, pos: int, message: str):
    pos = max(0, min(pos, len(text)))
    if pos == len(text) and text.endswith("\n"):
        pos -= 1  # the end of input: point just past the last line's text
        if pos > 0 and text[pos - 1] == "\r":
            pos -= 1
    line, col = position(text, pos)
    return cls(message, Location(file=name, line=line, col=col), caret_excerpt(text, line, col))
