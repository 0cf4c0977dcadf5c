"""The template linter: located errors and warnings for everything the form and the runtime rely on.

``lint_file(path)`` and ``lint_template(template)`` return :class:`Finding` lists sorted by position.
Template expressions are checked with :mod:`engine.expr` and response paths with
:mod:`engine.paths.gjson`; when those engines are not importable, the linter still runs and
says what it could not check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from engine.errors import Location, TemplateError
from engine.template import variables as V
from engine.template.findings import Finding, Severity, error, info, warning
from engine.template.model import (
    AUTH, AUTH_TYPES, CALL_JOURNAL, COMMON, CONTACT_MATCH, CONTACT_SEARCH, CREATE_CONTACT, CREATE_TICKET,
    CREDENTIAL_TYPES, EDITORS, FEATURE_SCENARIOS, MAX_CUSTOM_FIELDS, PAGINATION_MODES, PHONE_FIELDS, PROVIDERS,
    SCENARIO_IDS, TICKET_TIMINGS, USER_ASSOCIATION, Parameter, Request, Scenario, Template, canonical_field,
    load_template,
)

MAX_CONCURRENT_RANGE = (1, 50)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# A value printed inside a percent-encoded JSON string of a URL (``%22{{UrlEncode .Phone}}%22``):
# URL encoding does not escape it for JSON, so a " or \ in it breaks the helpdesk's JSON.
JSON_STRING_IN_URL = re.compile(r"%22(?:[^%{]|%(?!22))*?\{\{-?\s*(?:UrlEncode\s+|urlquery\s+)?\.([A-Za-z_]\w*)\s*-?\}\}"
                                r"(?:[^%{]|%(?!22))*?%22", re.IGNORECASE)
FREE_TEXT_VARIABLES = frozenset({"Phone", "CallerNumber", "SearchValue", "CallerDisplayName", "DisplayName",
                                 "FirstName", "LastName", "Subject", "Description"})
CONTACT_SCENARIOS = (CONTACT_MATCH, CONTACT_SEARCH)

_FLAGS = ("EnableSubject", "EnableDescription", "EnablePlayCallRecording", "PlayCallRecording", "NeedSyncContact")
KNOWN_PARAMETERS: dict[str, tuple[str, ...]] = {
    AUTH: ("AuthMethod", "TokenType", "AuthEndPoint", "TokenEndPoint", "RefreshTokenEndPoint", "Pkce",
           "AdditionalQueryString", "Scope", "CredentialType", "Base64EncodedCredential"),
    CONTACT_MATCH: ("ContactUrlType", "URLFormat", "ContactFieldForUri"),
    CONTACT_SEARCH: ("ContactUrlType", "URLFormat", "ContactFieldForUri"),
    USER_ASSOCIATION: (),
    CREATE_CONTACT: ("NeedSyncContact",),
    CALL_JOURNAL: ("Subject", "Description", "TicketId", *_FLAGS),
    CREATE_TICKET: ("Subject", "Description", "TicketId", "CreateTicketAt", *_FLAGS),
    COMMON: (),
}
KNOWN_FATHERS: dict[str, tuple[str, ...]] = {
    AUTH: ("AuthOption", "TokenErrorMap", "CustomFieldList", "PopulateTemplateString"),
    USER_ASSOCIATION: ("Pagination",),
}
PAGINATION_PARAMETERS = ("Mode", "PageSize", "FirstPage", "NextPath", "MaxPages")


# ---- the engines the linter borrows (expression dialect, GJSON) ------------------------------------

class _Engines:
    """Late, guarded access to :mod:`engine.expr`, its credential parser and the GJSON path checker."""

    def __init__(self) -> None:
        try:
            import engine.expr as expr
            self.expr = expr
        except ImportError:
            self.expr = None
        try:
            from engine.expr import credentials
            self.credentials = credentials
        except ImportError:
            self.credentials = None
        try:
            from engine.paths import gjson
            self.gjson = gjson
        except ImportError:
            self.gjson = None
        try:
            from engine import mapping
            self.mapping = mapping
        except ImportError:
            self.mapping = None


_ENGINES: _Engines | None = None


def _engines() -> _Engines:
    global _ENGINES
    if _ENGINES is None:
        _ENGINES = _Engines()
    return _ENGINES


def _pos_attr(obj, *names, default=0):
    for n in names:
        v = getattr(obj, n, None)
        if v is not None:
            return v
    loc = getattr(obj, "location", None)
    if loc is not None:
        for n in names:
            v = getattr(loc, n, None)
            if v is not None:
                return v
    return default


def _text_index(text: str, line: int, col: int) -> int:
    """Index in *text* of 1-based (line, col) (clamped)."""
    if line <= 1:
        return max(col - 1, 0)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    start = starts[min(line, len(starts)) - 1]
    return min(start + max(col - 1, 0), len(text))


@dataclass(frozen=True, slots=True)
class _Text:
    """A template string in the file: where it is and what it is."""

    ref: int
    attribute: str
    value: str
    label: str  # for messages: "URL", "body", "header Authorization", ...
    scenario: str


class Linter:
    """Runs every check over one template; :func:`lint_template` is the way in."""

    def __init__(self, template: Template) -> None:
        self.t = template
        self.findings: list[Finding] = list(template.issues)
        self.engines = _engines()
        self.field_names = {f.name for f in template.custom_fields if f.name}
        self._unavailable_noted: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------------
    def at(self, ref: int, attribute: str | None = None) -> Location:
        return self.t.where(ref, attribute)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def at_value(self, text: _Text, index: int) -> Location:
        doc = self.t.document
        offset = doc.value_offset(text.ref, text.attribute, index)
        line, col = doc.position(offset)
        base = self.at(text.ref, text.attribute)
        return Location(base.file, line, col, base.field)

    def _note_unavailable(self, what: str, location: Location) -> None:
        if what not in self._unavailable_noted:
            self._unavailable_noted.add(what)
            self.add(info(f"{what} not checked: the engine module is unavailable", location, "check-unavailable"))

    # -- entry --------------------------------------------------------------------------------------
    def run(self) -> list[Finding]:
        if self.t.document.elements[0].tag != "Information":
            return self._sorted()
        for w in self.t.document.warnings:
            self.add(warning(f"XML: {w.message}", Location(self.t.file, w.line, w.col, ""), "xml-warning"))
        self.check_general()
        self.check_scenarios()
        self.check_authentication()
        self.check_custom_fields()
        reach = self._reachability()
        for sc in self.t.scenarios:
            self.check_scenario_parameters(sc)
            for index, req in enumerate(sc.requests):
                self.check_request(sc, req, index, reach)
        self.check_contact_scenarios()
        self.check_user_association()
        self.check_create_contact()
        self.check_journal_and_ticket()
        self.check_next_chains()
        return self._sorted()

    def _sorted(self) -> list[Finding]:
        order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
        seen, out = set(), []
        for f in sorted(self.findings, key=lambda f: (f.location.line, f.location.col, order[f.severity], f.code)):
            key = (f.severity, f.message, f.location, f.code)
            if key not in seen:
                seen.add(key)
                out.append(f)
        return out

    # -- General ------------------------------------------------------------------------------------
    def check_general(self) -> None:
        g = self.t.general
        node = self.t.document.nodes[0]
        for name, sev in (("Provider", error), ("Name", error), ("Key", error), ("AuthType", error),
                          ("Version", warning)):
            if not (node.get(name) or "").strip():
                self.add(sev(f"<Information> needs a non-empty {name} attribute", self.at(0, name), "missing-attribute"))
        if g.provider and g.provider.lower() not in PROVIDERS:
            self.add(error(f"Provider is {g.provider!r}; expected 'helpdesk' or 'crm'", self.at(0, "Provider"),
                           "invalid-value"))
        if g.key and not re.fullmatch(r"[A-Za-z0-9_.-]+", g.key):
            self.add(warning(f"Key {g.key!r} should be a plain identifier (letters, digits, _ . -)",
                             self.at(0, "Key"), "invalid-value"))
        if g.auth_type and g.auth_type not in AUTH_TYPES:
            self.add(error(f"AuthType is {node.get('AuthType')!r}; expected one of {', '.join(AUTH_TYPES)}",
                           self.at(0, "AuthType"), "invalid-value"))
        raw = node.get("MaxConcurrentRequest")
        if raw is not None:
            lo, hi = MAX_CONCURRENT_RANGE
            n = g.max_concurrent
            if n is None or not lo <= n <= hi:
                self.add(error(f"MaxConcurrentRequest is {raw!r}; it must be a whole number from {lo} to {hi}",
                               self.at(0, "MaxConcurrentRequest"), "out-of-range"))
        if g.logo and not g.logo.lower().endswith((".png", ".jpg", ".jpeg")):
            self.add(warning(f"Logo {g.logo!r} should be a .png, .jpg or .jpeg file", self.at(0, "Logo"),
                             "logo"))
        for flag, sid in FEATURE_SCENARIOS.items():
            value = node.get(flag)
            if value is not None and value.strip() not in ("0", "1"):
                self.add(warning(f"{flag} is {value!r}; feature switches are '0' or '1'", self.at(0, flag),
                                 "invalid-value"))
            present = self.t.scenario(sid) is not None
            if g.feature(flag) and not present:
                self.add(error(f"{flag}=\"1\" but the template has no Scenario Id=\"{sid}\"", self.at(0, flag),
                               "missing-scenario"))
            elif present and not g.feature(flag):
                sc = self.t.scenario(sid)
                self.add(info(f"Scenario {sid} is ignored because <Information> {flag} is not \"1\"",
                              self.at(sc.ref, "Id"), "feature-off"))

    # -- scenarios ----------------------------------------------------------------------------------
    def check_scenarios(self) -> None:
        if self.t.scenario(AUTH) is None:
            self.add(error("the template has no Scenario Id=\"AuthMethod\" (required)", self.at(0), "missing-scenario"))
        if self.t.scenario(CONTACT_MATCH) is None and self.t.scenario(CONTACT_SEARCH) is None:
            self.add(error("the template has no contact search: add Scenario Id=\"SyncContactAuto\" "
                           "or Id=\"SearchContact\"", self.at(0), "missing-scenario"))
        seen: set[str] = set()
        for sc in self.t.scenarios:
            if not sc.id:
                self.add(error("<Scenario> without an Id", self.at(sc.ref), "missing-attribute"))
            elif sc.id not in SCENARIO_IDS:
                self.add(warning(f"unknown scenario Id {sc.id!r}; it is kept and ignored", self.at(sc.ref, "Id"),
                                 "unknown-scenario"))
            elif sc.id in seen:
                self.add(warning(f"a second Scenario Id={sc.id!r}; only the first one is used",
                                 self.at(sc.ref, "Id"), "duplicate-scenario"))
            seen.add(sc.id)
            expected = "AUTH" if sc.id == AUTH else "REST"
            if sc.id in SCENARIO_IDS and sc.type and sc.type.upper() != expected:
                self.add(warning(f"Scenario {sc.id} has Type={sc.type!r}; expected {expected!r}",
                                 self.at(sc.ref, "Type"), "invalid-value"))

    def check_scenario_parameters(self, sc: Scenario) -> None:
        if sc.id not in SCENARIO_IDS:
            return
        names = KNOWN_PARAMETERS.get(sc.id, ())
        fathers = KNOWN_FATHERS.get(sc.id, ()) + ("CustomScenarioParameter",)
        for p in sc.parameters:
            if p.father:
                if p.father not in fathers:
                    self.add(warning(f"unknown parameter group Father={p.father!r} in scenario {sc.id}; kept and "
                                     "ignored", self.at(p.ref, "Father"), "unknown-parameter"))
                elif p.father == "Pagination" and p.name not in PAGINATION_PARAMETERS:
                    self.add(warning(f"unknown pagination parameter {p.name!r}; expected one of "
                                     f"{', '.join(PAGINATION_PARAMETERS)}", self.at(p.ref, "Name"),
                                     "unknown-parameter"))
                elif p.father == "CustomScenarioParameter" and not IDENTIFIER.match(p.name):
                    self.add(error(f"scenario field name {p.name!r} cannot be used as a variable "
                                   "(letters, digits and _ only, not starting with a digit)",
                                   self.at(p.ref, "Name"), "invalid-name"))
                continue
            if p.name in names:
                continue
            if sc.id in CONTACT_SCENARIOS and p.name.endswith("Enable"):
                fname = canonical_field(p.name[:-len("Enable")])
                if fname in V.POPUP_INPUTS:
                    if (p.value or "").strip() not in ("0", "1", ""):
                        self.add(warning(f"{p.name} is {p.value!r}; expected '0' or '1'", self.at(p.ref, "Value"),
                                         "invalid-value"))
                    continue
            if p.type.lower() == "header" and sc.id != AUTH:
                continue
            self.add(warning(f"unknown parameter {p.name!r} in scenario {sc.id}; kept and ignored",
                             self.at(p.ref, "Name"), "unknown-parameter"))
        for flag in _FLAGS + ("Pkce",):
            p = sc.parameter(flag)
            if p is not None and (p.value or "").strip() not in ("0", "1", ""):
                self.add(warning(f"{flag} is {p.value!r}; expected '0' or '1'", self.at(p.ref, "Value"),
                                 "invalid-value"))

    # -- authentication -----------------------------------------------------------------------------
    def check_authentication(self) -> None:
        sc = self.t.scenario(AUTH)
        a = self.t.auth
        if sc is None:
            return
        method = sc.parameter("AuthMethod")
        if method is None:
            self.add(warning("Scenario AuthMethod has no Parameter Name=\"AuthMethod\"; Information/@AuthType is used",
                             self.at(sc.ref), "missing-parameter"))
        elif a.auth_type and a.method and a.method != a.auth_type:
            self.add(warning(f"Parameter AuthMethod is {method.value!r} but Information/@AuthType is "
                             f"{self.t.general.auth_type!r}; AuthType wins", self.at(method.ref, "Value"),
                             "auth-mismatch"))
        auth_vars = self.global_variables()
        if a.auth_type == "basic":
            ct = sc.parameter("CredentialType")
            if ct is None or not (ct.value or "").strip():
                self.add(warning("basic authentication without a CredentialType (username_password or api_key)",
                                 self.at(ct.ref if ct else sc.ref, "Value" if ct else None), "missing-parameter"))
            elif ct.value.strip() not in CREDENTIAL_TYPES:
                self.add(error(f"CredentialType is {ct.value!r}; expected username_password or api_key",
                               self.at(ct.ref, "Value"), "invalid-value"))
            cred = sc.parameter("Base64EncodedCredential")
            if cred is None or not (cred.value or "").strip():
                self.add(warning("basic authentication without a Base64EncodedCredential format such as "
                                 "{{.username:.password}}", self.at(cred.ref if cred else sc.ref,
                                                                     "Value" if cred else None),
                                 "missing-parameter"))
            else:
                self.check_credential_format(cred)
        if a.auth_type in ("oauth2",):
            for name in ("AuthEndPoint", "TokenEndPoint"):
                p = sc.parameter(name)
                if p is None or not (p.value or "").strip():
                    self.add(error(f"OAuth2 needs Parameter {name}", self.at(p.ref if p else sc.ref,
                                                                             "Value" if p else None),
                                   "missing-parameter"))
        for name in ("AuthEndPoint", "TokenEndPoint", "RefreshTokenEndPoint"):
            p = sc.parameter(name)
            if p is not None and (p.value or "").strip():
                self.check_text(_Text(p.ref, "Value", p.value, name, AUTH), auth_vars, url=True)
        for name in ("Scope", "AdditionalQueryString"):
            p = sc.parameter(name)
            if p is not None and (p.value or "").strip():
                self.check_text(_Text(p.ref, "Value", p.value, name, AUTH), auth_vars)
        for p in a.headers:
            if not HEADER_NAME.match(p.name):
                self.add(error(f"header name {p.name!r} is not a valid HTTP header name", self.at(p.ref, "Name"),
                               "invalid-name"))
            self.check_text(_Text(p.ref, "Value", p.value or "", f"header {p.name}", AUTH), auth_vars)
            self.check_header_text(p)
        for p in sc.parameters:
            if p.father == "TokenErrorMap" and p.type and p.type != "TokenInvalid":
                self.add(warning(f"TokenErrorMap entry of Type {p.type!r}; only TokenInvalid is known",
                                 self.at(p.ref, "Type"), "invalid-value"))
            if p.father == "PopulateTemplateString" and p.type.lower() != "header":
                self.add(warning("PopulateTemplateString parameter without Type=\"Header\" is ignored",
                                 self.at(p.ref), "invalid-value"))

    def check_credential_format(self, cred: Parameter) -> None:
        mod = self.engines.credentials
        if mod is None or not hasattr(mod, "parse_credential_format"):
            self._note_unavailable("Base64 credential format", self.at(cred.ref, "Value"))
            return
        try:
            parsed = mod.parse_credential_format(cred.value or "")
        except Exception as exc:  # the parser reports a bad format by raising a located error
            value = cred.value or ""
            loc = getattr(exc, "location", None)
            text = _Text(cred.ref, "Value", value, "Base64EncodedCredential", AUTH)
            where = (self.at_value(text, _text_index(value, loc.line or 1, loc.col or 1)) if loc is not None
                     else self.at(cred.ref, "Value"))
            self.add(error(f"Base64EncodedCredential: {getattr(exc, 'message', exc)}", where, "credential-format"))
            return
        for name in _credential_names(parsed):
            if name not in self.field_names:
                self.add(error(f"Base64EncodedCredential uses {name!r}, which is not a custom field",
                               self.at(cred.ref, "Value"), "credential-format"))

    def check_custom_fields(self) -> None:
        seen: dict[str, int] = {}
        predefined = set(V.EVERYWHERE)
        for names in V.SCENARIO_INPUTS.values():
            predefined.update(names)
        for n, f in enumerate(self.t.custom_fields, 1):
            if n == MAX_CUSTOM_FIELDS + 1:
                self.add(error(f"more than {MAX_CUSTOM_FIELDS} custom fields ({len(self.t.custom_fields)}); the "
                               f"form allows at most {MAX_CUSTOM_FIELDS}", self.at(f.ref), "too-many-fields"))
            if not f.name:
                self.add(error("custom field without a Name", self.at(f.ref), "missing-attribute"))
                continue
            if not IDENTIFIER.match(f.name):
                self.add(error(f"custom field name {f.name!r} cannot be used as {{{{.{f.name}}}}} "
                               "(letters, digits and _ only, not starting with a digit)", self.at(f.ref, "Name"),
                               "invalid-name"))
            if f.name in seen:
                self.add(error(f"custom field {f.name!r} is defined twice", self.at(f.ref, "Name"),
                               "duplicate-name"))
            seen[f.name] = f.ref
            if f.name in predefined:
                self.add(warning(f"custom field {f.name!r} has the name of a predefined variable and hides it",
                                 self.at(f.ref, "Name"), "shadowed-variable"))
            if not f.title:
                self.add(warning(f"custom field {f.name!r} has no Title (the label shown on the form)",
                                 self.at(f.ref), "missing-attribute"))
            if f.editor.lower() not in EDITORS:
                self.add(error(f"custom field {f.name!r} has Editor={f.editor!r}; expected string, password or "
                               "dropdown", self.at(f.ref, "Editor"), "invalid-value"))
            elif f.editor.lower() == "dropdown" and not f.options:
                self.add(error(f"dropdown field {f.name!r} has no options (comma-separated in Value)",
                               self.at(f.ref, "Value"), "dropdown-options"))
            elif f.secret and f.value:
                self.add(warning(f"password field {f.name!r} has a Value in the template; secrets do not belong in "
                                 "templates", self.at(f.ref, "Value"), "secret-in-template"))

    # -- variables available where -----------------------------------------------------------------
    def global_variables(self) -> set[str]:
        return set(V.EVERYWHERE) | self.field_names

    def scenario_variables(self, sc: Scenario) -> set[str]:
        names = self.global_variables() | set(V.SCENARIO_INPUTS.get(sc.id, ()))
        for p in sc.parameters:
            if p.father in ("", "CustomScenarioParameter") and p.name and p.type.lower() not in ("header", "query"):
                names.add(p.name)
        return names

    def request_outputs(self, req: Request, seen: set[int] | None = None, *, mapped: bool = False) -> set[str]:
        """Outputs of *req* and of the requests its ``Next`` chain reaches.

        With *mapped*, only outputs that map something: ``Path=""`` is how templates say
        "field not provided", so it does not satisfy a required mapping.
        """
        seen = set() if seen is None else seen
        if req.ref in seen:
            return set()
        seen.add(req.ref)
        out = {o.name for o in req.outputs if o.name and (not mapped or o.path.strip())}
        if req.next:
            target = self.t.common_request(req.next)
            if target is not None:
                out |= self.request_outputs(target, seen, mapped=mapped)
        return out

    def _reachability(self) -> dict[int, set[str]]:
        """Variables in scope for every request (by ref), Common requests through their callers."""
        scope: dict[int, set[str]] = {}
        pending: list[tuple[Request, set[str]]] = []
        for sc in self.t.scenarios:
            if sc.id == COMMON:
                continue
            names = self.scenario_variables(sc)
            for req in sc.requests:
                scope[req.ref] = set(names)
                if req.next:
                    pending.append((req, names | {o.name for o in req.outputs}))
                names = names | self.request_outputs(req)
        visited: set[tuple[int, str]] = set()
        while pending:
            caller, names = pending.pop()
            target = self.t.common_request(caller.next or "")
            if target is None or (caller.ref, target.name) in visited:
                continue
            visited.add((caller.ref, target.name))
            scope.setdefault(target.ref, set()).update(names)
            if target.next:
                pending.append((target, names | {o.name for o in target.outputs}))
        return scope

    # -- requests -----------------------------------------------------------------------------------
    def check_request(self, sc: Scenario, req: Request, index: int, reach: dict[int, set[str]]) -> None:
        if not req.name:
            sev = error if sc.id in CONTACT_SCENARIOS + (COMMON, CREATE_CONTACT) else warning
            what = "the contact type" if sc.id in CONTACT_SCENARIOS + (CREATE_CONTACT,) else "its name"
            self.add(sev(f"<Request> without a Name ({what})", self.at(req.ref), "missing-attribute"))
        elif any(r.name == req.name for r in sc.requests[:index]):
            self.add(warning(f"a second request named {req.name!r} in scenario {sc.id}", self.at(req.ref, "Name"),
                             "duplicate-name"))
        if not req.method:
            self.add(error("<Request> without a Method", self.at(req.ref), "missing-attribute"))
        elif req.method.upper() not in METHODS:
            self.add(error(f"Method {req.method!r} is not one of {', '.join(METHODS)}", self.at(req.ref, "Method"),
                           "invalid-value"))
        if req.response_type and "json" not in req.response_type.lower():
            self.add(warning(f"ResponseType {req.response_type!r}: only JSON responses can be mapped",
                             self.at(req.ref, "ResponseType"), "invalid-value"))
        if sc.id == COMMON and req.ref not in reach:
            self.add(info(f"Common request {req.name!r} is not reached by any Outputs Next", self.at(req.ref),
                          "unused-request"))
        names = reach.get(req.ref)
        if names is None:
            names = self.scenario_variables(sc)
        if not req.url.strip():
            self.add(error("<Request> without a URLFormat", self.at(req.ref, "URLFormat" if self.t.document.nodes[
                req.ref].get("URLFormat") is not None else None), "missing-url"))
        else:
            self.check_text(_Text(req.ref, "URLFormat", req.url, "URL", sc.id), names, url=True)
            for m in JSON_STRING_IN_URL.finditer(req.url):
                if m.group(1) in FREE_TEXT_VARIABLES:
                    self.add(warning(f"{{{{.{m.group(1)}}}}} is printed inside a JSON string of the URL (%22...%22): "
                                     "URL encoding does not escape it for JSON, so a \" or \\ in it breaks the "
                                     f"request; write {{{{UrlEncode (printf \"%q\" .{m.group(1)})}}}} without the %22 "
                                     "quotes", self.at_value(_Text(req.ref, "URLFormat", req.url, "URL", sc.id),
                                                             m.start(1) - 1), "json-in-url"))
        body = req.body_parameter
        json_declared = self._json_content_type(req)
        for p in req.parameters:
            kind = p.type.lower()
            if kind == "body":
                if p.name and p.name != "Data":
                    self.add(warning(f"body parameter named {p.name!r}; Yeastar uses Name=\"Data\"",
                                     self.at(p.ref, "Name"), "invalid-value"))
                if p is not body:
                    self.add(warning("a second body parameter; only the first one is sent", self.at(p.ref),
                                     "duplicate-name"))
                    continue
                if req.method.upper() == "GET" and (p.value or "").strip():
                    self.add(warning("a GET request with a body; most servers ignore it", self.at(p.ref, "Value"),
                                     "get-body"))
                self.check_text(_Text(p.ref, "Value", p.value or "", "body", sc.id), names,
                                json_body="error" if json_declared else "guess")
            elif kind in ("header", "query"):
                if not p.name:
                    self.add(error(f"{kind} parameter without a Name", self.at(p.ref), "missing-attribute"))
                elif kind == "header" and not HEADER_NAME.match(p.name):
                    self.add(error(f"header name {p.name!r} is not a valid HTTP header name", self.at(p.ref, "Name"),
                                   "invalid-name"))
                if kind == "header":
                    self.check_header_text(p)
                self.check_text(_Text(p.ref, "Value", p.value or "", f"{kind} {p.name}", sc.id), names)
            else:
                self.add(warning(f"request parameter {p.name!r} has Type={p.type!r}; expected Body, Header or "
                                 "Query; kept and ignored", self.at(p.ref, "Type" if p.type else None),
                                 "unknown-parameter"))
        path_vars = names | {"Phone", "CallerNumber", "SearchValue"}
        for out in req.outputs:
            if not out.name:
                self.add(error("<Output> without a Name", self.at(out.ref), "missing-attribute"))
            elif not IDENTIFIER.match(out.name):
                self.add(error(f"output name {out.name!r} cannot be used as a variable", self.at(out.ref, "Name"),
                               "invalid-name"))
            if out.path.strip():
                self.check_path(_Text(out.ref, "Path", out.path, f"output {out.name}", sc.id), path_vars)
        if req.next is not None and self.t.common_request(req.next) is None:
            ob = req.outputs_ref if req.outputs_ref is not None else req.ref
            self.add(error(f"Outputs Next={req.next!r} names no request of Scenario Common", self.at(ob, "Next"),
                           "unknown-next"))

    def samples(self, names: Iterable[str], url_text: str = "") -> dict[str, str]:
        """Sample values: custom fields' defaults (never secrets); when *url_text* starts with a custom
        field (``{{.base_url}}/api``), that field gets a sample URL."""
        data = V.sample_data(names)
        defaulted = set()
        for f in self.t.custom_fields:
            if f.name in data and not f.secret:
                default = f.options[0] if f.options else f.value.strip()
                if default:
                    data[f.name] = default
                    defaulted.add(f.name)
        fields = [n for n in data if n in self.field_names and n not in defaulted]
        if url_text.lstrip().startswith("{{") and fields and self.engines.expr is not None:
            probe = dict(data)
            for i, n in enumerate(fields):
                probe[n] = f"zq{i}qz"
            try:
                out = self.engines.expr.render(url_text, probe, context="url").lstrip()
            except Exception:
                out = ""
            m = re.match(r"zq(\d+)qz", out)
            if m:
                data[fields[int(m.group(1))]] = "https://sample.example"
        return data

    def referenced(self, text: str) -> set[str] | None:
        """Top-level variable names a template string reads (None when engine.expr is unavailable)."""
        expr = self.engines.expr
        if expr is None or not hasattr(expr, "referenced_variables"):
            return None
        try:
            return {str(r.name) for r in expr.referenced_variables(text)}
        except Exception:
            return None

    def _json_content_type(self, req: Request) -> bool:
        headers = list(self.t.auth.headers) + list(req.headers)
        for h in headers:
            if h.name.lower() == "content-type" and "json" in (h.value or "").lower():
                return True
        return False

    # -- template strings ---------------------------------------------------------------------------
    def check_text(self, text: _Text, names: set[str], url: bool = False, json_body: str | None = None) -> None:
        """Syntax, variables and (after sample rendering) URL / JSON validity of one template string."""
        value = text.value
        expr = self.engines.expr
        has_template = "{{" in value or "}}" in value
        if expr is None or not hasattr(expr, "check_syntax"):
            if has_template:
                self._note_unavailable("template syntax", self.at(text.ref, text.attribute))
                return
            rendered = value
        else:
            try:
                problem = expr.check_syntax(value, text.label)
            except Exception as exc:  # never let a checker bug hide the other findings
                self.add(info(f"{text.label}: template syntax check failed internally ({exc})",
                              self.at(text.ref, text.attribute), "check-failed"))
                return
            if problem is not None:
                line = _pos_attr(problem, "line", default=1) or 1
                col = _pos_attr(problem, "col", "column", default=1) or 1
                message = getattr(problem, "message", None) or str(problem)
                self.add(error(f"{text.label}: {message}", self.at_value(text, _text_index(value, line, col)),
                               "template-syntax"))
                return
            available = V.with_aliases(names)
            try:
                refs = list(expr.referenced_variables(value)) if hasattr(expr, "referenced_variables") else []
            except Exception:
                refs = []
            reported = set()
            for ref in refs:
                name = str(getattr(ref, "name", ref)).lstrip(".").split(".")[0]
                if not name or name in available or name in reported:
                    continue
                reported.add(name)
                where = self.at_value(text, _text_index(value, getattr(ref, "line", 1) or 1,
                                                        getattr(ref, "col", 1) or 1))
                self.add(warning(f"{text.label}: variable {name!r} is not available in scenario "
                                 f"{text.scenario or '?'} (not predefined there, not a custom field, not an earlier "
                                 "output); it renders empty", where, "unknown-variable"))
            if not (url or json_body):
                return
            try:
                context = "url" if url else ("json" if json_body == "error" or (
                    json_body == "guess" and value.lstrip().startswith(("{", "["))) else "text")
                rendered = expr.render(value, self.samples(available, value if url else ""), context=context)
            except Exception as exc:
                line = _pos_attr(exc, "line", default=0)
                where = (self.at_value(text, _text_index(value, line, _pos_attr(exc, "col", default=1) or 1))
                         if line else self.at(text.ref, text.attribute))  # the failing action, when known
                self.add(error(f"{text.label}: rendering with sample values failed: {getattr(exc, 'message', exc)}",
                               where, "render-failed"))
                return
        if url:
            self._check_url(text, rendered, has_template)
        if json_body and rendered.strip():
            self._check_json(text, rendered, json_body)

    def check_header_text(self, p: Parameter) -> None:
        """A line break written in a header value would end the header (header injection)."""
        value = p.value or ""
        literal = re.sub(r"\{\{.*?\}\}", lambda m: " " * len(m.group()), value, flags=re.S)
        m = re.search(r"[\r\n]", literal)
        if m:
            self.add(error(f"header {p.name!r}: the value contains a line break (CR/LF), which would end the header",
                           self.at_value(_Text(p.ref, "Value", value, f"header {p.name}", ""), m.start()),
                           "header-line-break"))

    def _check_url(self, text: _Text, rendered: str, has_template: bool) -> None:
        rendered = rendered.strip()
        if not rendered:
            if has_template:
                return  # a wholly conditional URL: an empty result means "skip this request"
            self.add(error(f"{text.label} is empty", self.at(text.ref, text.attribute), "invalid-url"))
            return
        try:
            parts = urlsplit(rendered)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", rendered)
        except ValueError:
            ok = False
        if not ok:
            sample = " after sample rendering" if has_template else ""
            self.add(error(f"{text.label} is not a valid http(s) URL{sample}: {rendered[:120]!r}",
                           self.at(text.ref, text.attribute), "invalid-url"))

    def _check_json(self, text: _Text, rendered: str, mode: str) -> None:
        stripped = rendered.strip()
        if mode == "guess" and not stripped.startswith(("{", "[")):
            return
        try:
            json.loads(stripped)
        except ValueError as exc:
            sev = error if mode == "error" else warning
            pos = getattr(exc, "pos", 0)
            snippet = stripped[max(pos - 20, 0):pos + 20]
            self.add(sev(f"{text.label} is not JSON after sample rendering ({exc.msg} near {snippet!r})",
                         self.at(text.ref, text.attribute), "invalid-json"))

    def check_path(self, text: _Text, names: set[str]) -> None:
        """Syntax of an output path: comma-separated alternatives, GJSON or ``$`` JSONPath, may hold {{.Phone}}."""
        gjson = self.engines.gjson
        if gjson is None or not hasattr(gjson, "path_problems"):
            self._note_unavailable("GJSON path syntax", self.at(text.ref, text.attribute))
            return
        if "{{" in text.value:
            self.check_text(text, names)  # template syntax and variables of the embedded references
        mapping = self.engines.mapping
        for alt, start in self._alternatives(text.value):
            if alt.startswith("$"):
                self._check_jsonpath(text, alt, start)
                continue
            exact = "{{" not in alt
            if not exact:
                if mapping is None or not hasattr(mapping, "substitute_path_variables"):
                    continue
                try:
                    alt = mapping.substitute_path_variables(alt, self.samples(V.with_aliases(names)))
                except Exception:
                    continue
            try:
                problems = list(gjson.path_problems(alt))
            except Exception as exc:
                self.add(info(f"{text.label}: path check failed internally ({exc})",
                              self.at(text.ref, text.attribute), "check-failed"))
                return
            for pr in problems:
                col = int(getattr(pr, "col", 0) or 0)
                where = self.at_value(text, start + (max(col - 1, 0) if exact else 0))
                self.add(error(f"{text.label}: GJSON path {alt!r}: {getattr(pr, 'message', pr)}", where,
                               "gjson-syntax"))

    def _check_jsonpath(self, text: _Text, alt: str, start: int) -> None:
        try:
            from jsonpath_ng.ext import parse as jsonpath_parse
        except ImportError:
            return
        try:
            jsonpath_parse(alt)
        except Exception as exc:  # jsonpath-ng raises assorted exception types
            self.add(error(f"{text.label}: JSONPath {alt!r}: {exc}", self.at_value(text, start), "jsonpath-syntax"))

    def _alternatives(self, value: str) -> list[tuple[str, int]]:
        """The comma-separated alternatives of a path spec with their offsets in *value*."""
        mapping = self.engines.mapping
        parts = None
        if mapping is not None and hasattr(mapping, "split_alternatives"):
            try:
                parts = [str(p) for p in mapping.split_alternatives(value)]
            except Exception:
                parts = None
        if parts is None:
            parts = [value.strip()] if value.strip() else []
        out, cursor = [], 0
        for part in parts:
            start = value.find(part, cursor)
            start = cursor if start < 0 else start
            out.append((part, start))
            cursor = start + len(part)
        return out

    # -- per scenario -------------------------------------------------------------------------------
    def check_contact_scenarios(self) -> None:
        for sid in CONTACT_SCENARIOS:
            sc = self.t.scenario(sid)
            if sc is None:
                continue
            if not sc.requests:
                self.add(error(f"Scenario {sid} has no <Request> (one per contact type)", self.at(sc.ref),
                               "missing-request"))
            mapped_all: set[str] = set()
            inputs = ("Phone", "CallerNumber") if sid == CONTACT_MATCH else ("SearchValue",)
            for req in sc.requests:
                used = self.referenced("\n".join([req.url, *(p.value or "" for p in req.parameters),
                                                    *(o.path for o in req.outputs)]))
                if used is not None and req.url.strip() and not used & set(inputs):
                    self.add(warning(f"contact type {req.name!r}: the request never uses {{{{.{inputs[0]}}}}}, so "
                                     "every search returns the same contacts", self.at(req.ref, "URLFormat"),
                                     "search-input"))
                mapped = {canonical_field(n) for n in self.request_outputs(req, mapped=True)}
                mapped_all |= mapped
                for need in ("ContactId", "FirstName"):
                    if need not in mapped:
                        self.add(error(f"contact type {req.name!r} does not map {need} (required)",
                                       self.at(req.outputs_ref if req.outputs_ref is not None else req.ref),
                                       "missing-mapping"))
                if not mapped & set(PHONE_FIELDS):
                    self.add(error(f"contact type {req.name!r} maps no phone number (at least one of "
                                   f"{', '.join(PHONE_FIELDS)})",
                                   self.at(req.outputs_ref if req.outputs_ref is not None else req.ref),
                                   "missing-mapping"))
            for fname in sorted(sc.enabled_fields - mapped_all):
                if sc.requests:
                    p = next((q for q in sc.parameters if not q.father and q.name.endswith("Enable")
                              and canonical_field(q.name[:-len("Enable")]) == fname), None)
                    self.add(warning(f"{fname} is enabled but no request maps it", self.at(p.ref if p else sc.ref),
                                     "unmapped-field"))
            popup = sc.popup
            kind_param = sc.parameter("ContactUrlType")
            popup_vars = (self.scenario_variables(sc) | set(V.POPUP_INPUTS)
                          | set().union(*(self.request_outputs(r) for r in sc.requests)) if sc.requests
                          else self.scenario_variables(sc) | set(V.POPUP_INPUTS))
            if popup.kind and popup.kind not in ("specify_url_format", "contact_field"):
                self.add(error(f"ContactUrlType is {popup.kind!r}; expected specify_url_format or contact_field",
                               self.at(kind_param.ref, "Value"), "invalid-value"))
            if popup.kind == "specify_url_format" or (not popup.kind and popup.url_format):
                p = sc.parameter("URLFormat")
                if p is None or not popup.url_format.strip():
                    self.add(warning("ContactUrlType is specify_url_format but URLFormat is empty",
                                     self.at(p.ref if p else (kind_param or sc).ref), "missing-parameter"))
                else:
                    self.check_text(_Text(p.ref, "Value", p.value or "", "popup URL", sid), popup_vars, url=True)
            elif popup.kind == "contact_field":
                p = sc.parameter("ContactFieldForUri")
                if p is None or not popup.field_path.strip():
                    self.add(warning("ContactUrlType is contact_field but ContactFieldForUri is empty",
                                     self.at(p.ref if p else kind_param.ref), "missing-parameter"))
                else:
                    self.check_path(_Text(p.ref, "Value", p.value or "", "popup field", sid), popup_vars)

    def check_user_association(self) -> None:
        sc = self.t.scenario(USER_ASSOCIATION)
        if sc is None:
            return
        if not sc.requests:
            self.add(error("Scenario UserAssociation has no <Request> (Get User URL)", self.at(sc.ref),
                           "missing-request"))
        for req in sc.requests[:1]:
            mapped = self.request_outputs(req, mapped=True)
            where = self.at(req.outputs_ref if req.outputs_ref is not None else req.ref)
            if "UserUniqueId" not in mapped:
                self.add(error("User Association does not map UserUniqueId (required)", where, "missing-mapping"))
            if not {"FirstName", "LastName"} & mapped:
                self.add(warning("User Association maps neither FirstName nor LastName; users have no names",
                                 where, "missing-mapping"))
        pg = sc.pagination
        if pg is None:
            return
        values = {p.name: p for p in pg.parameters}
        mode = values.get("Mode")
        if mode is None or pg.mode not in PAGINATION_MODES:
            self.add(error(f"pagination Mode is {pg.mode!r}; expected one of {', '.join(PAGINATION_MODES)}",
                           self.at(mode.ref, "Value") if mode else pg.location, "pagination"))
        for name, low in (("PageSize", 1), ("MaxPages", 1), ("FirstPage", 0)):
            p = values.get(name)
            if p is None:
                continue
            try:
                ok = int((p.value or "").strip()) >= low and (name != "FirstPage" or int(p.value) in (0, 1))
            except ValueError:
                ok = False
            if not ok:
                rule = "0 or 1" if name == "FirstPage" else f"a whole number >= {low}"
                self.add(error(f"pagination {name} is {p.value!r}; expected {rule}", self.at(p.ref, "Value"),
                               "pagination"))
        if pg.mode in ("cursor", "link") and not pg.next_path.strip():
            self.add(error(f"pagination Mode {pg.mode} needs NextPath (the GJSON path of the next "
                           f"{'cursor' if pg.mode == 'cursor' else 'page URL'})", pg.location, "pagination"))
        if pg.next_path.strip():
            p = values["NextPath"]
            self.check_path(_Text(p.ref, "Value", p.value or "", "pagination NextPath", USER_ASSOCIATION), set())
        needs = {"page": ("Page", "Offset"), "offset": ("Offset", "Page"), "cursor": ("Cursor",)}.get(pg.mode)
        for req in sc.requests[:1]:
            used = self.referenced(req.url)
            if needs and used is not None and not used & set(needs):
                self.add(warning(f"pagination Mode {pg.mode} but the URL does not use {{{{.{needs[0]}}}}}; every page "
                                 "would fetch the same users", self.at(req.ref, "URLFormat"), "pagination"))
        if pg.mode in ("page", "offset") and pg.page_size is None:
            self.add(warning(f"pagination Mode {pg.mode} without PageSize: paging stops only on an empty page",
                             pg.location, "pagination"))

    def check_create_contact(self) -> None:
        sc = self.t.scenario(CREATE_CONTACT)
        if sc is None:
            return
        if not sc.requests:
            self.add(error("Scenario CreateNewContact has no <Request>", self.at(sc.ref), "missing-request"))
        search = self.t.scenario(CONTACT_MATCH) or self.t.scenario(CONTACT_SEARCH)
        types = set(search.contact_types) if search else set()
        for req in sc.requests:
            if "ContactId" not in {canonical_field(n) for n in self.request_outputs(req, mapped=True)}:
                self.add(warning(f"create-contact request {req.name!r} does not map ContactId; the new contact "
                                 "cannot be linked", self.at(req.outputs_ref if req.outputs_ref is not None
                                                             else req.ref), "missing-mapping"))
            if types and req.name and req.name not in types:
                self.add(warning(f"create-contact request {req.name!r} is not a contact type of the contact search "
                                 f"({', '.join(sorted(types))})", self.at(req.ref, "Name"), "contact-type"))

    def check_journal_and_ticket(self) -> None:
        for sid in (CALL_JOURNAL, CREATE_TICKET):
            sc = self.t.scenario(sid)
            if sc is None:
                continue
            if not sc.requests:
                self.add(error(f"Scenario {sid} has no <Request>", self.at(sc.ref), "missing-request"))
            names = self.scenario_variables(sc)
            for pname in ("Subject", "Description"):
                p = sc.parameter(pname)
                if p is not None and (p.value or "").strip():
                    self.check_text(_Text(p.ref, "Value", p.value or "", pname, sid), names - {pname})
            if sid == CREATE_TICKET:
                if sc.requests and "TicketId" not in self.request_outputs(sc.requests[0], mapped=True):
                    first = sc.requests[0]
                    self.add(warning("the first ticket request does not map TicketId; updates and the call journal "
                                     "cannot refer to the ticket", self.at(first.outputs_ref if first.outputs_ref
                                                                           is not None else first.ref),
                                     "missing-mapping"))
                p = sc.parameter("CreateTicketAt")
                if p is not None and (p.value or "").strip().lower() not in TICKET_TIMINGS:
                    self.add(error(f"CreateTicketAt is {p.value!r}; expected ring or after_call",
                                   self.at(p.ref, "Value"), "invalid-value"))

    def check_next_chains(self) -> None:
        """``Next`` chains between Common requests must end."""
        common = {r.name: r for s in self.t.scenarios if s.id == COMMON for r in s.requests if r.name}
        for name, req in common.items():
            seen, cur = [name], req
            while cur.next and cur.next in common:
                if cur.next in seen:
                    ob = req.outputs_ref if req.outputs_ref is not None else req.ref
                    self.add(error(f"Outputs Next chain loops: {' -> '.join(seen + [cur.next])}",
                                   self.at(ob, "Next"), "next-loop"))
                    break
                seen.append(cur.next)
                cur = common[cur.next]


def _credential_names(parsed) -> Iterable[str]:
    """Field names out of whatever :func:`parse_credential_format` returns."""
    for attr in ("fields", "names", "variables", "parts"):
        value = getattr(parsed, attr, None)
        if value is not None:
            parsed = value
            break
    if isinstance(parsed, str):
        return [parsed]
    out = []
    for item in parsed or ():
        if isinstance(item, str):
            out.append(item.lstrip("."))
        else:
            name = getattr(item, "name", None)
            if name:
                out.append(str(name).lstrip("."))
    return [n for n in out if n]


# ---- entry points -----------------------------------------------------------------------------------

def _xml_finding(exc: TemplateError) -> Finding:
    return error(exc.message, exc.location, getattr(exc, "code", "xml"))


def lint_template(template: Template) -> list[Finding]:
    """Every finding about *template*, sorted by position."""
    return Linter(template).run()


def lint_file(path: str | Path) -> list[Finding]:
    """Lint one template file, including its logo beside it when the template names one."""
    try:
        template = load_template(path)
    except TemplateError as exc:
        return [_xml_finding(exc)]
    findings = lint_template(template)
    logo = template.general.logo
    if logo and template.document.elements[0].tag == "Information":
        from engine.template.logo import check_logo
        where = template.where(0, "Logo")
        findings.extend(check_logo(Path(path).parent / logo, where))
        findings.sort(key=lambda f: (f.location.line, f.location.col))
    return findings


def exit_code(findings: list[Finding], strict: bool = False) -> int:
    """0 clean, 1 warnings only (with *strict*), 2 errors."""
    if any(f.severity is Severity.ERROR for f in findings):
        return 2
    if strict and any(f.severity is Severity.WARNING for f in findings):
        return 1
    return 0
