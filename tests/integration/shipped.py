"""Read a shipped template and build the HTTP requests it describes, for the integration tests.

This is deliberately tiny and strict: it renders only the Go-template constructs the shipped
templates use (``{{.x}}``, ``{{UrlEncode .x}}``, ``{{UrlEncode (printf "%q" .x)}}``, ``{{TimeFormat .x "layout" "1"}}``,
``{{if .x}}…{{else if .y}}…{{else}}…{{end}}``) and evaluates only the GJSON forms they use
(``a.b``, ``a.#.b``, ``a.#(k%"glob").b``, ``x|!"literal"``). Anything else raises, so a
template edit that needs the real engine shows up as a failing test, not a silent pass.
The HTTP runtime runs the same templates through deskline's real engine.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lxml import etree

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)


@dataclass
class RequestSpec:
    """One ``<Request>`` of a scenario."""

    name: str
    method: str
    url_format: str
    body_format: str | None
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class ShippedTemplate:
    path: Path
    root: Any

    @property
    def info(self) -> dict[str, str]:
        return dict(self.root.attrib)

    def scenario(self, sid: str) -> Any:
        found = self.root.find(f"Scenarios/Scenario[@Id='{sid}']")
        if found is None:
            raise KeyError(f"{self.path.parent.name}: no scenario {sid}")
        return found

    def param(self, sid: str, name: str) -> str | None:
        node = self.scenario(sid).find(f"Parameters/Parameter[@Name='{name}']")
        return None if node is None else node.get("Value", "")

    def params(self, sid: str, father: str) -> dict[str, str]:
        nodes = self.scenario(sid).findall(f"Parameters/Parameter[@Father='{father}']")
        return {n.get("Name"): n.get("Value", "") for n in nodes}

    def custom_fields(self) -> dict[str, str]:
        return self.params("AuthMethod", "CustomFieldList")

    def requests(self, sid: str) -> list[RequestSpec]:
        specs = []
        for node in self.scenario(sid).findall("Requests/Request"):
            body = node.find("Parameters/Parameter[@Type='Body']")
            outputs = {o.get("Name"): o.get("Path", "") for o in node.findall("Outputs/Output")}
            specs.append(RequestSpec(node.get("Name"), node.get("Method"), node.get("URLFormat"),
                                     None if body is None else body.get("Value"), outputs))
        return specs

    def request(self, sid: str, index: int = 0) -> RequestSpec:
        return self.requests(sid)[index]

    def headers(self, variables: dict[str, Any]) -> dict[str, str]:
        """The PopulateTemplateString headers, rendered, plus Basic auth when the template says so."""
        headers = {name: render(value, variables)
                   for name, value in self.params("AuthMethod", "PopulateTemplateString").items()}
        if self.info.get("AuthType", "").lower() == "basic":
            pattern = self.param("AuthMethod", "Base64EncodedCredential") or ""
            match = re.fullmatch(r"\{\{\.(\w+):(?:\.(\w+))?\}\}", pattern)
            if not match:
                raise ValueError(f"unsupported Base64EncodedCredential {pattern!r}")
            user = str(variables.get(match.group(1), ""))
            password = str(variables.get(match.group(2), "")) if match.group(2) else ""
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        return headers

    def scenario_variables(self, sid: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Add the rendered Subject/Description (when enabled) and CustomScenarioParameter defaults."""
        out = dict(variables)
        for name, value in self.params(sid, "CustomScenarioParameter").items():
            out.setdefault(name, value)
        for name in ("Subject", "Description"):
            if self.param(sid, f"Enable{name}") == "1" and name not in variables:
                out[name] = render(self.param(sid, name) or "", out)
        return out


def load(name: str) -> ShippedTemplate:
    path = TEMPLATES / name / "template.xml"
    return ShippedTemplate(path, etree.parse(str(path)).getroot())


# -- rendering ---------------------------------------------------------------------------------
def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    for match in _ACTION.finditer(text):
        if match.start() > pos:
            out.append(("text", text[pos:match.start()]))
        out.append(("action", match.group(1).strip()))
        pos = match.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


def render(text: str, variables: dict[str, Any]) -> str:
    tokens = _tokens(text)
    result, pos = _render_block(tokens, 0, variables, stop=())
    if pos != len(tokens):
        raise ValueError(f"unexpected {{{{{tokens[pos][1]}}}}} in {text!r}")
    return result


