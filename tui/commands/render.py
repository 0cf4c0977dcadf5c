"""``deskline render TEMPLATE_TEXT_OR_FILE [--vars FILE] [--context json|url|text]``.

Renders a template the way the PBX does (PBX dialect) and prints the result,
or the located error (name:line:col, message, caret excerpt) on stderr with
exit status 1 when the template fails to parse or run, 2 when the template
file or the variables cannot be read (missing, not UTF-8, invalid JSON).  TEMPLATE is a file when such a file exists, ``-`` for stdin,
else the template text itself.  ``--vars`` is a JSON object (``-`` for stdin).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _decode(data: bytes, name: str) -> str:
    """UTF-8 text, or a located error at the first byte that is not UTF-8."""
    from engine.errors import LocatedError, Location

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise LocatedError(f"not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded",
                           Location(file=name, line=line, col=col)) from None


def _read_template(arg: str) -> tuple[str, str]:
    if arg == "-":
        return _decode(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"
    p = Path(arg)
    try:
        if p.is_file():
            return _decode(p.read_bytes(), str(p)), str(p)
    except OSError:
        pass
    return arg, "<template>"


def _read_vars(path: str | None):
    from engine.errors import LocatedError, Location, caret_excerpt

    if path is None:
        return {}
    name = "<stdin>" if path == "-" else path
    try:
        text = _decode(sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes(), name)
    except OSError as e:
        raise LocatedError(f"cannot read variables: {e.strerror or e}", Location(file=name)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LocatedError(f"invalid JSON: {e.msg}", Location(file=name, line=e.lineno, col=e.colno),
                           caret_excerpt(text, e.lineno, e.colno)) from None
    except RecursionError:
        raise LocatedError("invalid variables: the JSON nests too deeply", Location(file=name, line=1, col=1)) from None
    if not isinstance(data, dict):
        raise LocatedError("the variables must be a JSON object", Location(file=name, line=1, col=1))
    return data


def run(args) -> int:
    from engine.errors import LocatedError
    from engine.expr import compile_template

    try:
        text, name = _read_template(args.template)
        data = _read_vars(args.vars)
    except LocatedError as e:  # the input cannot be read: like every command, status 2
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        result = compile_template(text, name).render(data, context=args.context)
    except LocatedError as e:  # the template itself is wrong: status 1, as the PBX would fail it
        print(f"error: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(result if result.endswith("\n") else result + "\n")
    return 0
