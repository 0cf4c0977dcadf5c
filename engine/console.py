"""The console's engine: PBX events in, contact cards and written journals out.

One call, end to end::

    PbxEventSource -> CallEvent -> CallTracker -> CallRinging
        -> Integration.search_contacts (number variants) -> ContactCard -> ContactResolved
    ... -> CallCompleted (CDR) -> Outbox.enqueue(CreateNewTicket, CallJournal)  (exactly once per call)
        -> Outbox runs Integration.ticket_after_call / write_journal -> JournalWritten / JournalFailed
    and every step is recorded in the Store (call history) and published as a plain dataclass fact.

:class:`Engine` is the only thing the TUI talks to.  It never imports a UI library: subscribers get
facts through :meth:`Engine.subscribe` (a callback, called in the engine's event loop) or
:meth:`Engine.facts` (an async iterator).  Every background task is supervised: a failure becomes an
:class:`EngineProblem` fact, never a silent death.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine import pbx
from engine.auth import TokenHealth
from engine.errors import LocatedError, Location
from engine.flows import (
    CallContext,
    CallInfo,
    ContactMatch,
    ContactSearchResult,
    ScenarioResult,
)
from engine.http import Trace
from engine.integration import Integration, IntegrationSettings
from engine.outbox import BackoffPolicy, Outbox, OutboxEvent, Outcome
from engine.store import (
    CallRecord,
    HistoryFilter,
    ItemState,
    OutboxCounts,
    Store,
    WorkItem,
)
from engine.template import Template, load_template
from engine.template.model import CALL_JOURNAL, CREATE_TICKET

log = logging.getLogger("deskline.console")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_TEMPLATE = REPO_ROOT / "templates" / "demo" / "template.xml"

# extension -> e-mail of the PBX users in the demo (the demo helpdesk's agents have the same e-mails)
DEMO_EXTENSION_EMAILS = {
    "1001": "ada@demo-helpdesk.test", "1002": "grace@demo-helpdesk.test", "1003": "alan@demo-helpdesk.test",
    "1004": "katherine@demo-helpdesk.test", "1005": "edsger@demo-helpdesk.test",
}

# The demo's scripted calls: a known caller answered, a switchboard with two contacts missed in a queue,
# an unknown caller, an outbound call to a known mobile.
DEMO_SCRIPT = """\
# deskline demo: four calls
ring +15550100 -> 1001
wait 2s
answer 1001
wait 3s
hangup
wait 1s
missed +15557000 -> 6400 (queue 1002 1003) after 4s
wait 1s
ring +15559999 -> 1004
wait 2s
answer 1004
wait 2s
hangup
wait 1s
dial 1002 -> +15550101
wait 2s
answer
wait 3s
hangup
"""

CDR_STATUS = {"ANSWERED": "Answered", "NO ANSWER": "No Answer", "BUSY": "Busy", "VOICEMAIL": "Voicemail",
              "FAILED": "Failed"}
_NOT_SENT = ("cannot connect", "connect timeout", "timed out waiting for a connection")


# -- facts the engine publishes ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Fact:
    """Something the console should know about."""


@dataclass(frozen=True, slots=True)
class CallRang(Fact):
    call_id: str
    direction: str              # Inbound | Outbound | Internal
    number: str                 # the other party (caller on inbound calls, callee on outbound ones)
    extensions: tuple[str, ...]
    via: str = ""
    popup: bool = True          # False: none of these extensions may use the integration (association, filter)
    first: bool = True


@dataclass(frozen=True, slots=True)
class ContactResolved(Fact):
    call_id: str
    card: ContactCard


@dataclass(frozen=True, slots=True)
class CallAnswered(Fact):
    call_id: str
    extension: str


@dataclass(frozen=True, slots=True)
class CallEnded(Fact):
    call_id: str
    missed: bool
    duration: float


@dataclass(frozen=True, slots=True)
class TicketOpened(Fact):
    call_id: str
    ticket_id: str


@dataclass(frozen=True, slots=True)
class JournalQueued(Fact):
    call_id: str
    scenario: str
    item_id: int
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class JournalWritten(Fact):
    call_id: str
    scenario: str
    item_id: int
    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JournalFailed(Fact):
    call_id: str
    scenario: str
    item_id: int
    state: str                  # failed (retried later) | dead | attention | skipped
    error: str


@dataclass(frozen=True, slots=True)
class TraceRecorded(Fact):
    trace: Trace


@dataclass(frozen=True, slots=True)
class ConnectionChanged(Fact):
    state: str                  # connecting | subscribed | lost | auth_failed | finished | closed | ...
    detail: str = ""
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class TokenHealthChanged(Fact):
    health: TokenHealth


@dataclass(frozen=True, slots=True)
class EngineProblem(Fact):
    """A background task failed; ``what`` names it."""

    what: str
    message: str


# -- contact cards ---------------------------------------------------------------------------------------

NUMBER_LABELS = (("BusinessNumber", "business"), ("BusinessNumber2", "business 2"), ("MobileNumber", "mobile"),
                 ("MobileNumber2", "mobile 2"), ("HomeNumber", "home"), ("HomeNumber2", "home 2"),
                 ("BusinessFaxNumber", "fax"), ("HomeFaxNumber", "home fax"), ("OtherNumber", "other"))


@dataclass(frozen=True, slots=True)
class ContactCard:
    """What the popup shows for a call's number: the chosen contact and every other match."""

    number: str
    matches: tuple[ContactMatch, ...] = ()
    chosen: int | None = None           # index into matches
    variant: str = ""                   # which number variant matched (as_received, e164, ...)
    variant_number: str = ""
    error: str = ""                     # the search failed (the card says so instead of "unknown")
    created: bool = False               # the contact was created by deskline for this call

    @classmethod
    def from_search(cls, number: str, found: ContactSearchResult) -> ContactCard:
        chosen = None
        if found.chosen is not None:
            chosen = next((i for i, m in enumerate(found.matches) if m is found.chosen), 0)
        error = "; ".join(e.message for e in found.errors)
        variant = found.variant
        return cls(number, tuple(found.matches), chosen, variant.variant if variant else "",
                   variant.value if variant else "", error)

    @property
    def contact(self) -> ContactMatch | None:
        return self.matches[self.chosen] if self.chosen is not None else None

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def name(self) -> str:
        return self.contact.display_name if self.contact else ""

    @property
    def company(self) -> str:
        return self.contact.fields.get("Company", "") if self.contact else ""

    @property
    def email(self) -> str:
        return self.contact.fields.get("Email", "") if self.contact else ""

    @property
    def popup_url(self) -> str:
        return self.contact.popup_url if self.contact else ""

    @property
    def numbers(self) -> list[tuple[str, str]]:
        """(label, number) of the chosen contact's phone fields that are set."""
        if self.contact is None:
            return []
        return [(label, self.contact.fields[f]) for f, label in NUMBER_LABELS if self.contact.fields.get(f)]

    def choose(self, index: int) -> ContactCard:
        if not 0 <= index < len(self.matches):
            raise IndexError(f"no match number {index + 1} (the card has {len(self.matches)})")
        return replace(self, chosen=index)


