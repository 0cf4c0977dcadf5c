"""GJSON paths with the exact behaviour of the Go library the PBX runs.

Templates select response fields with GJSON paths (github.com/tidwall/gjson).
This module answers them the way the Go library does, down to number
formatting, first-match on duplicate keys, whitespace kept in raw results and
leniency on malformed JSON::

    >>> from engine.paths import gjson
    >>> gjson.get('{"data":[{"id":7},{"id":8}]}', "data.#.id").string
    '[7,8]'
    >>> doc = gjson.parse(response_text)      # decode once, ask many paths
    >>> doc.get("data.0.name").string

How it works: :func:`parse` decodes valid JSON once with the C decoder
(keeping member order, duplicate keys and raw number text) and evaluates
common paths (keys, indexes, ``#``, ``#.`` projections and ``#(...)``
queries) on that tree.  Anything else, including malformed JSON, modifiers,
pipes, multipaths and results whose raw text the tree can't reproduce,
goes to ``engine.paths._scan``, a line-by-line port of the Go scanner.  Both
give the same answers; the tree is only faster.

Ported logic: tidwall/gjson, MIT License, Copyright (c) 2016 Josh Baker.
"""

from __future__ import annotations

import difflib
import json as _json
import re
from dataclasses import dataclass
from json.decoder import scanstring as _scanstring
from json.encoder import encode_basestring as _encode_basestring
from typing import Callable

from engine.paths import _scan
from engine.paths._scan import (
    BUILTIN_MODIFIERS,
    FALSE,
    JSON,
    MODIFIERS,
    NULL,
    NUMBER,
    STRING,
    TRUE,
    TYPE_NAMES,
    Result,
    format_float,
    parse_float,
    valid,
)

__all__ = [
    "BUILTIN_MODIFIERS", "Document", "PathProblem", "Result", "TYPE_NAMES", "add_modifier", "escape",
    "format_float", "get", "get_many", "modifier_exists", "parse", "path_problems", "valid",
]


# --- public API -------------------------------------------------------------------

def get(json_text: str, path: str) -> Result:
    """Evaluate ``path`` on ``json_text`` like Go's ``gjson.Get``.

    Never raises for bad JSON or odd paths: like Go, it answers with a
    best-effort or missing :class:`Result` (``.exists`` False, ``.type`` ``Null``).
    For many paths on one document, :func:`parse` once and call ``Document.get``.
    """
    if json_text.__class__ is not str:
        json_text = _text_of(json_text)
    return _scan.safe_get(json_text, path)


def _text_of(data) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data).decode("utf-8", "replace")
    raise TypeError(f"JSON text must be str or bytes, not {type(data).__name__}")


def get_many(json_text: str, *paths: str) -> list[Result]:
    """One :class:`Result` per path (Go's ``GetMany``), decoding the document once."""
    return Document(json_text).get_many(*paths)


def parse(json_text: str) -> "Document":
    """Decode ``json_text`` once; the returned :class:`Document` answers many paths."""
    return Document(json_text)


def add_modifier(name: str, fn: Callable[[str, str], str]) -> None:
    """Register a custom ``@name`` modifier (Go's ``AddModifier``).

    ``fn(json_text, arg_text)`` receives the current value's raw JSON text and
    the argument after ``@name:`` (raw text, ``""`` when absent) and returns
    JSON text.  Registering a built-in name replaces it.  Affects every later
    evaluation in this process.
    """
    if not name or any(c in name for c in ".|:"):
        raise ValueError(f"invalid modifier name {name!r}: it can't be empty or contain '.', '|' or ':'")
    MODIFIERS[name] = fn
    _COMPILED.clear()
    _PLANS.clear()
    _BATCHES.clear()


def modifier_exists(name: str) -> bool:
    """True when ``@name`` is a built-in or registered modifier."""
    return name in MODIFIERS


def escape(component: str) -> str:
    """Escape a key so it can be used as one path component (Go's ``Escape``)."""
    out = []
    for ch in component:
        if not (ch.isascii() and (ch.isalnum() or ch in "_-:") or ch <= " " or ch > "~"):
            out.append("\\")
        out.append(ch)
    return "".join(out)


# --- the decoded document ------------------------------------------------------------

class _NumText(str):
    """Raw text of a JSON number with a fraction or exponent (kept for Go's formatting)."""

    __slots__ = ()


def _reject_constant(name: str):
    raise ValueError(name)


