"""Response mapping: turn a helpdesk response into records with a template's field mapping.

A template maps each output field (``ContactId``, ``FirstName``, ...) to a
path spec.  A spec holds one or more comma-separated *alternatives*; the first
alternative that gives a non-empty value wins, per record::

    fields = {
        "ContactId": "data.#.id",
        "FirstName": "data.#.first_name, data.#.name",
        "MobileNumber": 'data.#.phones.#(type=="mobile").number',
        "Email": "$.data[*].email",            # JSONPath (3CX / App Connect style)
    }
    result = map_records(response_text, fields, {"Phone": "+49 30 123"}, required=["ContactId"])
    result.records        # [{"ContactId": "7", "FirstName": "Ann", ...}, ...]
    result.missing_required

Alternatives
    A spec is split at top-level commas only: never inside ``[]``, ``{}``,
    ``()``, ``{{ }}`` or double quotes, and not at an escaped ``\\,``.
    An alternative starting with ``$`` is JSONPath (jsonpath-ng's extended
    syntax, ``jsonpath_ng.ext.parse``); anything else is GJSON, evaluated with
    :mod:`engine.paths.gjson` (Go's exact behaviour).

Records
    A GJSON alternative of the form ``P.#.R`` (a projection over the array at
    ``P``) or ``P.#(query)#.R`` gives one value per element of that array
    (per matching element for the query), *aligned by index*: an element
    without ``R`` gives an empty value for its record instead of shifting the
    next elements up (Go's ``P.#.R`` alone would skip it).  A JSONPath
    alternative with ``[*]`` is split the same way.  Any other alternative
    gives a single value, which applies to every record.  The number of
    records is the longest per-record list; with none, one record if any
    field has a value, else zero records.

Values
    Scalars become Go's ``Result.String()``: strings unescaped, numbers as Go
    prints them, ``true``/``false``, and ``""`` for null and missing.  An
    object or array becomes its JSON text exactly as Go's ``String()`` gives
    it (the raw text from the response, whitespace kept), which is what the
    PBX stores in the variable.  JSONPath values follow the same rules
    (objects/arrays as compact JSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.paths import gjson
from engine.paths.gjson import format_float
from engine.paths.split import split_top_level

__all__ = [
    "AlternativeOutcome", "FieldDiagnostic", "MappingResult", "MissingField",
    "map_records", "split_alternatives", "substitute_path_variables",
]


# --- splitting ---------------------------------------------------------------------

def split_alternatives(spec: str) -> list[str]:
    """Split a field's path spec into its alternatives, trimmed, empty ones dropped.

    Commas split only at the top level: not inside ``[]``, ``{}``, ``()``
    (which covers ``{{ .Var }}``), not inside double-quoted strings, and not
    when escaped as ``\\,`` (a GJSON key containing a comma).
    """
    return [piece.strip() for piece, _, _ in split_top_level(spec, ",") if piece.strip()]


# --- template variables ----------------------------------------------------------------

_VAR_REF = re.compile(r"\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")


def _string_literal_body(value: str) -> str:
    """``value`` escaped for the inside of a GJSON (JSON) string literal."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _pattern_escape(value: str) -> str:
    """Make ``*``, ``?`` and ``\\`` literal in a ``%`` / ``!%`` pattern."""
    return re.sub(r"([*?\\])", r"\\\1", value)


def substitute_path_variables(path: str, variables: Mapping[str, object]) -> str:
    """Replace ``{{.Name}}`` / ``{{ .Name }}`` references in a path with their values.

    Only simple references are supported (optionally with ``{{-`` / ``-}}``
    trim markers); any other ``{{ ... }}`` text is left as it is.  A missing
    variable or ``None`` becomes an empty string.  Values are escaped by where
    they land, so a ``"`` or ``\\`` in a phone number or a name can't change
    the path:

    * inside a double-quoted string (``#(phone=="{{.Phone}}")``): escaped for
      a JSON string literal;
    * as a query value without quotes (``#(phone=={{.Phone}})``): written as
      a quoted string literal, which GJSON compares like the bare value (also
      numerically against numbers);  for ``%``/``!%`` the wildcards ``*`` and
      ``?`` in the value are made literal;
    * anywhere else (a key, ``contacts.{{.Id}}.name``): escaped as one GJSON
      path component (``.``, ``*``, ``?``, ``|`` ... get a backslash).
    """
    if "{{" not in path:
        return path
    out: list[str] = []
    i = 0
    n = len(path)
    in_str = False
    str_pattern = False
    # one entry per open ( or [: [is_query, operator seen so far]
    stack: list[list] = []
    while i < n:
        if path.startswith("{{", i):
            m = _VAR_REF.match(path, i)
            if m:
                raw = variables.get(m.group(1))
                value = "" if raw is None else _value_text(raw)
                query = stack[-1] if stack and stack[-1][0] else None
                if in_str:
                    if str_pattern:
                        value = _pattern_escape(value)
                    out.append(_string_literal_body(value))
                elif query is not None and query[1]:
                    if query[1] in ("%", "!%"):
                        value = _pattern_escape(value)
                    out.append('"' + _string_literal_body(value) + '"')
                else:
                    out.append(gjson.escape(value))
                i = m.end()
                continue
        c = path[i]
        if in_str:
            if c == "\\" and i + 1 < n:
                out.append(path[i:i + 2])
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            query = stack[-1] if stack and stack[-1][0] else None
            str_pattern = bool(query and query[1] in ("%", "!%"))
        elif c == "\\" and i + 1 < n:
            out.append(path[i:i + 2])
            i += 2
            continue
        elif c in "([":
            stack.append([i > 0 and path[i - 1] == "#", ""])
        elif c in ")]":
            if stack:
                stack.pop()
        elif c in "!=<>%" and stack and stack[-1][0] and not stack[-1][1]:
            j = i
            while j < n and path[j] in "!=<>%":
                j += 1
            stack[-1][1] = path[i:j]
            out.append(path[i:j])
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    return str(value)


