"""Why did a GJSON path return nothing?  Evaluate its prefixes and say where it stops matching.

Pure logic (no Textual): ``explain_path(document, path)`` walks ``a``, ``a.b``, ``a.b.c`` ... and
for the first prefix that matches nothing tells what the value before it was and what would
have matched (the keys of an object, the size of an array, a case or spelling near miss).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field

from engine.paths import gjson
from engine.paths.split import split_top_level

PREVIEW = 30
_MAX_KEYS_TEXT = 4 * 1024 * 1024  # don't decode huge objects just to list their keys


@dataclass(frozen=True)
class PathStep:
    """One prefix of the path and what it gave."""

    prefix: str  # the path up to and including this component
    component: str
    col: int  # 1-based column of the component in the path
    exists: bool
    type: str  # gjson type name, "" when nothing matched
    preview: str  # the raw value on one line, shortened


@dataclass
class PathExplanation:
    steps: list[PathStep] = field(default_factory=list)
    stopped: PathStep | None = None  # the first step that matched nothing
    reason: str = ""  # why it matched nothing (or a note about the result)
    hints: list[str] = field(default_factory=list)


def split_components(path: str) -> list[tuple[str, int, int]]:
    """Top-level components of a GJSON path as ``(text, start, end)``; ``.`` and ``|`` separate them.

    Separators inside ``[] {} ()`` (multipaths, queries, modifier arguments), inside double-quoted
    strings and after a backslash do not count.
    """
    return split_top_level(path, ".|", top_level_strings=False)


def preview(raw: str, width: int = PREVIEW) -> str:
    one_line = " ".join(raw.split())
    return one_line if len(one_line) <= width else one_line[:width - 1] + "…"


def json_problem(text: str) -> str:
    """Where the text stops being JSON (``""`` when it is valid)."""
    if not text.strip():
        return "the JSON input is empty: paste a response or load one from a file"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"the input is not valid JSON (line {exc.lineno}:{exc.colno}: {exc.msg}); GJSON reads what it can"
    except (RecursionError, ValueError) as exc:
        return f"the input could not be decoded as JSON: {exc}"
    return ""


def _object_keys(raw: str) -> list[str] | None:
    if len(raw) > _MAX_KEYS_TEXT:
        return None
    try:
        pairs = json.loads(raw, object_pairs_hook=lambda items: items)
    except (ValueError, RecursionError):
        return None
    if not isinstance(pairs, list):
        return None
    keys: list[str] = []
    for key, _ in pairs:
        if key not in keys:
            keys.append(key)
    return keys


def _unescape(component: str) -> str:
    out = []
    i = 0
    while i < len(component):
        if component[i] == "\\" and i + 1 < len(component):
            i += 1
        out.append(component[i])
        i += 1
    return "".join(out)


def _why(parent: gjson.Result | None, parent_prefix: str, component: str, document: gjson.Document,
         out: PathExplanation) -> None:
    """Fill ``reason`` and ``hints`` for a component that matched nothing below *parent*."""
    if component.startswith("@"):
        out.reason = f"the modifier {component.split(':', 1)[0]} gave no result here"
        return
    if component.startswith(("[", "{")):
        out.reason = "the multipath matched nothing"
        return
    if parent is None:  # the first component, below the document root
        problem = json_problem(document.text)
        if problem:
            out.reason = problem
            return
        root = document.text.lstrip()[:1]
        if root == "[":
            parent = gjson.Result(gjson.JSON, document.text.strip())
        elif root == "{":
            parent = gjson.Result(gjson.JSON, document.text.strip())
        else:
            out.reason = "the document is a single value, not an object or array"
            return
    where = f"`{parent_prefix}`" if parent_prefix else "the document root"
    if parent.is_object():
        key = _unescape(component)
        if "*" in key or "?" in key:
            out.reason = f"no key of the object at {where} matches the pattern `{key}`"
        else:
            out.reason = f"`{key}` is not a key of the object at {where}"
        keys = _object_keys(parent.raw)
        if keys is not None:
            if not keys:
                out.hints.append("the object is empty: {}")
                return
            folded = [k for k in keys if k.lower() == key.lower()]
            if folded:
                out.hints.append(f"keys are case-sensitive: did you mean `{folded[0]}`?")
            else:
                close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
                if close:
                    out.hints.append("did you mean " + " or ".join(f"`{k}`" for k in close) + "?")
            shown = ", ".join(keys[:12]) + (f", ... ({len(keys)} keys)" if len(keys) > 12 else "")
            out.hints.append(f"keys there: {shown}")
            dotted = [k for k in keys if k.startswith(key + ".")]
            if dotted:
                escaped = dotted[0].replace(".", "\\.")
                out.hints.append(f"the key `{dotted[0]}` contains a dot: write it as `{escaped}`")
        return
    if parent.is_array():
        count = len(parent.array())
        if component.isdigit():
            out.reason = f"index {component} is out of range: the array at {where} has {count} items"
            if count:
                out.hints.append(f"valid indexes are 0 to {count - 1}; `#` gives the count")
        elif component.startswith("#(") or component.startswith("#["):
            out.reason = f"no item of the array at {where} ({count} items) matches the query {component}"
            out.hints.append("queries compare exactly: strings need quotes, e.g. #(name==\"Ann\"); "
                             "`%` matches a pattern, e.g. #(name%\"A*\"); add `#` after `)` for all matches")
        else:
            base = f"{parent_prefix}." if parent_prefix else ""
            out.reason = f"the value at {where} is an array of {count} items, not an object"
            out.hints.append(f"use `{base}#.{component}` to take `{component}` from every item, "
                             f"or `{base}0.{component}` for the first item")
        return
    out.reason = (f"the value at {where} is a {parent.type} ({preview(parent.raw, 24)}), "
                  "so there is nothing below it")


def explain_path(document: gjson.Document, path: str) -> PathExplanation:
    """Evaluate every prefix of *path*; explain the first one that matches nothing."""
    out = PathExplanation()
    if not path:
        out.reason = "type a path, e.g. `data.0.name` or `items.#.id`"
        return out
    components = split_components(path)
    parent: gjson.Result | None = None
    parent_prefix = ""
    for text, start, end in components:
        prefix = path[:end]
        result = document.get(prefix)
        step = PathStep(prefix, text, start + 1, result.exists, result.type if result.exists else "",
                        preview(result.raw) if result.exists else "")
        out.steps.append(step)
        if not result.exists:
            out.stopped = step
            _why(parent, parent_prefix, text, document, out)
            return out
        parent, parent_prefix = result, prefix
    if parent is not None:
        if parent.type == "Null":
            out.reason = "the path matched `null`: the field is there but has no value (the PBX shows it empty)"
        elif parent.raw == "[]" and "#" in path:
            out.reason = "the path matched an empty list: no item has the key after `#.`"
        elif parent.type == "String" and parent.string == "":
            out.reason = "the path matched an empty string"
    return out
