"""Loading and running the Go text/template conformance corpus (tests/data/gotemplate)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from engine.expr import Function, TemplateExecError, TemplateSyntaxError, compile_template
from engine.expr.functions import FuncError

CORPUS = Path(__file__).resolve().parent / "data" / "gotemplate" / "cases.json"


def load_cases() -> list[dict]:
    """The cases, each with ``data`` decoded as Go sees it (float64 numbers unless ``numbers: int``)."""
    text = CORPUS.read_text(encoding="utf-8")
    as_int = json.loads(text)
    as_float = json.loads(text, parse_int=float)
    cases = []
    for ci, cf in zip(as_int, as_float):
        case = dict(ci)
        case["data"] = ci["data"] if ci.get("numbers") == "int" else cf["data"]
        cases.append(case)
    return cases


def _capitalize(s: str) -> str:
    if not s:
        return s
    up = s[0].upper()
    return (up if len(up) == 1 else s[0]) + s[1:]


def _url_encode(s: str) -> str:
    return quote(s.encode("utf-8", "surrogateescape"), safe=" -_.~").replace(" ", "+").replace("+", "%20")


def _to_millis(s: str) -> str:
    try:
        n = int(s, 10) if s.lstrip("+-").isdigit() and s.isascii() else None
    except ValueError:
        n = None
    if n is None or not -(1 << 63) <= n < 1 << 63:
        raise FuncError(f"ToMillis: not an integer: {json.dumps(s)}")
    return str(n * 1000)


# The corpus README's helper functions: Go functions with string parameters.
HELPERS = {
    "Capitalize": Function(_capitalize, ("string",)),
    "UrlEncode": Function(_url_encode, ("string",)),
    "ToMillis": Function(_to_millis, ("string",)),
    "Join3": Function(lambda a, b, c: f"{a}|{b}|{c}", ("string", "string", "string")),
}


def run_case(case: dict, dialect: str = "go") -> tuple[str, str]:
    """Run one case; return ("ok", output) or ("parse"|"exec", message)."""
    funcs = {k: HELPERS[k] for k in case.get("funcs", [])}
    try:
        tpl = compile_template(case["template"], "tpl", dialect=dialect, funcs=funcs,
                               options=case.get("options", ()))
    except TemplateSyntaxError as e:
        return "parse", str(e)
    try:
        return "ok", tpl.render(case["data"])
    except TemplateExecError as e:
        return "exec", str(e)


def outcome_matches(case: dict, result: tuple[str, str]) -> bool:
    kind, value = result
    if case.get("error"):
        return kind == case["error_kind"]
    return kind == "ok" and value == case["expect"]
