"""How the newer subcommands report bad input: ``error: <where>: <what>`` on stderr, exit status 2.

The text is the engine's located-error text (``file:line:col: field: message``
and the caret excerpt), the same the other commands print; an error about a
command-line argument names the argument instead of a file.
"""

from __future__ import annotations

import sys

INPUT_ERROR = 2


def report(exc) -> int:
    """Print a :class:`engine.errors.LocatedError` (live secrets masked); returns the exit status for input errors."""
    loc = exc.location
    if not loc.file and not loc.line and loc.field:
        text = f"{loc.field}: {exc.message}" + (f"\n{exc.excerpt}" if exc.excerpt else "")
        text += "".join(f"\n{other}" for other in getattr(exc, "more", []))
    else:
        text = str(exc)
    from engine.http.redaction import redact_text

    print(f"error: {redact_text(text)}", file=sys.stderr)
    return INPUT_ERROR


def refuse(where: object, message: str) -> int:
    """Print ``error: where: message`` (where: an argument, a file or a Location); returns 2."""
    print(f"error: {where}: {message}", file=sys.stderr)
    return INPUT_ERROR
