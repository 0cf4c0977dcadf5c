"""The shared mechanics of every scenario: render a template request, authorise, send, trace, map.

Execution follows spec A.2: requests of a scenario run in document order; a
request whose rendered URL is empty is skipped; outputs are zipped by index
into records; ``Outputs Next`` runs a ``Common`` request once per record with
that record in scope; outputs stay in scope for later requests; a 401 or the
template's TokenInvalid text refreshes the credentials once and retries; any
other non-2xx answer or transport error ends the scenario with an error that
names the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urljoin

import httpx

from engine.auth import Authenticator, AuthError
from engine.errors import LocatedError, Location
from engine.http import HelpdeskHttp, MappingNote, Trace
from engine.http.trace import request_trace
from engine.template import Request, Template

MAX_NEXT_DEPTH = 4  # Next -> Next -> ... guard against loops between Common requests


class ScenarioError(LocatedError):
    """A scenario stopped: which request, why (status, transport error, template error)."""

    def __init__(self, message: str, location: Location | None = None, excerpt: str = "", *,
                 scenario: str = "", request: str = "", status: int | None = None) -> None:
        super().__init__(message, location or Location(), excerpt)
        self.scenario = scenario
        self.request = request
        self.status = status
        self.outcome: RequestOutcome | None = None


@dataclass(slots=True)
class RequestOutcome:
    """One request of a scenario: its trace, the records it mapped and the raw answer (never stored)."""

    request: Request
    trace: Trace
    records: list[dict[str, str]] = field(default_factory=list)
    body: str = field(default="", repr=False)
    sent_url: str = field(default="", repr=False)  # unredacted; for following next-page links
    skipped: bool = False
    nested: list[RequestOutcome] = field(default_factory=list)
    refused: Trace | None = None  # the first try, refused for a stale token, before the refresh


@dataclass(slots=True)
class ScenarioResult:
    """The outcome of a scenario run: requests in order, the scope after it, or the error that ended it."""

    scenario: str
    outcomes: list[RequestOutcome] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    error: ScenarioError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def traces(self) -> list[Trace]:
        out: list[Trace] = []

        def walk(outcomes: Iterable[RequestOutcome]) -> None:
            for o in outcomes:
                if o.refused is not None:
                    out.append(o.refused)
                out.append(o.trace)
                walk(o.nested)

        walk(self.outcomes)
        return out

    def records(self, request_name: str | None = None) -> list[dict[str, str]]:
        """Records of one request (by name) or of the last request that ran."""
        for o in reversed(self.outcomes):
            if o.skipped:
                continue
            if request_name is None or o.request.name == request_name:
                return o.records
        return []


def _content_type(headers: httpx.Headers) -> str:
    return headers.get("content-type", "").lower()


class Runtime:
    """Runs the requests of one template for one integration (shared by every scenario module)."""

    def __init__(self, template: Template, http: HelpdeskHttp, auth: Authenticator, *,
                 variables: Mapping[str, str] | None = None, dry_run: bool = False, tz=None) -> None:
        self.template = template
        self.tz = tz  # the PBX time zone for TimeFormat (None: the host's)
        self.http = http
        self.auth = auth
        self.variables = dict(variables or {})
        self.dry_run = dry_run
        self.token_invalid = tuple(t for t in template.auth.token_invalid if t)

    # -- rendering ----------------------------------------------------------------------------------
    def _where(self, request: Request, attribute: str) -> str:
        loc = request.location
        file = loc.file or self.template.file or "template"
        return f"{file}:{loc.line} {request.scenario}/Request[{request.name}]/@{attribute}"

    def render(self, text: str | None, scope: Mapping[str, object], *, context: str = "text", name: str = "tpl") -> str:
        """Render a template value the way the PBX does (errors carry *name*)."""
        if not text:
            return ""
        if "{{" not in text:
            return text
        from engine.expr import render

        return render(text, scope, context=context, name=name, tz=self.tz)

    def build_request(self, scenario: str, request: Request, scope: Mapping[str, object], *,
                      url: str | None = None) -> httpx.Request | None:
        """The ``httpx.Request`` for *request*, or None when its rendered URL is empty (skip)."""
        try:
            target = url if url is not None else self.render(request.url, scope, context="url",
                                                             name=self._where(request, "URLFormat")).strip()
            if not target:
                return None
            headers: list[tuple[str, str]] = []
            for p in (*self.template.auth.headers, *request.headers):
                headers.append((p.name, self.render(p.value, scope, context="header",
                                                    name=f"{p.location.file}:{p.location.line} Header[{p.name}]")))
            query = [(p.name, self.render(p.value, scope, name=f"{p.location.file}:{p.location.line} Query[{p.name}]"))
                     for p in request.query]
            body_template = request.body
            content = None
            if body_template is not None:
                declared = next((v for k, v in headers if k.lower() == "content-type"), "")
                json_body = "json" in declared.lower() or (not declared and body_template.lstrip()[:1] in "{[")
                form_body = "x-www-form-urlencoded" in declared.lower()
                content = self.render(body_template, scope,
                                      context="json" if json_body else ("form" if form_body else "text"),
                                      name=self._where(request, "Body"))
                if not declared and json_body:
                    headers.append(("Content-Type", "application/json"))
        except LocatedError as exc:
            hide = self.http.redactor.message  # a render error may quote a field value
            raise ScenarioError(f"request {request.name!r} cannot be rendered: {hide(exc.message)}", exc.location,
                                hide(exc.excerpt), scenario=scenario, request=request.name) from None
        method = (request.method or "GET").upper()
        if query:
            # appended to what the URL format wrote, which is kept byte for byte
            base, _, fragment = target.partition("#")
            joiner = "" if base.endswith(("?", "&")) else ("&" if "?" in base else "?")
            base += joiner + urlencode(query, quote_via=quote, safe="-_.~")
            target = base + (f"#{fragment}" if fragment else "")
        try:
            built = self.http.build_request(method, target, headers=headers, content=content or None)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            raise ScenarioError(f"request {request.name!r} has an invalid URL {self.http.redactor.url(target)!r}: "
                                f"{self.http.redactor.message(str(exc))}", request.location, scenario=scenario,
                                request=request.name) from None
        if built.url.port is not None and not 0 < built.url.port < 65536:
            raise ScenarioError(f"request {request.name!r}: the rendered URL {self.http.redactor.url(target)!r} "
                                f"has port {built.url.port}; a port is 1-65535", request.location,
                                scenario=scenario, request=request.name)
        if built.url.scheme not in ("http", "https") or not built.url.host:
            raise ScenarioError(f"request {request.name!r}: the rendered URL {self.http.redactor.url(target)!r} "
                                "is not an absolute http(s) URL" + self._empty_fields_hint(request.url, scope),
                                request.location, scenario=scenario, request=request.name)
        return built

    def _empty_fields_hint(self, text: str, scope: Mapping[str, object]) -> str:
        """``(empty: base_url)`` when custom fields the URL uses are not filled in."""
        from engine.expr import referenced_variables

        fields = {f.name for f in self.template.custom_fields}
        try:
            names = [ref.name for ref in referenced_variables(text)]
        except Exception:  # the URL rendered, so this does not happen; a hint must never fail
            return ""
        empty = sorted({n for n in names if n in fields and not scope.get(n)})
        return f" (custom field{'s' if len(empty) > 1 else ''} not filled in: {', '.join(empty)})" if empty else ""

    # -- running --------------------------------------------------------------------------------------
    async def run(self, scenario_id: str, scope: Mapping[str, object] | None = None, *,
                  requests: Sequence[Request] | None = None, retry_safe: bool = False,
                  required: Sequence[str] = (), extra_outputs: Mapping[str, str] | None = None) -> ScenarioResult:
        """Run the requests of *scenario_id* (or the given subset) in document order."""
        result = ScenarioResult(scenario_id)
        scenario = self.template.scenario(scenario_id)
        if scenario is None and requests is None:
            result.error = ScenarioError(f"the template has no {scenario_id} scenario",
                                         Location(self.template.file, 0, 0, f"Scenario[{scenario_id}]"),
                                         scenario=scenario_id)
            return result
        variables: dict[str, object] = {**self.variables, **(scope or {})}
        for request in (requests if requests is not None else scenario.requests):
            try:
                outcome = await self.send(scenario_id, request, variables, retry_safe=retry_safe,
                                          required=required, extra_outputs=extra_outputs)
            except ScenarioError as exc:
                result.error = exc
                if exc.outcome is not None:
                    result.outcomes.append(exc.outcome)
                break
            result.outcomes.append(outcome)
            if outcome.records:
                variables.update({k: v for k, v in outcome.records[0].items() if v != ""})
        result.variables = {k: str(v) for k, v in variables.items()}
        return result

    async def send(self, scenario_id: str, request: Request, scope: Mapping[str, object], *,
                   retry_safe: bool = False, required: Sequence[str] = (),
                   extra_outputs: Mapping[str, str] | None = None, url: str | None = None,
                   depth: int = 0) -> RequestOutcome:
        """Render, authorise, send and map one request (and its ``Next`` chain)."""
        built = self.build_request(scenario_id, request, scope, url=url)
        if built is None:
            trace = Trace(scenario_id, request.name, (request.method or "GET").upper(), "",
                          skipped="the URL rendered empty")
            self._emit_unsent(trace)
            return RequestOutcome(request, trace, skipped=True)
        unauthorised = ""
        try:
            await self.auth.authorize(built)
        except AuthError as exc:
            if not self.dry_run:
                where = exc.location if exc.location is not None and exc.location.file else request.location
                raise ScenarioError(f"request {request.name!r} cannot be authorised: {exc.message}", where,
                                    scenario=scenario_id, request=request.name) from None
            unauthorised = f"sent without credentials: {exc.message}"
        if self.dry_run:
            trace = request_trace(built, self.http.redactor, scenario=scenario_id, name=request.name)
            trace.dry_run = True
            if unauthorised:
                trace.notes.append(unauthorised)
            self._emit_unsent(trace)
            return RequestOutcome(request, trace)

        exchange = await self.http.send(built, scenario=scenario_id, name=request.name, retry_safe=retry_safe)
        reason = self._token_problem(exchange.status, exchange.text)
        refused = None
        if reason and await self.auth.refresh(reason, built):
            retry = self.build_request(scenario_id, request, scope, url=url)
            assert retry is not None
            await self.auth.authorize(retry)
            built = retry
            refused = exchange.trace
            refused.notes.append(f"{reason}: credentials refreshed, request sent again")
            exchange = await self.http.send(retry, scenario=scenario_id, name=request.name, retry_safe=retry_safe)
            reason = self._token_problem(exchange.status, exchange.text)
        trace = exchange.trace
        outcome = RequestOutcome(request, trace, body=exchange.text, refused=refused, sent_url=str(built.url))
        if exchange.response is None:
            raise self._failed(scenario_id, request, f"could not be sent: {exchange.error}", None, outcome)
        if reason:
            raise self._failed(scenario_id, request, f"was refused ({reason}); authorize deskline again or check "
                               "the credentials", exchange.status, outcome)
        if not exchange.ok:
            excerpt = trace.response_body[:200].strip()
            if exchange.status is not None and 300 <= exchange.status < 400:
                where = self.http.redactor.url(exchange.response.headers.get("location", ""))
                excerpt = f"redirected to {where or '(no Location)'}; write the final URL into the template"
            raise self._failed(scenario_id, request, f"failed with HTTP {exchange.status}"
                               + (f": {excerpt}" if excerpt else ""), exchange.status, outcome)
        outcome.records = self._map(request, exchange.text, scope, trace, required, extra_outputs)
        if request.next:
            await self._run_next(scenario_id, request, scope, outcome, retry_safe, depth)
        return outcome

    async def _run_next(self, scenario_id: str, request: Request, scope: Mapping[str, object],
                        outcome: RequestOutcome, retry_safe: bool, depth: int) -> None:
        target = self.template.common_request(request.next or "")
        if target is None:
            raise ScenarioError(f"request {request.name!r}: Outputs Next={request.next!r} names no request of the "
                                "Common scenario", request.location, scenario=scenario_id, request=request.name)
        if depth >= MAX_NEXT_DEPTH:
            raise ScenarioError(f"request {request.name!r}: Next chain deeper than {MAX_NEXT_DEPTH} (a loop?)",
                                request.location, scenario=scenario_id, request=request.name)
        records = outcome.records or ([{}] if not request.outputs else [])
        for record in records:
            nested = await self.send(scenario_id, target, {**scope, **record}, retry_safe=retry_safe,
                                     depth=depth + 1)
            outcome.nested.append(nested)
            if nested.records:
                for key, value in nested.records[0].items():
                    if value != "" and not record.get(key):
                        record[key] = value

    # -- helpers --------------------------------------------------------------------------------------
    def _token_problem(self, status: int | None, text: str) -> str:
        if status == 401:
            return "HTTP 401"
        for marker in self.token_invalid:
            if marker and marker in text and _reports(text, marker, status):
                return f"TokenInvalid text {marker!r} in the answer"
        return ""

    def _failed(self, scenario_id: str, request: Request, what: str, status: int | None,
                outcome: RequestOutcome) -> ScenarioError:
        error = ScenarioError(f"{scenario_id}: request {request.name!r} {what}", request.location,
                              scenario=scenario_id, request=request.name, status=status)
        error.outcome = outcome
        return error

    def _map(self, request: Request, text: str, scope: Mapping[str, object], trace: Trace,
             required: Sequence[str], extra_outputs: Mapping[str, str] | None) -> list[dict[str, str]]:
        fields = {name: path for name, path in request.output_map().items() if path.strip()}
        for name, path in (extra_outputs or {}).items():
            if path.strip():
                fields.setdefault(name, path)
        if not fields:
            return []
        from engine.mapping import map_records

        wanted = [r for r in required if r in fields]
        hide = self.http.redactor.text
        try:
            result = map_records(text, fields, {k: v for k, v in scope.items()}, wanted)
        except LocatedError as exc:
            trace.notes.append(hide(f"mapping failed: {exc.message}"))
            return []
        records = [dict(r) for r in result.records]
        diagnostics = getattr(result, "fields", None) or {}
        for name, path in fields.items():
            count = sum(1 for r in records if r.get(name, "") != "")
            shown = path
            diag = diagnostics.get(name)
            if diag is not None:
                won = [i for i in diag.matched if i is not None]
                if won and len(diag.alternatives) > 1:
                    shown = diag.alternatives[won[0]].evaluated  # the alternative that matched
                elif diag.alternatives and diag.alternatives[0].evaluated != path:
                    shown = diag.alternatives[0].evaluated  # with {{.Variables}} filled in
                for alt in diag.alternatives:
                    if alt.error:
                        trace.notes.append(hide(f"{name}: path {alt.path!r}: {alt.error}"))
            trace.mapping.append(MappingNote(name, hide(shown), count))  # {{.Variables}} may hold secrets
        if wanted:
            kept = [r for r in records if all(r.get(n, "") != "" for n in wanted)]
            if len(kept) != len(records):
                trace.notes.append(f"{len(records) - len(kept)} record(s) without {', '.join(wanted)} dropped")
            records = kept
        if text.strip() and not _looks_like_json(text):
            trace.notes.append("the answer is not JSON; outputs came back empty")
        for record in records:
            if record.get("ContactId"):
                record.setdefault("ContactsId", record["ContactId"])
        return records

    def _emit_unsent(self, trace: Trace) -> None:
        """Hand a trace that never went through HelpdeskHttp (skipped, dry run) to its trace sink."""
        self.http.record(trace)


def _reports(text: str, marker: str, status: int | None) -> bool:
    """Whether an answer containing the TokenInvalid *marker* reports it (not just carries it in data).

    An error status always counts.  A 2xx JSON answer counts only when a
    top-level value says it (``{"error": "invalid_token"}``), so a contact
    whose remark happens to contain the text does not trigger a refresh.
    """
    if status is None or not 200 <= status < 300:
        return True
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return True
    if isinstance(data, str):
        return marker in data
    if isinstance(data, dict):
        return marker in data or any(isinstance(v, str) and marker in v for v in data.values())
    return False


def _looks_like_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def resolve_link(base: str, link: str) -> str:
    """A next-page link relative to the page it came from."""
    return urljoin(base, link)
