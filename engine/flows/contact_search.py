"""Contact search (``SyncContactAuto``, ``{{.Phone}}``) and manual search (``SearchContact``).

Build variables -> render request -> send -> map response, once per contact
type (each request of the scenario is a contact type) and per number variant:
the variants of the number are tried in the configured order until one finds
a contact; the result says which variant matched.  Several matches are all
returned; the pick policy chooses the one the call uses.  Results are cached
for a short time (a caller who rings back, a transfer) so the helpdesk is not
asked twice within seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from engine.flows.popup import POPUP_FIELD, popup_field_path, popup_url
from engine.flows.runner import Runtime, ScenarioError, ScenarioResult
from engine.http import Trace
from engine.numbers import NumberCandidate, NumberPlan, number_variants
from engine.template.model import CONTACT_MATCH, CONTACT_SEARCH

NAME_FIELDS = ("FirstName", "LastName")


class PickPolicy(StrEnum):
    """Which of several matching contacts the call uses (the UI can always pick another)."""

    FIRST = "first"  # the helpdesk's first answer (the PBX's behaviour)
    UNIQUE = "unique"  # only when exactly one matched; several means "ask"
    LAST = "last"


@dataclass(slots=True)
class ContactMatch:
    """A contact found in the helpdesk: its type, mapped fields and popup URL."""

    contact_type: str
    fields: dict[str, str]
    popup_url: str = ""

    @property
    def id(self) -> str:
        return self.fields.get("ContactId", "")

    @property
    def display_name(self) -> str:
        name = " ".join(self.fields.get(f, "") for f in NAME_FIELDS).strip()
        return name or self.fields.get("Company", "") or self.fields.get("Email", "") or self.id


@dataclass(slots=True)
class ContactSearchResult:
    """All matches of a search, the chosen one, and how the number was found."""

    query: str
    matches: list[ContactMatch] = field(default_factory=list)
    chosen: ContactMatch | None = None
    variant: NumberCandidate | None = None
    tried: list[NumberCandidate] = field(default_factory=list)
    runs: list[ScenarioResult] = field(default_factory=list)
    errors: list[ScenarioError] = field(default_factory=list)
    from_cache: bool = False
    stopped_early: bool = False  # the search deadline passed before every variant was tried

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def traces(self) -> list[Trace]:
        return [t for run in self.runs for t in run.traces]

    @property
    def ok(self) -> bool:
        return not self.errors


class ContactCache:
    """Search results by (scenario, query) for ``ttl`` seconds; at most ``size`` entries."""

    def __init__(self, ttl: float = 30.0, size: int = 512, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._items: OrderedDict[tuple[str, str], tuple[float, ContactSearchResult]] = OrderedDict()

    def get(self, scenario: str, query: str) -> ContactSearchResult | None:
        item = self._items.get((scenario, query))
        if item is None:
            return None
        stored, result = item
        if self.clock() - stored > self.ttl:
            del self._items[(scenario, query)]
            return None
        return result

    def put(self, scenario: str, query: str, result: ContactSearchResult) -> None:
        if self.ttl <= 0 or not result.ok:
            return  # errors are not cached: the next call tries again
        self._items[(scenario, query)] = (self.clock(), result)
        self._items.move_to_end((scenario, query))
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


def pick(matches: list[ContactMatch], policy: PickPolicy) -> ContactMatch | None:
    if not matches:
        return None
    if policy is PickPolicy.UNIQUE:
        return matches[0] if len(matches) == 1 else None
    if policy is PickPolicy.LAST:
        return matches[-1]
    return matches[0]


async def _search_types(rt: Runtime, scenario_id: str, scope: dict[str, str],
                        result: ContactSearchResult) -> list[ContactMatch]:
    """One query per contact type (concurrently, within the integration's limit)."""
    scenario = rt.template.scenario(scenario_id)
    assert scenario is not None
    extra = {POPUP_FIELD: popup_field_path(scenario)} if popup_field_path(scenario) else None

    async def one(request):
        type_scope = {**scope, "ContactSyncType": request.name}
        run = await rt.run(scenario_id, type_scope, requests=[request], required=("ContactId",),
                           extra_outputs=extra)
        return request.name, type_scope, run

    matches: list[ContactMatch] = []
    for contact_type, type_scope, run in await asyncio.gather(*(one(r) for r in scenario.requests)):
        result.runs.append(run)
        if run.error is not None:
            result.errors.append(run.error)
            continue
        for outcome in run.outcomes:
            for record in outcome.records:
                url = ""
                try:
                    url = popup_url(scenario, record, {**rt.variables, **type_scope,
                                                       "CallerNumber": scope.get("ReceivedNumber", "")},
                                    rt.render)
                except Exception as exc:  # a bad popup format must not hide the contact
                    outcome.trace.notes.append(rt.http.redactor.message(f"popup URL: {exc}"))
                matches.append(ContactMatch(contact_type, dict(record), url))
    return matches


async def search_contacts(rt: Runtime, number: str, *, plan: NumberPlan | None = None,
                          policy: PickPolicy = PickPolicy.FIRST, cache: ContactCache | None = None,
                          caller_display_name: str = "", deadline: float | None = None) -> ContactSearchResult:
    """Find the contacts behind *number* (``SyncContactAuto``), trying its variants in order.

    No further variant is tried once *deadline* seconds have passed: a popup
    after the caller hung up is useless (``stopped_early`` says so).
    """
    number = number.strip()
    if cache is not None:
        hit = cache.get(CONTACT_MATCH, number)
        if hit is not None:
            return ContactSearchResult(hit.query, hit.matches, pick(hit.matches, policy), hit.variant, hit.tried,
                                       [], [], from_cache=True)
    result = ContactSearchResult(number)
    if rt.template.scenario(CONTACT_MATCH) is None:
        result.errors.append(ScenarioError("the template has no SyncContactAuto (contact search) scenario",
                                           scenario=CONTACT_MATCH))
        return result
    started = time.monotonic()
    for candidate in number_variants(number, plan):
        if result.tried and deadline is not None and time.monotonic() - started >= deadline:
            result.stopped_early = True
            break
        result.tried.append(candidate)
        scope = {"Phone": candidate.value, "CallerNumber": candidate.value, "ReceivedNumber": number,
                 "CallerDisplayName": caller_display_name}
        matches = await _search_types(rt, CONTACT_MATCH, scope, result)
        if matches:
            result.matches, result.variant = matches, candidate
            break
        if result.errors:
            break  # the helpdesk failed: more variants would fail the same way
    result.chosen = pick(result.matches, policy)
    if cache is not None:
        cache.put(CONTACT_MATCH, number, result)
    return result


def looks_like_number(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    return digits >= 3 and all(ch.isdigit() or ch in "+ -()./" for ch in value.strip())


async def search_manually(rt: Runtime, value: str, *, policy: PickPolicy = PickPolicy.FIRST) -> ContactSearchResult:
    """The operator's search box (``SearchContact``, ``{{.SearchValue}}`` = a number or a name)."""
    value = value.strip()
    result = ContactSearchResult(value)
    if rt.template.scenario(CONTACT_SEARCH) is None:
        result.errors.append(ScenarioError("the template has no SearchContact (manual search) scenario",
                                           scenario=CONTACT_SEARCH))
        return result
    scope = {"SearchValue": value, "ReceivedNumber": value}
    if looks_like_number(value):
        scope.update(Phone=value, CallerNumber=value)
    result.matches = await _search_types(rt, CONTACT_SEARCH, scope, result)
    result.chosen = pick(result.matches, policy)
    return result
