"""Findings: located errors, warnings and notes about a template."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from engine.errors import Location


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One linter finding: ``FILE:LINE:COL: severity: MESSAGE [field] (code)``."""

    severity: Severity
    message: str
    location: Location
    code: str

    def __str__(self) -> str:
        loc = self.location
        where = loc.file or "<input>"
        if loc.line:  # a finding about the whole file (its size) has no line
            where += f":{loc.line}:{loc.col}"
        field = f" [{loc.field}]" if loc.field else ""
        return f"{where}: {self.severity.value}: {self.message}{field} ({self.code})"

    def as_dict(self) -> dict:
        loc = self.location
        return {
            "file": loc.file, "line": loc.line, "col": loc.col, "severity": self.severity.value,
            "message": self.message, "field": loc.field, "code": self.code,
        }


def error(message: str, location: Location, code: str) -> Finding:
    return Finding(Severity.ERROR, message, location, code)


def warning(message: str, location: Location, code: str) -> Finding:
    return Finding(Severity.WARNING, message, location, code)


def info(message: str, location: Location, code: str) -> Finding:
    return Finding(Severity.INFO, message, location, code)