# objects decode to tuples of (key, value) pairs: order and duplicates kept
_DECODER = _json.JSONDecoder(object_pairs_hook=tuple, parse_float=_NumText,
                             parse_constant=_reject_constant)
_SCAN_ONCE = _DECODER.scan_once
_NEG_ZERO = re.compile(r"-0(?![.eE0-9])")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_WS = " \t\n\r"


class _Fallback(Exception):
    """The tree can't reproduce Go's answer for this path: use the scanner."""


_MISSING = object()


class Document:
    """A JSON text decoded once; :meth:`get` answers paths like :func:`get`.

    ``text`` is the original JSON text (bytes are decoded as UTF-8, bad
    bytes replaced).  Valid JSON whose root is an object or array is decoded
    into a tree; anything else is answered by the scanner.
    """

    __slots__ = ("text", "_root", "_tree", "_escapes", "_raw_map", "_neg_zero", "_dicts")

    def __init__(self, json_text: str) -> None:
        if json_text.__class__ is not str:
            json_text = _text_of(json_text)
        self.text = json_text
        self._tree = False
        self._root = None
        # 0: no backslash at all, 1: only short escapes (\" \\ \n ...), 2: \u or \/ too
        self._escapes = 0
        pos = json_text.find("\\")
        while pos >= 0:
            self._escapes = 1
            nxt = json_text[pos + 1:pos + 2]
            if nxt == "u" or nxt == "/":
                self._escapes = 2
                break
            pos = json_text.find("\\", pos + 2)
        self._raw_map = None
        self._neg_zero = None
        self._dicts: dict = {}
        n = len(json_text)
        i = 0
        while i < n and json_text[i] in _WS:
            i += 1
        if i < n and json_text[i] in "{[":
            try:
                root, end = _SCAN_ONCE(json_text, i)
            except (StopIteration, ValueError, RecursionError):
                return
            while end < n and json_text[end] in _WS:
                end += 1
            if end != n:
                return
            if self._escapes == 2 and _SURROGATE_ESCAPE.search(json_text):
                return  # Go turns lone surrogates into U+FFFD, Python keeps them
            self._root = root
            self._tree = True

    @property
    def is_valid_json(self) -> bool:
        """True when the text is one valid JSON object or array."""
        return self._tree

    def get(self, path: str) -> Result:
        """Evaluate ``path`` (same answer as ``get(self.text, path)``)."""
        if self._tree:
            plan = _PLANS.get(path)
            if plan is None:
                plan = _make_plan(path)
            if plan is not False:
                try:
                    return plan(self)
                except _Fallback:
                    pass
        return _scan.safe_get(self.text, path)

    def _run(self, steps: tuple) -> Result:
        kind, val = _eval(self._root, steps, 0, self)
        if kind == _K_RAW:
            return Result(JSON, val)
        return self._result(kind, val)

    def get_many(self, *paths: str) -> list[Result]:
        """One Result per path, like ``[self.get(p) for p in paths]`` but faster.

        Projections over the same array (``data.#.id``, ``data.#.name``, ...,
        the usual shape of a template's field mapping) are answered in one
        pass over its elements.
        """
        if not self._tree or len(paths) < 2:
            return [self.get(p) for p in paths]
        batch = _BATCHES.get(paths)
        if batch is None:
            batch = _batch_plan(paths)
        singles, groups = batch
        out: list = [None] * len(paths)
        get = self.get
        for i in singles:
            out[i] = get(paths[i])
        for first, indexes, rests in groups:
            try:
                answers = _batch_project(self, first, rests)
            except _Fallback:
                for i in indexes:
                    out[i] = get(paths[i])
                continue
            for i, raw in zip(indexes, answers):
                out[i] = Result(JSON, raw)
        return out

    def column(self, prefix: str, rest: str) -> list[Result] | None:
        """``prefix.#.rest`` aligned by element: one Result per element of the array.

        Go's ``prefix.#.rest`` skips elements where ``rest`` is missing; this
        keeps them (as missing Results) so fields of the same element line up,
        which is what record mapping needs.  Each element's Result is Go's
        ``Get(element, rest)``.  ``prefix`` "" means the root; None when the
        value at ``prefix`` is not an array.
        """
        if self._tree:
            psteps = _compile(prefix) if prefix else ()
            rsteps = _compile_sub(rest)
            if psteps is not None and rsteps is not None:
                try:
                    kind, arr = _eval(self._root, psteps, 0, self) if psteps else (_K_VALUE, self._root)
                    if kind != _K_VALUE or arr.__class__ is not list:
                        return None
                    out = []
                    for i, el in enumerate(arr):
                        cls = el.__class__
                        if cls is tuple or cls is list:
                            try:
                                out.append(self._result(*_eval(el, rsteps, 0, self)))
                                continue
                            except _Fallback:
                                pass
                        elif not (cls is str and ("[" in el or "{" in el)):
                            out.append(Result())  # Go finds nothing inside a scalar
                            continue
                        # Go's Get(element, rest) on the element's own text
                        element = self.get(f"{prefix}.{i}" if prefix else str(i))
                        out.append(_scan.safe_get(element.raw, rest))
                    return out
                except _Fallback:
                    pass
        base = self.get(prefix) if prefix else _scan.parse(self.text)
        if not base.is_array():
            return None
        return [e.get(rest) for e in base.array()]

    # -- tree value -> Result

    def _result(self, kind: int, val) -> Result:
        if kind == _K_NONE:
            return Result()
        if kind == _K_RAW:
            return Result(JSON, val)
        if kind == _K_COUNT:
            return Result(NUMBER, str(val), "", float(val))
        cls = val.__class__
        if cls is str:
            return Result(STRING, self._string_raw(val), val)
        if cls is int:
            if val == 0:
                self._zero_check()
            return Result(NUMBER, str(val), "", _int_float(val))
        if cls is _NumText:
            return Result(NUMBER, str.__str__(val), "", parse_float(val))
        if val is True:
            return Result(TRUE, "true")
        if val is False:
            return Result(FALSE, "false")
        if val is None:
            return Result(NULL, "null")
        raise _Fallback  # a container: its raw text keeps the input's whitespace

    def _zero_check(self) -> None:
        """An integer 0 may have been written ``-0``, which Go prints as such."""
        if self._neg_zero is None:
            self._neg_zero = bool(_NEG_ZERO.search(self.text))
        if self._neg_zero:
            raise _Fallback

    def _string_raw(self, s: str) -> str:
        """The exact JSON text a decoded string had in the document."""
        if self._escapes < 2:
            # no \u or \/ in the text: a string's JSON form is unique
            return _encode_basestring(s)
        if self._raw_map is None:
            self._raw_map = _build_raw_map(self.text)
        raw = self._raw_map.get(s)
        if raw is None:
            return _encode_basestring(s)  # written without escapes: the same text
        if raw is False:
            raise _Fallback  # the same text is written two ways in this document
        return raw


