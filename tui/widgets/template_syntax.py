"""Syntax highlighting for the template screens' TextAreas, only when it needs no extra install."""

from __future__ import annotations

from importlib.util import find_spec


def syntax_language(language: str, enabled: bool = True) -> str | None:
    """*language* when Textual can highlight it here (tree-sitter and its grammar installed), else ``None``.

    Textual lists its built-in languages even without the ``syntax`` extra; setting one then only
    logs a warning, so ask for the grammar package itself.
    """
    if not enabled:
        return None
    try:
        found = find_spec("tree_sitter") is not None and find_spec(f"tree_sitter_{language}") is not None
    except (ImportError, ValueError):
        found = False
    return language if found else None
