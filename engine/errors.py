"""Errors as values with a location.

Every error deskline reports about user input names *what* went wrong and
*where*: the file, ``line:col`` and the element or field.  The CLI and the TUI
print the same text, produced by :meth:`Location.__str__` and
:meth:`LocatedError.__str__`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is: a file (or a template name), a position and a field."""

    file: str = ""
    line: int = 0
    col: int = 0
    field: str = ""

    def __str__(self) -> str:
        parts = []
        where = self.file or "<input>"
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        parts.append(where)
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


@dataclass(slots=True)
class LocatedError(Exception):
    """Base class of every user-facing error of the engine."""

    message: str
    location: Location = field(default_factory=Location)
    excerpt: str = ""

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.excerpt:
            text += "\n" + self.excerpt
        return text


class TemplateError(LocatedError):
    """A problem in a template file (XML, structure or a value in it)."""


def caret_excerpt(text: str, line: int, col: int, width: int = 80) -> str:
    """Return the offending source line with a caret under column *col* (1-based)."""
    lines = text.splitlines() or [""]
    if not 1 <= line <= len(lines):
        return ""
    src = lines[line - 1].expandtabs(1)
    start = 0
    if col > width - 10:
        start = col - (width // 2)
    shown = src[start:start + width]
    caret = " " * max(col - 1 - start, 0) + "^"
    prefix = "  "
    return f"{prefix}{shown}\n{prefix}{caret}"