def _build_raw_map(text: str) -> dict:
    """Decoded string -> raw token for every escaped string (False when ambiguous).

    Only called for valid JSON, where a backslash is always inside a string:
    the string starts at the nearest unescaped quote before it.
    """
    out: dict = {}
    seen: set = set()
    find = text.find
    pos = find("\\")
    while pos >= 0:
        q = text.rfind('"', 0, pos)
        while q > 0 and text[q - 1] == "\\":
            k = q - 1
            while k >= 0 and text[k] == "\\":
                k -= 1
            if (q - 1 - k) % 2 == 0:
                break  # an even run of backslashes: the quote is not escaped
            q = text.rfind('"', 0, q)
        end = _scan._string_end(text, q + 1)
        if q < 0 or end < 0:
            break
        tok = text[q:end + 1]
        s = None
        if tok not in seen:
            seen.add(tok)
            try:
                s = _scanstring(tok, 1)[0]
            except ValueError:
                s = None
        if s is not None:
            known = out.get(s)
            if known is None:
                # written plain somewhere too? then this text has two forms
                out[s] = False if find('"' + s + '"') >= 0 else tok
            elif known is not False and known != tok:
                out[s] = False
        pos = find("\\", end + 1)
    return out


def _int_float(i: int) -> float:
    try:
        return float(i)
    except OverflowError:
        return float("inf") if i > 0 else float("-inf")


# --- compiled paths ---------------------------------------------------------------------
#
# A compiled path is a tuple of steps:
#   (_S_KEY, key, index)         object member ``key`` / array element ``index`` (None: no index)
#   (_S_COUNT,)                  ``#`` as the last component
#   (_S_PROJECT, rest)           ``#.rest``: rest evaluated on every element
#   (_S_QUERY, qsteps, op, value, all, rest, self_path, value_num)
#                                ``#(...)``/``#(...)#`` then ``.rest`` (rest None when absent);
#                                self_path: the query tests the element itself (``#(=="x")``)
# Paths outside this subset compile to None and go to the scanner.