@dataclass(frozen=True, slots=True)
class SetupInfo:
    """What the integration setup pane shows (secret field values are masked)."""

    template: str
    auth: str
    fields: tuple[tuple[str, str], ...] = ()
    authentication: tuple[tuple[str, str], ...] = ()      # what to register in the helpdesk (OAuth2)
    health: TokenHealth | None = None
    user_association: bool = False
    associations: tuple[tuple[str, str, str], ...] = ()   # extension, helpdesk user id, user name
    notes: tuple[str, ...] = ()


# -- live calls -------------------------------------------------------------------------------------------

@dataclass(slots=True)
class LiveCall:
    """A call as the console lists it."""

    call_id: str
    direction: str
    number: str
    extensions: tuple[str, ...] = ()
    via: str = ""
    state: str = "ringing"              # ringing | answered | ended | missed
    started_at: float = 0.0
    answered_by: str = ""
    duration: float = 0.0
    popup: bool = True
    card: ContactCard | None = None
    context: CallContext | None = field(default=None, repr=False)
    identified: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """What the engine does with calls (the integration's own settings live in IntegrationSettings)."""

    popup_extensions: tuple[str, ...] = ()      # only these extensions get cards (empty: all)
    create_unknown_contacts: bool = False       # create a contact when nothing matched
    tickets: str = "all"                        # which calls get a ticket: all | missed | none
    extension_emails: Mapping[str, str] = field(default_factory=dict)   # for user association by e-mail
    manual_associations: Mapping[str, str] = field(default_factory=dict)  # extension -> helpdesk user id
    outbox: BackoffPolicy = field(default_factory=BackoffPolicy)
    outbox_poll: float = 30.0
    identify_wait: float = 20.0                 # how long the journal waits for a ring-time search
    max_calls: int = 200                        # live calls kept for the call list
    health_interval: float = 5.0