# --- results ------------------------------------------------------------------------------

@dataclass
class AlternativeOutcome:
    """How one alternative of a field went.

    ``path`` is the alternative as written, ``evaluated`` the path after
    variable substitution, ``language`` ``"gjson"`` or ``"jsonpath"``.
    ``per_record`` tells whether it gave one value per record; ``values``
    holds what it gave (one entry, or one per record).  ``error`` is set when
    the path could not be evaluated (bad JSONPath, JSONPath on malformed JSON);
    ``problems`` lists GJSON path mistakes found by the linter.
    """

    path: str
    evaluated: str
    language: str
    per_record: bool = False
    values: list[str] = field(default_factory=list)
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the alternative gave no non-empty value at all."""
        return not any(self.values)


@dataclass
class FieldDiagnostic:
    """Per field: every alternative's outcome and, per record, which one won.

    ``matched[i]`` is the index (into ``alternatives``) of the alternative that
    gave record ``i`` its value, or None when all came back empty.
    """

    name: str
    spec: str
    alternatives: list[AlternativeOutcome]
    matched: list[int | None] = field(default_factory=list)


@dataclass(frozen=True)
class MissingField:
    """A required field that is empty in record ``record`` (0-based)."""

    record: int
    field: str
    tried: tuple[str, ...]

    def message(self) -> str:
        tried = ", ".join(self.tried) if self.tried else "no path"
        return f"record {self.record + 1}: required field {self.field} is empty (tried {tried})"


@dataclass
class MappingResult:
    """Records built from a response, plus what the request inspector shows."""

    records: list[dict[str, str]]
    missing_required: list[MissingField]
    fields: dict[str, FieldDiagnostic]

    @property
    def ok(self) -> bool:
        """True when no required field is missing."""
        return not self.missing_required


# --- evaluation ---------------------------------------------------------------------------------

class _Response:
    """The response text, decoded lazily for each path language."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.doc = gjson.parse(text)
        self._data = None
        self._data_error: str | None = None
        self._decoded = False

    def data(self):
        if not self._decoded:
            self._decoded = True
            try:
                self._data = json.loads(self.text)
            except ValueError as exc:
                self._data_error = f"the response is not valid JSON ({exc}); JSONPath needs valid JSON"
            except RecursionError:
                self._data_error = "the response JSON nests too deeply for JSONPath"
        if self._data_error:
            raise _PathError(self._data_error)
        return self._data


class _PathError(Exception):
    pass


def _split_projection(path: str):
    """(prefix, query, rest) for ``P.#.R`` / ``P.#(q)#.R`` / ``P.#(q)#`` paths, else None.

    ``query`` is the ``#(...)#`` text or "" for a plain ``#`` projection; ``rest``
    is None when nothing follows a query.
    """
    depth = 0
    in_str = False
    n = len(path)
    i = 0
    while i < n:
        c = path[i]
        if c == "\\":
            i += 2
            continue
        if in_str:
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "|" and depth == 0:
            return None
        elif c == "#" and depth == 0 and (i == 0 or path[i - 1] == "."):
            prefix = path[:i - 1] if i > 0 else ""
            if prefix.startswith(("@", "!", "..")) or "|" in prefix:
                return None
            if path.startswith("#.", i):
                return prefix, "", path[i + 2:]
            if i + 1 < n and path[i + 1] in "([":
                _q, _op, _v, _remain, end, _vesc, ok = gjson._scan.parse_query(path[i:])
                if not ok:
                    return None
                end += i
                if end < n and path[end] == "#":
                    query = path[i:end + 1]
                    after = path[end + 1:]
                    if after == "":
                        return prefix, query, None
                    if after.startswith("."):
                        return prefix, query, after[1:]
                    return None
                # a first-match query picks one element: look further along
                i = end
                continue
            return None
        i += 1
    return None