def _render_block(tokens: list[tuple[str, str]], pos: int, variables: dict[str, Any],
                  stop: tuple[str, ...]) -> tuple[str, int]:
    out: list[str] = []
    while pos < len(tokens):
        kind, value = tokens[pos]
        if kind == "text":
            out.append(value)
            pos += 1
            continue
        if value == "end" or value == "else" or value.startswith("else if "):
            if not stop:
                raise ValueError(f"{{{{{value}}}}} without if")
            return "".join(out), pos
        if value.startswith("if "):
            rendered, pos = _render_if(tokens, pos, variables)
            out.append(rendered)
            continue
        out.append(_evaluate(value, variables))
        pos += 1
    if stop:
        raise ValueError("missing {{end}}")
    return "".join(out), pos


def _render_if(tokens: list[tuple[str, str]], pos: int, variables: dict[str, Any]) -> tuple[str, int]:
    chosen: str | None = None
    condition = tokens[pos][1][3:].strip()
    pos += 1
    while True:
        body, pos = _render_block(tokens, pos, variables, stop=("end",))
        if chosen is None and (condition == "" or _truthy(_evaluate(condition, variables))):
            chosen = body
        marker = tokens[pos][1]
        pos += 1
        if marker == "end":
            return chosen or "", pos
        condition = marker[len("else if "):].strip() if marker.startswith("else if ") else ""


def _truthy(value: str) -> bool:
    return value not in ("", "0")


def _evaluate(action: str, variables: dict[str, Any]) -> str:
    words = re.findall(r'"[^"]*"|\S+', action)

    def value(word: str) -> str:
        if word.startswith('"'):
            return word[1:-1]
        if word.startswith("."):
            got = variables.get(word[1:], "")
            return "" if got is None else str(got)
        raise ValueError(f"unsupported operand {word!r} in {{{{{action}}}}}")

    if len(words) == 1:
        return value(words[0])
    if words[0] == "UrlEncode" and len(words) == 2:
        return quote(value(words[1]), safe="-_.~")
    if words[:3] == ["UrlEncode", "(printf", '"%q"'] and len(words) == 4 and words[3].endswith(")"):
        # a JSON string literal inside a URL (Go's %q for the printable text these tests use)
        return quote(json.dumps(value(words[3][:-1]), ensure_ascii=False), safe="-_.~")
    if words[0] == "TimeFormat" and len(words) == 4 and value(words[3]) == "1":
        return _time_format(int(value(words[1]) or 0), value(words[2]))
    raise ValueError(f"unsupported action {{{{{action}}}}}")


def _time_format(ts: int, layout: str) -> str:
    t = time.gmtime(ts)
    table = {"yyyy": f"{t.tm_year:04d}", "MM": f"{t.tm_mon:02d}", "dd": f"{t.tm_mday:02d}",
             "HH": f"{t.tm_hour:02d}", "mm": f"{t.tm_min:02d}", "ss": f"{t.tm_sec:02d}", "Zz": "Z"}
    return re.sub("|".join(table), lambda m: table[m.group(0)], layout)


# -- GJSON subset -------------------------------------------------------------------------------
def gjson(document: Any, path: str) -> Any:
    """Evaluate the GJSON subset the shipped templates use; ``None`` when nothing matches."""
    if isinstance(document, (str, bytes)):
        document = json.loads(document)
    if path == "":
        return None
    head, bar, rest = _split_pipe(path)
    current = _walk(document, _split_dots(head))
    if not bar:
        return current
    if current is None:
        return None
    if rest.startswith('!"') and rest.endswith('"'):
        return rest[2:-1]
    return gjson(current, rest)


def _split_pipe(path: str) -> tuple[str, str, str]:
    depth = 0
    quoted = False
    for i, ch in enumerate(path):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == "|":
            return path[:i], "|", path[i + 1:]
    return path, "", ""


def _split_dots(path: str) -> list[str]:
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(path):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ".":
            parts.append(path[start:i])
            start = i + 1
    parts.append(path[start:])
    return parts


def _walk(node: Any, parts: list[str]) -> Any:
    for i, part in enumerate(parts):
        if node is None:
            return None
        if part == "#":
            if not isinstance(node, list):
                return None
            rest = parts[i + 1:]
            return [_walk(item, rest) for item in node] if rest else len(node)
        query = re.fullmatch(r'#\((\w+)%"(.*)"\)', part)
        if query:
            key, pattern = query.groups()
            node = next((item for item in node if isinstance(item, dict)
                         and fnmatch.fnmatchcase(str(item.get(key, "")), pattern)), None) \
                if isinstance(node, list) else None
            continue
        if part.startswith("#") or part.startswith("@") or any(c in part for c in "*?"):
            raise ValueError(f"unsupported GJSON component {part!r}")
        node = node.get(part) if isinstance(node, dict) else None
    return node