_S_KEY, _S_COUNT, _S_PROJECT, _S_QUERY = range(4)
_K_NONE, _K_VALUE, _K_RAW, _K_COUNT = range(4)
_SPECIAL = frozenset('\\*?|@[]{}()!"#=<>%~,')


_COMPILED: dict = {}


def _compile(path: str):
    """The compiled steps of ``path`` (cached), or None when only the scanner can answer it."""
    steps = _COMPILED.get(path, _MISSING)
    if steps is _MISSING:
        steps = None
        if path and path[0] not in ".@!" and "|" not in path:
            steps = _compile_steps(path)
        if len(_COMPILED) > 4096:
            _COMPILED.clear()
        _COMPILED[path] = steps
    return steps


_PLANS: dict = {}


def _projection_shape(path: str):
    """(key, rest) when ``path`` is ``key.#.rest`` with rest starting with a key, else None."""
    steps = _compile(path)
    if (steps is not None and len(steps) == 2 and steps[0][0] == _S_KEY
            and steps[1][0] == _S_PROJECT and steps[1][1][0][0] == _S_KEY):
        return (steps[0][1], steps[1][1])
    return None


_BATCHES: dict = {}


def _batch_plan(paths: tuple):
    """(single path indexes, [(key, indexes, specs)]) for :meth:`Document.get_many`."""
    grouped: dict = {}
    singles = []
    for i, path in enumerate(paths):
        shape = _projection_shape(path)
        if shape is None:
            singles.append(i)
        else:
            grouped.setdefault(shape[0], []).append((i, shape[1]))
    groups = []
    for first, items in grouped.items():
        if len(items) == 1:
            singles.append(items[0][0])
        else:
            specs = []
            for _, rest in items:
                deep = rest if len(rest) > 1 else None
                keys = tail = None
                if deep and all(st[0] == _S_KEY for st in rest):
                    if len(rest) == 2:
                        tail = rest[1]  # ``#.a.b``: one more key or index, inlined
                    else:
                        keys = tuple((n == len(rest) - 2, st[1], st[2]) for n, st in enumerate(rest[1:]))
                specs.append((rest[0][1], deep, keys, tail, rest))
            groups.append((first, [i for i, _ in items], specs))
    plan = (singles, groups)
    if len(_BATCHES) > 1024:
        _BATCHES.clear()
    _BATCHES[paths] = plan
    return plan


def _batch_project(doc: "Document", first: str, specs: list) -> list:
    """The raw arrays of ``first.#.rest`` for every rest, in one pass over the array.

    ``specs`` holds, per rest: its first key, the rest when longer than one
    step, the rest's later steps as (is_last, key, index) when they are all
    keys/indexes, and the rest itself.
    """
    root = doc._root
    if root.__class__ is not tuple:
        raise _Fallback
    arr = _member(root, first, doc)
    if arr.__class__ is not list:
        raise _Fallback
    plain = doc._escapes < 2
    raw_map = None
    if not plain:
        if doc._raw_map is None:
            doc._raw_map = _build_raw_map(doc.text)
        raw_map = doc._raw_map
    parts: list = [[] for _ in specs]
    run = [(key, deep, keys, tail, part.append) for (key, deep, keys, tail, _), part in zip(specs, parts)]
    for el in arr:
        cls = el.__class__
        d = None
        if cls is tuple:
            d = dict(el)
            if len(d) != len(el):
                d = None  # duplicate keys: take the general road for this element
        elif cls is not list:
            if cls is str and ("[" in el or "{" in el):
                raise _Fallback
            continue
        if d is None:
            for spec, part in zip(specs, parts):
                kind, v = _eval(el, spec[4], 0, doc)
                if kind != _K_NONE:
                    part.append(_kind_raw(kind, v, doc))
            continue
        get = d.get
        for key, deep, keys, tail, append in run:
            v = get(key, _MISSING)
            if v is _MISSING:
                continue
            if tail is not None:
                c = v.__class__
                if c is tuple:
                    k = tail[1]
                    for kk, x in v:
                        if kk == k:
                            v = x
                            break
                    else:
                        continue
                elif c is list and tail[2] is not None and tail[2] < len(v):
                    v = v[tail[2]]
                else:
                    continue
            elif keys is not None:
                # the rest is keys and indexes only: walk it inline
                for is_last, k, idx in keys:
                    c = v.__class__
                    if c is tuple:
                        if is_last:
                            for kk, x in v:
                                if kk == k:
                                    v = x
                                    break
                            else:
                                v = _MISSING
                        else:
                            v = _member(v, k, doc)
                    elif c is list and idx is not None and idx < len(v):
                        v = v[idx]
                    else:
                        v = _MISSING
                    if v is _MISSING:
                        break
                if v is _MISSING:
                    continue
            elif deep is not None:
                kind, v = _eval(v, deep, 1, doc)
                if kind != _K_VALUE:
                    if kind != _K_NONE:
                        append(_kind_raw(kind, v, doc))
                    continue
            c = v.__class__
            if c is str:
                if plain:
                    append(_encode_basestring(v))
                else:
                    r = raw_map.get(v)
                    if r is None:
                        append(_encode_basestring(v))  # written without escapes
                    elif r is False:
                        raise _Fallback
                    else:
                        append(r)
            elif c is int and v:
                append(str(v))
            else:
                append(_raw_of(v, doc))
    return ["[" + ",".join(p) + "]" for p in parts]