def _gjson_values(resp: _Response, path: str) -> tuple[bool, list[str]]:
    """(per_record, values) of a GJSON alternative."""
    doc = resp.doc
    split = _split_projection(path)
    if split is not None:
        prefix, query, rest = split
        if not query:
            column = doc.column(prefix, rest)
            if column is not None:
                return True, [r.string for r in column]
        else:
            matched = doc.get(f"{prefix}.{query}" if prefix else query)
            if matched.is_array():
                elements = matched.array()
                if rest is None:
                    return True, [e.string for e in elements]
                return True, [e.get(rest).string for e in elements]
    return False, [doc.get(path).string]


def _jsonpath_text(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _jsonpath_values(resp: _Response, path: str) -> tuple[bool, list[str]]:
    from jsonpath_ng.exceptions import JSONPathError
    from jsonpath_ng.ext import parse as jsonpath_parse

    data = resp.data()
    try:
        star = path.find("[*]")
        if star > 0:
            base = jsonpath_parse(path[:star]).find(data)
            rest = path[star + 3:]
            rest_expr = jsonpath_parse("$" + rest) if rest else None
            if len(base) == 1 and isinstance(base[0].value, list):
                out = []
                for el in base[0].value:
                    if rest_expr is None:
                        out.append(_jsonpath_text(el))
                    else:
                        found = rest_expr.find(el)
                        out.append(_jsonpath_text(found[0].value) if found else "")
                return True, out
        matches = jsonpath_parse(path).find(data)
    except (JSONPathError, Exception) as exc:  # jsonpath-ng raises plain Exceptions too
        raise _PathError(f"bad JSONPath: {exc}") from None
    if len(matches) > 1:
        return True, [_jsonpath_text(m.value) for m in matches]
    return False, [_jsonpath_text(matches[0].value)] if matches else [""]


def map_records(
    response_text: str,
    fields: Mapping[str, str],
    variables: Mapping[str, object] | None = None,
    required: Iterable[str] = (),
) -> MappingResult:
    """Build records from ``response_text`` with a field -> path-spec mapping.

    ``fields`` maps each output name to its spec (comma-separated
    alternatives, see the module docs; an empty spec means "not provided").
    ``variables`` fill ``{{.Name}}`` references in the paths (see
    :func:`substitute_path_variables`).  ``required`` names fields that must
    not be empty: each empty one is reported per record in
    ``missing_required`` (never silently left empty).  Malformed JSON is
    answered the way Go's gjson answers it; only JSONPath alternatives need
    valid JSON, and they report an error instead of raising.
    """
    variables = variables or {}
    resp = _Response(response_text)
    diagnostics: dict[str, FieldDiagnostic] = {}
    for name, spec in fields.items():
        outcomes = []
        for alt in split_alternatives(spec or ""):
            evaluated = substitute_path_variables(alt, variables)
            if evaluated.startswith("$"):
                outcome = AlternativeOutcome(alt, evaluated, "jsonpath")
                try:
                    outcome.per_record, outcome.values = _jsonpath_values(resp, evaluated)
                except _PathError as exc:
                    outcome.error = str(exc)
            else:
                outcome = AlternativeOutcome(alt, evaluated, "gjson")
                outcome.problems = [f"col {p.col}: {p.message}" for p in gjson.path_problems(evaluated)]
                outcome.per_record, outcome.values = _gjson_values(resp, evaluated)
            outcomes.append(outcome)
        diagnostics[name] = FieldDiagnostic(name, spec or "", outcomes)

    lengths = [len(o.values) for d in diagnostics.values() for o in d.alternatives if o.per_record]
    if lengths:
        count = max(lengths)
    else:
        count = 1 if any(not o.empty for d in diagnostics.values() for o in d.alternatives) else 0

    records: list[dict[str, str]] = [{} for _ in range(count)]
    for name, diag in diagnostics.items():
        diag.matched = []
        for i in range(count):
            value = ""
            won = None
            for k, o in enumerate(diag.alternatives):
                if o.error:
                    continue
                if o.per_record:
                    v = o.values[i] if i < len(o.values) else ""
                else:
                    v = o.values[0] if o.values else ""
                if v != "":
                    value, won = v, k
                    break
            records[i][name] = value
            diag.matched.append(won)

    missing: list[MissingField] = []
    required = list(required)
    for i, rec in enumerate(records):
        for name in required:
            if rec.get(name, "") == "":
                tried = tuple(o.evaluated for o in diagnostics[name].alternatives) if name in diagnostics else ()
                missing.append(MissingField(i, name, tried))
    return MappingResult(records, missing, diagnostics)