def _direction(value: str) -> str:
    return {"inbound": "Inbound", "outbound": "Outbound"}.get(value, "Internal")


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def call_info(call: pbx.Call, cdr: pbx.NewCdr | None = None, extension: str = "") -> CallInfo:
    """The template's call variables from what the PBX said about a call."""
    direction = _direction(call.direction)
    if not extension:
        if direction == "Outbound":
            extension = call.caller
        else:
            extension = (call.answered_by[-1] if call.answered_by else call.rang[0] if call.rang else "")
    info = CallInfo(caller_number=call.caller, callee_number=call.callee, direction=direction,
                    extension=extension, call_id=call.call_id, start_time=_ts(call.started_at))
    if cdr is not None:
        info.status = CDR_STATUS.get(cdr.status, "Answered" if call.answered else "No Answer")
        info.talk_seconds = cdr.talk_duration
        info.ring_seconds = max(0, cdr.call_duration - cdr.talk_duration)
        info.record_path = cdr.recording
        if cdr.time_start is not None:
            info.start_time = cdr.time_start.timestamp()
    else:
        info.status = "Failed" if call.failure else ("Answered" if call.answered else "No Answer")
        if call.answered_at and call.ended_at:
            info.talk_seconds = int((call.ended_at - call.answered_at).total_seconds())
        if call.started_at and call.ended_at:
            info.ring_seconds = int((call.ended_at - call.started_at).total_seconds()) - info.talk_seconds
    return info


def classify(result: ScenarioResult) -> Outcome:
    """How a scenario run ended, for the outbox: written, retry later, give up, or unknown."""
    if result.ok:
        outputs = {k: v for k, v in result.variables.items() if k in ("TicketId", "ContactId") and v}
        status = result.traces[-1].status if result.traces else None
        return Outcome.done(outputs, http_status=status)
    error = result.error
    message = error.message if error is not None else "failed"
    traces = result.traces
    if not traces:                       # nothing was sent: a template problem or missing contact
        return Outcome.fatal(message)
    last = traces[-1]
    status = last.status
    if status is None:
        if last.error.startswith(_NOT_SENT):
            return Outcome.retry(message)
        return Outcome.unknown(message)
    if status in (408, 425, 429, 503):
        return Outcome.retry(message, http_status=status)
    if status == 401 or status == 403:
        return Outcome.retry(message, http_status=status)   # credentials may be fixed by the operator
    if 400 <= status < 500:
        return Outcome.fatal(message, http_status=status)
    return Outcome.unknown(message, http_status=status)