def _make_plan(path: str):
    """A function answering ``path`` on a Document's tree, or False (scanner only)."""
    steps = _compile(path)
    if steps is None:
        plan = False
    elif (len(steps) == 2 and steps[0][0] == _S_KEY and steps[1][0] == _S_PROJECT
          and all(st[0] == _S_KEY for st in steps[1][1])):
        # the mapping shape ``data.#.a.b``: one key, then a projection of keys
        first = steps[0][1]
        rest = steps[1][1]

        if len(rest) == 1:
            key = rest[0][1]

            def plan(doc: Document) -> Result:
                root = doc._root
                if root.__class__ is tuple:
                    arr = _member(root, first, doc)
                    if arr.__class__ is list:
                        if doc._escapes < 2:
                            # the common case, inlined: ``data.#.key``, strings with a unique form
                            parts = []
                            append = parts.append
                            for el in arr:
                                if el.__class__ is not tuple:
                                    return Result(JSON, _project(arr, rest, doc))
                                for k, v in el:
                                    if k == key:
                                        cls = v.__class__
                                        if cls is str:
                                            append(_encode_basestring(v))
                                        elif cls is int and v:
                                            append(str(v))
                                        else:
                                            append(_raw_of(v, doc))
                                        break
                            return Result(JSON, "[" + ",".join(parts) + "]")
                        return Result(JSON, _project(arr, rest, doc))
                return doc._run(steps)
        else:
            def plan(doc: Document) -> Result:
                root = doc._root
                if root.__class__ is tuple:
                    arr = _member(root, first, doc)
                    if arr.__class__ is list:
                        return Result(JSON, _project(arr, rest, doc))
                return doc._run(steps)
    else:
        def plan(doc: Document) -> Result:
            return doc._run(steps)
    if len(_PLANS) > 4096:
        _PLANS.clear()
    _PLANS[path] = plan
    return plan


def _compile_sub(path: str):
    """Compile a path that Go evaluates with a fresh ``Get`` (projection/query parts)."""
    if path and path[0] in ".@!":
        return None
    return _compile_steps(path)


def _compile_steps(path: str):
    steps = []
    i = 0
    n = len(path)
    while True:
        if path.startswith("#", i):
            if i + 1 == n:
                steps.append((_S_COUNT,))
                return tuple(steps)
            nxt = path[i + 1]
            if nxt == ".":
                rest = _compile_sub(path[i + 2:])
                if rest is None:
                    return None
                steps.append((_S_PROJECT, rest))
                return tuple(steps)
            if nxt == "(" or nxt == "[":
                qpath, op, value, _remain, fi, vesc, ok = _scan.parse_query(path[i:])
                if not ok:
                    return None
                if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                    value = value[1:-1]
                    if vesc:
                        value = _scan.unescape(value)
                qsteps = ((_S_KEY, "", None),) if qpath == "" else _compile_sub(qpath)
                if qsteps is None:
                    return None
                j = i + fi
                query_all = j < n and path[j] == "#"
                if query_all:
                    j += 1
                rest = None
                if j < n:
                    if path[j] != ".":
                        return None
                    rest = _compile_sub(path[j + 1:])
                    if rest is None:
                        return None
                steps.append((_S_QUERY, qsteps, op, value, query_all, rest, qpath == "",
                              parse_float(value)))
                return tuple(steps)
            return None
        dot = path.find(".", i)
        part = path[i:] if dot < 0 else path[i:dot]
        if any(c in _SPECIAL for c in part):
            return None
        index = None
        if part.isdigit() and part.isascii():
            if len(part) > 18:
                return None
            index = int(part)
        steps.append((_S_KEY, part, index))
        if dot < 0:
            return tuple(steps)
        if dot + 1 < n and path[dot + 1] in "@[{":
            return None  # a '.' before a modifier or multipath acts as a pipe
        i = dot + 1


