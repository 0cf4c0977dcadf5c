"""Splitting path text at top-level separators.

A field's alternatives (``a.b, c.d``) and a GJSON path's components
(``data.#(name=="x.y").id``) are both cut only where a separator stands at the
top level: not inside ``[] {} ()`` (multipaths, queries, modifier arguments,
``{{ .Var }}``), not inside a double-quoted string, not after a backslash.
"""

from __future__ import annotations


def split_top_level(text: str, separators: str, *, top_level_strings: bool = True) -> list[tuple[str, int, int]]:
    """The pieces of *text* between top-level *separators*, as ``(piece, start, end)``.

    ``top_level_strings=False`` reads a ``"`` outside brackets as an ordinary
    character (GJSON keys may contain one); inside brackets it always opens a string.
    """
    pieces: list[tuple[str, int, int]] = []
    depth = 0
    in_str = False
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if in_str:
            if c == '"':
                in_str = False
        elif c == '"' and (depth or top_level_strings):
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif c in separators and depth == 0:
            pieces.append((text[start:i], start, i))
            start = i + 1
        i += 1
    pieces.append((text[start:], start, n))
    return pieces