class Engine:
    """PBX events -> contact cards -> journals and tickets, with history. ``await start()`` / ``stop()``."""

    def __init__(self, integration: Integration, source: pbx.PbxEventSource, store: Store, *,
                 settings: EngineSettings | None = None, tracker: pbx.CallTracker | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.integration = integration
        self.source = source
        self.store = store
        self.settings = settings or EngineSettings()
        self.clock = clock
        self.tracker = tracker or pbx.CallTracker()
        self.outbox = Outbox(store, self._execute, policy=self.settings.outbox, clock=clock,
                             poll_interval=self.settings.outbox_poll)
        self.calls: OrderedDict[str, LiveCall] = OrderedDict()
        self.connection = ConnectionChanged("idle")
        self.token_health: TokenHealth | None = None
        self.association_notes: list[str] = []
        self._listeners: list[Callable[[Fact], object]] = []
        self._tasks: set[asyncio.Task] = set()
        self._started = False
        self._cleanup: list[Callable[[], Awaitable[None] | None]] = []
        self.demo_helpdesk: Any = None      # set by demo(): the DemoHelpdesk and the PbxSimulator
        self.demo_pbx: Any = None
        self.demo_done = asyncio.Event()
        self._demo_play: Callable[[], Awaitable[None]] | None = None
        self._authorization: Any = None
        self._associated = asyncio.Event()
        self._last_event = 0.0
        self.outbox.subscribe(self._on_outbox)
        integration._on_trace = self._on_trace

    # -- subscribers ------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Fact], object]) -> Callable[[], None]:
        """Call *listener* with every fact (in the engine's loop); returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def facts(self) -> AsyncIterator[Fact]:
        """Every fact from now on, until the engine stops."""
        queue: asyncio.Queue[Fact | None] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        self._cleanup.append(lambda: queue.put_nowait(None))
        try:
            while (fact := await queue.get()) is not None:
                yield fact
        finally:
            unsubscribe()

    def publish(self, fact: Fact) -> None:
        for listener in list(self._listeners):
            try:
                listener(fact)
            except Exception:  # a broken subscriber must not stop the calls
                log.exception("a fact subscriber failed on %s", type(fact).__name__)

    # -- life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        if not self.store.is_open:
            try:
                await self.store.open()
            except LocatedError as exc:  # damaged, unwritable or newer database: say so where the operator looks
                self._started = False
                self.publish(EngineProblem("call store", str(exc)))
                raise
        self._spawn(self._associate(), "user association")
        self._spawn(self._pump(), "PBX events")
        self._spawn(self._tick(), "call timers")
        self._spawn(self.outbox.run(), "outbox")

    async def stop(self) -> None:
        """Stop every task, close the source, the integration and the store (and the demo servers)."""
        if not self._started:
            return
        self._started = False
        await self.outbox.stop(grace=2.0)
        try:
            await self.source.aclose()
        except Exception:
            log.debug("closing the PBX source failed", exc_info=True)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.integration.aclose()
        await self.store.close()
        for cleanup in reversed(self._cleanup):
            result = cleanup()
            if asyncio.iscoroutine(result):
                await result
        self._cleanup.clear()

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def _spawn(self, coro: Awaitable[Any], what: str) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is not None:
                log.error("%s failed", what, exc_info=exc)
                message = str(exc) if isinstance(exc, LocatedError) else f"{type(exc).__name__}: {exc}"
                self.publish(EngineProblem(what, message))

        task.add_done_callback(done)
        return task

    async def idle(self, timeout: float = 10.0, quiet: float = 0.3) -> None:
        """Wait until the PBX has been quiet for *quiet* seconds, no call is in progress, no call work
        is running and the outbox has nothing due (tests, ``demo --headless``)."""
        async with asyncio.timeout(timeout):
            while True:
                busy = [t for t in self._tasks if getattr(t, "_deskline_call", False) and not t.done()]
                settled = time.monotonic() - self._last_event >= quiet and not self.tracker.active
                if settled and not busy:
                    counts = await self.outbox.counts()
                    if counts.pending == 0 and counts.in_flight == 0:
                        return
                await asyncio.sleep(0.02)

    # -- PBX events -------------------------------------------------------------------------------
    async def _pump(self) -> None:
        async for item in self.source:
            self._last_event = time.monotonic()
            if isinstance(item, pbx.SourceStatus):
                self.connection = ConnectionChanged(item.state, item.detail or (str(item.error) if item.error else ""),
                                                    item.retry_in)
                self.publish(self.connection)
                continue
            if not self._associated.is_set():   # who gets cards is known only after the association
                try:
                    await asyncio.wait_for(self._associated.wait(), self.settings.identify_wait)
                except TimeoutError:
                    pass
            for fact in self.tracker.feed(item):
                self._on_call_fact(fact)

    async def _tick(self) -> None:
        last: TokenHealth | None = None
        since_health = float("inf")
        while True:
            for fact in self.tracker.expire():
                self._on_call_fact(fact)
            since_health += 1.0
            if since_health >= self.settings.health_interval:
                since_health = 0.0
                health = self.integration.health()
                if health != last:
                    last = self.token_health = health
                    self.publish(TokenHealthChanged(health))
            await asyncio.sleep(1.0)

    def _on_call_fact(self, fact: pbx.CallFact) -> None:
        if isinstance(fact, pbx.CallRinging):
            self._on_ringing(fact)
        elif isinstance(fact, pbx.CallAnswered):
            call = self.calls.get(fact.call_id)
            if call is not None:
                call.state, call.answered_by = "answered", fact.extension
            self.publish(CallAnswered(fact.call_id, fact.extension))
            self._call_task(self.store.record_call(CallRecord(fact.call_id, answered_at=_ts(fact.answered_at),
                                                              extension=fact.extension)), "history")
        elif isinstance(fact, pbx.CallEnded):
            missed = not fact.call.answered and fact.call.direction != "outbound"
            call = self.calls.get(fact.call_id)
            if call is not None:
                call.state, call.duration = ("missed" if missed else "ended"), fact.duration
            self.publish(CallEnded(fact.call_id, missed, fact.duration))
        elif isinstance(fact, pbx.CallCompleted):
            self._call_task(self._complete(fact.call, fact.cdr), "call journal")

    def _allowed(self, extensions: Iterable[str]) -> list[str]:
        wanted = set(self.settings.popup_extensions)
        return [e for e in extensions
                if (not wanted or e in wanted) and self.integration.may_use_features(e)]

    def _on_ringing(self, fact: pbx.CallRinging) -> None:
        direction = _direction(fact.direction)
        number = fact.callee if direction == "Outbound" else fact.caller
        allowed = self._allowed(fact.extensions)
        call = self.calls.get(fact.call_id)
        if call is None:
            call = LiveCall(fact.call_id, direction, number, fact.extensions, fact.via,
                            started_at=_ts(fact.started_at) or self.clock(), popup=bool(allowed))
            self.calls[fact.call_id] = call
            while len(self.calls) > self.settings.max_calls:
                self.calls.popitem(last=False)
        else:
            call.extensions = tuple(dict.fromkeys(call.extensions + fact.extensions))
            call.state = "ringing" if call.state == "ringing" else call.state
            call.popup = call.popup or bool(allowed)
        self.publish(CallRang(fact.call_id, direction, number, fact.extensions, fact.via, bool(allowed), fact.first))
        if fact.first:
            extension = fact.extensions[0] if fact.extensions else ""
            self._call_task(self.store.record_call(CallRecord(
                fact.call_id, direction=direction, caller_number=fact.caller, callee_number=fact.callee,
                extension=extension, started_at=call.started_at)), "history")
        if allowed and call.context is None and direction != "Internal":
            info = CallInfo(caller_number=fact.caller, callee_number=fact.callee, direction=direction,
                            extension=allowed[0], call_id=fact.call_id, start_time=call.started_at)
            call.context = self.integration.new_call(info)
            self._call_task(self._identify(call), "contact search")
        elif call.context is None:
            call.identified.set()   # nothing to wait for

    def _call_task(self, coro: Awaitable[Any], what: str) -> None:
        task = self._spawn(coro, what)
        task._deskline_call = True  # type: ignore[attr-defined]  # idle() waits for these

    async def _identify(self, call: LiveCall) -> None:
        context = call.context
        assert context is not None
        try:
            found = await self.integration.identify(context)
            card = ContactCard.from_search(call.number, found)
            if not card.found and not card.error and self.settings.create_unknown_contacts \
                    and self.integration.template.feature_enabled("CreateNewContact"):
                created = await self.integration.create_contact(call.number, context=context)
                if created.ok:
                    match = ContactMatch(created.contact_type, {"ContactId": created.contact_id,
                                                                "FirstName": call.number})
                    card = replace(card, matches=(match,), chosen=0, created=True)
            self._set_card(call, card)
            if self.integration.template.feature_enabled("CreateNewTicket") and self._wants_ticket(missed=False):
                result = await self.integration.ticket_at_ring(context)
                if result is not None and result.ok and context.variables.get("TicketId"):
                    self.publish(TicketOpened(call.call_id, context.variables["TicketId"]))
        finally:
            call.identified.set()

    def _set_card(self, call: LiveCall, card: ContactCard) -> None:
        call.card = card
        if call.context is not None:
            call.context.contact = card.contact
        self.publish(ContactResolved(call.call_id, card))
        contact = card.contact
        if contact is not None:
            self._call_task(self.store.record_call(CallRecord(
                call.call_id, contact_id=contact.id, contact_name=contact.display_name,
                contact_type=contact.contact_type, popup_url=contact.popup_url)), "history")

    def _wants_ticket(self, *, missed: bool) -> bool:
        return self.settings.tickets == "all" or (self.settings.tickets == "missed" and missed)

    # -- after the call: the durable outbox --------------------------------------------------------
    async def _complete(self, pbx_call: pbx.Call, cdr: pbx.NewCdr | None) -> None:
        live = self.calls.get(pbx_call.call_id)
        if live is not None and live.context is not None:
            try:
                await asyncio.wait_for(live.identified.wait(), self.settings.identify_wait)
            except TimeoutError:
                pass
        info = call_info(pbx_call, cdr, extension=live.context.call.extension if live and live.context else "")
        await self.store.record_call(CallRecord(
            pbx_call.call_id, direction=info.direction, caller_number=info.caller_number,
            callee_number=info.callee_number, extension=info.extension or None, started_at=info.start_time,
            ended_at=_ts(pbx_call.ended_at) or self.clock(), ring_seconds=info.ring_seconds,
            talk_seconds=info.talk_seconds, status=info.status))
        if live is None or not live.popup or live.context is None:
            return    # nobody this console serves took part (or an internal call): nothing to write
        context = live.context
        context.call = replace_call(context.call, info)
        missed = info.status != "Answered"
        template = self.integration.template
        payload = {"call": asdict(context.call), "owner": context.owner, "variables": dict(context.variables),
                   "contact": ({"type": context.contact.contact_type, "fields": context.contact.fields,
                                "popup_url": context.contact.popup_url} if context.contact else None)}
        jobs = []
        if template.feature_enabled("CreateNewTicket") and self._wants_ticket(missed=missed):
            jobs.append(CREATE_TICKET)
        if template.feature_enabled("CallJournal"):
            jobs.append(CALL_JOURNAL)
        for scenario in jobs:
            needs_contact = template.scenario(scenario).need_sync_contact
            if needs_contact and context.contact is None:
                self.publish(JournalFailed(context.call.call_id, scenario, 0, "skipped",
                                           f"{scenario} needs a matched contact and this call has none"))
                continue
            await self.outbox.enqueue(context.call.call_id, scenario, payload)

    async def _execute(self, item: WorkItem) -> Outcome:
        """The outbox's executor: run the item's scenario with the call as it was queued."""
        payload = item.payload
        call = CallInfo(**payload["call"])
        context = CallContext(call, owner=str(payload.get("owner") or ""))
        context.variables.update({k: str(v) for k, v in dict(payload.get("variables") or {}).items()})
        context.variables.update(await self.outbox.outputs(item.call_id))   # the ticket's id for the journal
        contact = payload.get("contact")
        if contact:
            context.contact = ContactMatch(contact["type"], dict(contact["fields"]), contact.get("popup_url", ""))
        if item.scenario == CREATE_TICKET:
            result = await self.integration.ticket_after_call(context)
        elif item.scenario == CALL_JOURNAL:
            result = await self.integration.write_journal(context)
        else:
            return Outcome.fatal(f"unknown outbox scenario {item.scenario!r}")
        return classify(result)

    def _on_outbox(self, event: OutboxEvent) -> None:
        item = event.item
        if item is None:                 # the store itself had a problem (locked, damaged): nothing lost
            self.publish(EngineProblem("outbox", event.message))
            return
        if event.kind in ("queued", "duplicate"):
            self.publish(JournalQueued(item.call_id, item.scenario, item.id, event.kind == "duplicate"))
        elif event.kind == "sent" or (event.kind == "resolved" and item.state == ItemState.DONE):
            self.publish(JournalWritten(item.call_id, item.scenario, item.id, dict(item.outputs)))
            if item.scenario == CREATE_TICKET and item.outputs.get("TicketId"):
                self.publish(TicketOpened(item.call_id, item.outputs["TicketId"]))
        elif event.kind in ("failed", "retrying", "dead", "attention"):
            state = "failed" if event.kind == "retrying" else event.kind
            self.publish(JournalFailed(item.call_id, item.scenario, item.id, state, event.message or item.last_error))
        elif event.kind == "resolved":
            self.publish(JournalQueued(item.call_id, item.scenario, item.id))

    def _on_trace(self, trace: Trace) -> None:
        self.integration.traces.append(trace)
        self.publish(TraceRecorded(trace))

    # -- what the console asks ---------------------------------------------------------------------
    @property
    def traces(self) -> list[Trace]:
        return list(self.integration.traces)

    @property
    def template(self) -> Template:
        return self.integration.template

    def card(self, call_id: str) -> ContactCard | None:
        call = self.calls.get(call_id)
        return call.card if call else None

    def choose_contact(self, call_id: str, index: int) -> ContactCard:
        """The operator picked another of the card's matches; the journal uses it."""
        call = self._call(call_id)
        if call.card is None:
            raise LocatedError("this call has no contact card yet", Location(field=f"call {call_id}"))
        card = call.card.choose(index)
        self._set_card(call, card)
        return card

    async def search(self, text: str) -> ContactCard:
        """Manual search (name, e-mail or number) from the console."""
        found = await self.integration.search(text)
        return ContactCard.from_search(text, found)

    async def create_contact(self, call_id: str, *, first_name: str = "", last_name: str = "",
                             contact_type: str = "") -> ContactCard:
        """Create a contact for the call's number and put it on the call's card."""
        call = self._call(call_id)
        created = await self.integration.create_contact(call.number, contact_type=contact_type,
                                                        first_name=first_name, last_name=last_name,
                                                        context=call.context)
        if not created.ok:
            error = created.run.error
            raise LocatedError(error.message if error else "the helpdesk gave no ContactId",
                               error.location if error else Location(field="CreateNewContact"))
        name = {"FirstName": first_name or call.number, "LastName": last_name}
        match = ContactMatch(created.contact_type, {"ContactId": created.contact_id, **name})
        card = replace(call.card or ContactCard(call.number), matches=(match,), chosen=0, created=True, error="")
        self._set_card(call, card)
        return card

    def _call(self, call_id: str) -> LiveCall:
        call = self.calls.get(call_id)
        if call is None:
            raise LocatedError("no such call in the call list", Location(field=f"call {call_id}"))
        return call

    async def history(self, limit: int = 100, text: str = "") -> list[CallRecord]:
        return await self.store.history(limit, HistoryFilter(text=text))

    async def export_history(self, dest: str | Path, fmt: str = "csv", text: str = "") -> int:
        """Write the call history to *dest* (CSV or JSON) with every secret of this engine masked."""
        secrets = [*self.integration.http.secrets, *getattr(self.source, "secrets", ())]
        return await self.store.export(dest, fmt, filter=HistoryFilter(text=text) if text else None, secrets=secrets)

    async def outbox_items(self, states: Iterable[ItemState] | None = None) -> list[WorkItem]:
        return await self.store.items(states)

    async def outbox_counts(self) -> OutboxCounts:
        return await self.outbox.counts()

    async def retry(self, item_id: int) -> WorkItem:
        return await self.outbox.retry(item_id)

    async def associate_users(self, manual: Mapping[str, str] | None = None) -> list[str]:
        """(Re)associate extensions with helpdesk users: manual choices first, then by e-mail."""
        merged = {**self.settings.manual_associations, **(manual or {})}
        _, notes = await self.integration.associate_users(self.settings.extension_emails, merged)
        self.association_notes = notes
        return notes

    def setup_info(self) -> SetupInfo:
        integration = self.integration
        template = integration.template
        secret = {f.name for f in template.custom_fields if f.secret}
        from engine.http import sensitive_name

        fields = tuple((name, "********" if value and (name in secret or sensitive_name(name)) else value)
                       for name, value in integration.values.items())
        associations = tuple((ext, user.id, user.display_name)
                             for ext, user in sorted(integration.associations.items()))
        return SetupInfo(template.general.name or template.general.key or str(template.file),
                         getattr(integration.auth, "kind", "none"), fields,
                         tuple(integration.authentication_info()), integration.health(),
                         template.feature_enabled("UserAssociation"), associations, tuple(self.association_notes))

    # -- authentication ----------------------------------------------------------------------------
    @property
    def uses_oauth2(self) -> bool:
        return getattr(self.integration.auth, "kind", "") == "oauth2"

    def authorization_url(self) -> str:
        """Start an OAuth2 authorization: the URL the operator opens in any browser."""
        auth = self._oauth2()
        self._authorization = auth.authorization_request()
        return self._authorization.url

    async def complete_authorization(self, pasted_redirect: str) -> TokenHealth:
        """Finish the authorization with the address the browser was redirected to."""
        auth = self._oauth2()
        if self._authorization is None:
            raise LocatedError("start the authorization first (it gives the URL to open)",
                               Location(field="redirect URL"))
        await auth.complete(pasted_redirect, self._authorization)
        return self._health_now()

    async def authorize_via_loopback(self, show_url: Callable[[str], object], timeout: float = 300.0) -> TokenHealth:
        """Authorize by receiving the redirect on the loopback callback (``show_url`` gets the URL to open)."""
        await self._oauth2().connect_via_loopback(show_url, timeout=timeout)
        return self._health_now()

    def _oauth2(self):
        if not self.uses_oauth2:
            raise LocatedError("this template does not use OAuth2", Location(field="AuthMethod"))
        return self.integration.auth

    def _health_now(self) -> TokenHealth:
        health = self.integration.health()
        self.token_health = health
        self.publish(TokenHealthChanged(health))
        return health

    async def _associate(self) -> None:
        try:
            if self.integration.template.feature_enabled("UserAssociation"):
                notes = await self.associate_users()
                for note in notes:
                    log.info("user association: %s", note)
                if not self.integration.associations:
                    self.publish(EngineProblem("user association", "no extension is associated with a helpdesk "
                                               "user, so no call gets a card: associate extensions in Setup (F5)"))
        finally:
            self._associated.set()

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    async def demo(cls, *, store_path: str | Path | None = None, speed: float = 1.0,
                   script: str | None = DEMO_SCRIPT, traffic: bool = False, tickets: str = "missed",
                   settings: EngineSettings | None = None) -> Engine:
        """The built-in demo: DemoHelpdesk + PbxSimulator on loopback, the demo template, a call script.

        The script starts once the engine is subscribed to the simulator; with *traffic* random calls
        follow it.  :meth:`stop` stops both servers; ``engine.demo_done`` is set when the script ended.
        """
        from engine.demo.helpdesk import DemoHelpdesk, DemoOptions
        from engine.http import HttpSettings

        helpdesk = DemoHelpdesk(DemoOptions())
        helpdesk.start()
        from engine.pbx.simulator import PbxSimulator

        simulator = PbxSimulator(speed=speed)
        await simulator.start()
        tmp = None
        if store_path is None:
            tmp = tempfile.TemporaryDirectory(prefix="deskline-demo-")
            store_path = Path(tmp.name) / "demo.sqlite3"
        template = load_template(DEMO_TEMPLATE)
        values = {"base_url": helpdesk.base_url, "api_token": helpdesk.options.api_token}
        integration = Integration(template, values, IntegrationSettings(http=HttpSettings(trust_env=False)))
        source = pbx.OpenApiSource(simulator.base_url, simulator.client_id, simulator.client_secret,
                                   backoff_initial=0.2, backoff_max=2.0)
        settings = settings or EngineSettings(extension_emails=DEMO_EXTENSION_EMAILS, tickets=tickets,
                                              outbox=BackoffPolicy(base_delay=1.0, max_delay=5.0))
        engine = cls(integration, source, Store(store_path), settings=settings)
        engine.demo_helpdesk, engine.demo_pbx = helpdesk, simulator

        async def play() -> None:
            await simulator.wait_subscribed(timeout=15.0)
            if script:
                await simulator.run_script(script, speed=speed, source="<demo script>")
            engine.demo_done.set()
            if traffic and speed > 0:       # at speed 0 random traffic would never yield the loop
                await simulator.demo_traffic()

        async def close() -> None:
            await simulator.stop()
            await asyncio.to_thread(helpdesk.stop)
            if tmp is not None:
                tmp.cleanup()

        engine._cleanup.append(close)
        engine._demo_play = play
        return engine

    async def start_demo(self) -> None:
        """Start the engine and play the demo script (for engines made by :meth:`demo`)."""
        await self.start()
        if self._demo_play is not None:
            self._spawn(self._demo_play(), "demo calls")

    @classmethod
    def from_config(cls, config) -> Engine:
        """Build the engine from an :class:`engine.config.Config` (raises LocatedError when incomplete)."""
        if not config.helpdesk.template:
            raise LocatedError("no helpdesk template is configured", Location(str(config.file or ""), 0, 0,
                                                                               "helpdesk.template"))
        template_ref = Path(config.helpdesk.template).expanduser()
        if template_ref.exists():
            template = load_template(template_ref)
        else:
            from engine.template.store import TemplateStore
            template = TemplateStore().load(config.helpdesk.template)
        values: dict[str, str] = {f.name: f.value or "" for f in template.custom_fields}
        values.update(config.field_values())  # relative to the config file; credentials must be chmod 600
        integration = Integration(template, values, config.integration_settings(template))
        mode = config.pbx.mode
        if mode == "replay":
            source: pbx.PbxEventSource = pbx.ReplaySource(config.pbx.replay_file)
        elif mode == "openapi":
            source = config.open_api_source()
        else:
            raise LocatedError(f"pbx.mode {mode!r} needs 'deskline demo'", Location(field="pbx.mode"))
        settings = EngineSettings(
            popup_extensions=tuple(config.ui.popup_extensions or ()),
            outbox=config.backoff_policy())
        config.store_path.parent.mkdir(parents=True, exist_ok=True)
        return cls(integration, source, Store(config.store_path), settings=settings)


def replace_call(old: CallInfo, new: CallInfo) -> CallInfo:
    """The call as the CDR describes it, keeping the ring-time caller name and extension when unknown."""
    return replace(new, caller_display_name=new.caller_display_name or old.caller_display_name,
                   extension=new.extension or old.extension, call_id=new.call_id or old.call_id)