# --- evaluation on the tree ----------------------------------------------------------------

def _lookup(obj: tuple, key: str, doc: Document):
    """The first member named ``key`` (Go's answer for the last path component)."""
    for k, v in obj:
        if k == key:
            return v
    return _MISSING


def _member(obj: tuple, key: str, doc: Document):
    """The member named ``key`` when the path goes on below it.

    With duplicate keys Go tries each one in turn until the rest of the path
    matches; the tree leaves that rare case to the scanner.
    """
    if len(obj) > 4:
        # objects the path goes through are indexed once per document
        d = doc._dicts.get(id(obj))
        if d is None:
            d = dict(obj)
            if len(d) != len(obj):
                d = False
            doc._dicts[id(obj)] = d
        if d is not False:
            return d.get(key, _MISSING)
    found = _MISSING
    for k, v in obj:
        if k == key:
            if found is not _MISSING:
                raise _Fallback
            found = v
    return found


def _eval(val, steps: tuple, si: int, doc: Document):
    """Evaluate steps[si:] on a tree value: (kind, payload)."""
    nsteps = len(steps)
    while si < nsteps:
        step = steps[si]
        cls = val.__class__
        op = step[0]
        if op == _S_KEY:
            if cls is tuple:
                key = step[1]
                val = _lookup(val, key, doc) if si + 1 == nsteps else _member(val, key, doc)
                if val is _MISSING:
                    return _K_NONE, None
            elif cls is list:
                idx = step[2]
                if idx is None or idx >= len(val):
                    return _K_NONE, None
                val = val[idx]
            else:
                return _K_NONE, None
        elif op == _S_COUNT:
            if cls is list:
                return _K_COUNT, len(val)
            if cls is tuple:
                val = _lookup(val, "#", doc)
                if val is _MISSING:
                    return _K_NONE, None
            else:
                return _K_NONE, None
        elif op == _S_PROJECT:
            if cls is list:
                return _K_RAW, _project(val, step[1], doc)
            if cls is tuple:
                val = _member(val, "#", doc)
                if val is _MISSING:
                    return _K_NONE, None
                return _eval(val, step[1], 0, doc)
            return _K_NONE, None
        else:
            if cls is list:
                return _query(val, step, doc)
            if cls is tuple:
                raise _Fallback
            return _K_NONE, None
        si += 1
    return _K_VALUE, val


def _project(arr: list, rest: tuple, doc: Document) -> str:
    """Go's ``#.rest``: the raw results of ``rest`` on every element, as a JSON array."""
    parts = []
    append = parts.append
    plain = doc._escapes < 2
    if len(rest) == 1 and rest[0][0] == _S_KEY:
        # fast lane: ``#.key``
        key = rest[0][1]
        idx = rest[0][2]
        for el in arr:
            cls = el.__class__
            if cls is tuple:
                for k, v in el:
                    if k == key:
                        if plain and v.__class__ is str:
                            append(_encode_basestring(v))
                        else:
                            append(_raw_of(v, doc))
                        break
            elif cls is list:
                if idx is not None and idx < len(el):
                    append(_raw_of(el[idx], doc))
            elif cls is str and ("[" in el or "{" in el):
                raise _Fallback
        return "[" + ",".join(parts) + "]"
    if all(st[0] == _S_KEY for st in rest):
        # fast lane: ``#.a.b.c`` (keys and indexes only)
        inner = rest[:-1]
        key, idx = rest[-1][1], rest[-1][2]
        for el in arr:
            cls = el.__class__
            if cls is not tuple and cls is not list:
                if cls is str and ("[" in el or "{" in el):
                    raise _Fallback
                continue
            v = el
            for st in inner:
                cls = v.__class__
                if cls is tuple:
                    v = _member(v, st[1], doc)
                    if v is _MISSING:
                        break
                elif cls is list:
                    i = st[2]
                    if i is None or i >= len(v):
                        v = _MISSING
                        break
                    v = v[i]
                else:
                    v = _MISSING
                    break
            if v is _MISSING:
                continue
            cls = v.__class__
            if cls is tuple:
                for k, x in v:
                    if k == key:
                        if plain and x.__class__ is str:
                            append(_encode_basestring(x))
                        else:
                            append(_raw_of(x, doc))
                        break
            elif cls is list and idx is not None and idx < len(v):
                append(_raw_of(v[idx], doc))
        return "[" + ",".join(parts) + "]"
    for el in arr:
        cls = el.__class__
        if cls is not tuple and cls is not list:
            # Go evaluates the rest on the element's raw text, which only a
            # string with a bracket in it can answer
            if cls is str and ("[" in el or "{" in el):
                raise _Fallback
            continue
        kind, v = _eval(el, rest, 0, doc)
        if kind == _K_NONE:
            continue
        append(_kind_raw(kind, v, doc))
    return "[" + ",".join(parts) + "]"


def _kind_raw(kind: int, v, doc: Document) -> str:
    if kind == _K_VALUE:
        return _raw_of(v, doc)
    if kind == _K_COUNT:
        return str(v)
    return v


def _raw_of(v, doc: Document) -> str:
    cls = v.__class__
    if cls is str:
        if doc._escapes < 2:
            # without \u or \/ in the text a string's JSON form is unique
            return _encode_basestring(v)
        return doc._string_raw(v)
    if cls is int:
        if v == 0:
            doc._zero_check()
        return str(v)
    if cls is _NumText:
        return str.__str__(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    raise _Fallback


def _tree_result(v) -> Result:
    """A Result good enough for query comparison (no string raw)."""
    cls = v.__class__
    if cls is str:
        return Result(STRING, "", v)
    if cls is int:
        return Result(NUMBER, str(v), "", _int_float(v))
    if cls is _NumText:
        return Result(NUMBER, str.__str__(v), "", parse_float(v))
    if v is True:
        return Result(TRUE, "true")
    if v is False:
        return Result(FALSE, "false")
    if v is None:
        return Result(NULL, "null")
    return Result(JSON, "[]" if cls is list else "{}")


_NUMBER_OPS = {
    "=": float.__eq__, "!=": float.__ne__, "<": float.__lt__,
    "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__,
}
_STRING_OPS = {
    "=": str.__eq__, "!=": str.__ne__, "<": str.__lt__,
    "<=": str.__le__, ">": str.__gt__, ">=": str.__ge__,
}


def _query(arr: list, step: tuple, doc: Document):
    _, qsteps, op, value, query_all, rest, self_path, value_num = step
    matches = _scan.query_matches
    simple = not value.startswith("~")
    num_op = _NUMBER_OPS.get(op) if simple else None
    str_op = _STRING_OPS.get(op) if simple else None
    parts = []
    qkey = qsteps[0][1] if len(qsteps) == 1 and qsteps[0][0] == _S_KEY else None
    for el in arr:
        cls = el.__class__
        if cls is tuple or cls is list:
            if cls is tuple and qkey is not None:
                # ``#(key op value)`` on an object, inlined
                for k, v in el:
                    if k == qkey:
                        kind = _K_VALUE
                        break
                else:
                    kind, v = _K_NONE, None
            else:
                kind, v = _eval(el, qsteps, 0, doc)
            if kind == _K_VALUE:
                vcls = v.__class__
                if vcls is int and num_op is not None:
                    if not num_op(_int_float(v), value_num):
                        continue
                elif vcls is str and str_op is not None:
                    if not str_op(v, value):
                        continue
                elif not matches(op, value, _tree_result(v)):
                    continue
            else:
                if kind == _K_NONE:
                    res = Result()
                elif kind == _K_COUNT:
                    res = Result(NUMBER, str(v), "", float(v))
                else:
                    res = Result(JSON, v)
                if not matches(op, value, res):
                    continue
        elif self_path:
            if not matches(op, value, _tree_result(el)):
                continue
        else:
            continue
        if rest is None:
            kind, v = _K_VALUE, el
        elif cls is tuple or cls is list:
            kind, v = _eval(el, rest, 0, doc)
        elif cls is str and ("[" in el or "{" in el):
            raise _Fallback
        else:
            kind, v = _K_NONE, None
        if not query_all:
            return kind, v
        if kind != _K_NONE:
            raw = _kind_raw(kind, v, doc)
            if raw:
                parts.append(raw)
    if query_all:
        return _K_RAW, "[" + ",".join(parts) + "]"
    return _K_NONE, None


# --- path linting -------------------------------------------------------------------------

@dataclass(frozen=True)
class PathProblem:
    """A sure mistake in a GJSON path: ``col`` is 1-based in the path text."""

    col: int
    message: str


_QUERY_OPS = ("==", "=", "!=", "<", "<=", ">", ">=", "%", "!%")
_OP_TYPOS = frozenset(("=>", "=<", "<>", "><", "===", "!==", "==>", "==<", "<==", ">==", "%%", "=%", "%="))


def path_problems(path: str) -> list[PathProblem]:
    """Report real syntax errors in ``path``; an empty list means OK.

    Go's gjson is lenient and answers nearly any text, so only things that are
    surely mistakes are reported: unbalanced ``[ { (``, an unterminated string
    inside a query or multipath, an unknown ``@modifier`` (one that has an
    argument or is a near miss of a known name; Go reads other ``@names`` as
    keys, e.g. JSON-LD's ``@type``), and a query operator that isn't one of
    ``== = != < <= > >= % !%``.  Custom modifiers registered with
    :func:`add_modifier` are known.  ``col`` is 1-based.
    """
    problems: list[PathProblem] = []
    stack: list[tuple[str, int]] = []
    n = len(path)
    i = 0
    pairs = {"(": ")", "[": "]", "{": "}"}
    closers = {")": "(", "]": "[", "}": "{"}
    while i < n:
        c = path[i]
        if c == "\\":
            i += 2
            continue
        if c == '"' and stack:
            j = i + 1
            while j < n and path[j] != '"':
                j += 2 if path[j] == "\\" else 1
            if j >= n:
                problems.append(PathProblem(i + 1, "unterminated string: add the closing '\"'"))
                return problems
            i = j + 1
            continue
        if c in pairs:
            stack.append((c, i))
            if c == "(" and i > 0 and path[i - 1] == "#":
                problems.extend(_query_problems(path, i))
        elif c in closers:
            if not stack or stack[-1][0] != closers[c]:
                problems.append(PathProblem(i + 1, f"'{c}' has no matching '{closers[c]}'"))
                return problems
            stack.pop()
        elif c == "@" and (i == 0 or path[i - 1] in ".|[{,:"):
            j = i + 1
            while j < n and path[j] not in ".|:,]}":
                j += 1
            name = path[i + 1:j]
            if name and name not in MODIFIERS and not (i > 0 and path[i - 1] == ":"):
                # Go reads an unknown @name as a key (JSON-LD has "@type", "@id"), so
                # only a name with an argument or one close to a modifier is a mistake
                # (at the start of a path it is most likely such a key)
                close = difflib.get_close_matches(name, list(MODIFIERS), n=1, cutoff=0.75)
                has_arg = j < n and path[j] == ":"
                if close and (has_arg or i > 0):
                    problems.append(PathProblem(i + 1, f"unknown modifier @{name}; did you mean @{close[0]}?"))
                elif has_arg:
                    problems.append(PathProblem(i + 1, f"unknown modifier @{name}; known: "
                                                + ", ".join("@" + m for m in sorted(MODIFIERS))))
        i += 1
    for opener, pos in stack:
        problems.append(PathProblem(pos + 1, f"'{opener}' is never closed: add '{pairs[opener]}'"))
    return problems


def _query_problems(path: str, i: int) -> list[PathProblem]:
    """Check the operator of the query whose '(' is at ``i``."""
    out: list[PathProblem] = []
    j = i + 1
    n = len(path)
    depth = 1
    while j < n:
        c = path[j]
        if c == "\\":
            j += 2
            continue
        if c == '"':
            j += 1
            while j < n and path[j] != '"':
                j += 2 if path[j] == "\\" else 1
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth == 0:
                return out
        elif depth == 1 and c in "!=<>%":
            k = j
            while k < n and path[k] in "!=<>%":
                k += 1
            op = path[j:k]
            if op not in _QUERY_OPS and (op in _OP_TYPOS or (op[0] == "!" and op[:2] not in ("!=", "!%"))):
                # Go would read e.g. ``=>1`` as ``=`` with the value ``>1``: surely not meant
                out.append(PathProblem(j + 1, f"unknown query operator {op!r}; use one of "
                                       + " ".join(_QUERY_OPS)))
            # skip the value up to the closing bracket
            j = k
            continue
        j += 1
    return out

