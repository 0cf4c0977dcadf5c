"""The per-call state machine: PBX events in, call facts out.

:class:`CallTracker` keeps one :class:`Call` per ``call_id`` and turns the PBX's member
snapshots (30011/30014/30015) and CDRs (30012) into facts the console acts on:

* :class:`CallRinging` when extensions start ringing (once per newly ringing extension set:
  parallel queue members in one fact, a transfer target in a later one),
* :class:`CallAnswered` when an extension answers (again for a transfer target),
* :class:`CallMissed` then :class:`CallEnded` when the call is over,
* :class:`CallCompleted` once per call, when its CDR arrives or, without a CDR, after
  ``cdr_timeout`` seconds (``cdr_missing=True``); a CDR arriving after that gives :class:`LateCdr`.

Duplicated, out-of-order and late events are tolerated: a member's status never goes back
(``ANSWER`` then a late ``RING`` stays answered), frames for a finished call are ignored,
a CDR that comes before the last ``BYE`` ends the call, a CDR for a call never seen completes it.
Memory is bounded: finished calls are evicted ``keep_ended`` seconds after completion, the ids of
completed calls are remembered (``max_completed_ids``) so a duplicate CDR never completes a call twice.
Time comes from the injected ``clock``; call :meth:`CallTracker.expire` now and then.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from engine.pbx.events import (
    ALERT, ANSWER, ANSWERED, BYE, HOLD, RING,
    CallEvent, CallFailed, CallForwarded, CallMember, CallStatusChanged, NewCdr,
)

Clock = Callable[[], datetime]

# how far a member's status has progressed; a status never moves back
_RANK = {ALERT: 1, RING: 1, ANSWER: 2, ANSWERED: 2, HOLD: 2, BYE: 3}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class Call:
    """What deskline knows about one call (a snapshot; the tracker replaces it on each change)."""

    call_id: str
    direction: str = "internal"        # inbound | outbound | internal
    caller: str = ""                   # number of the calling party
    callee: str = ""                   # number dialled (DID, extension or external number)
    trunk: str = ""
    via: str = ""                      # call_path: queue / ring group / IVR the call went through
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    rang: tuple[str, ...] = ()         # every extension that rang, in order
    answered_by: tuple[str, ...] = ()  # every extension that answered (transfers add more)
    failure: str = ""                  # reason of a 30015 Call Failed

    @property
    def answered(self) -> bool:
        return bool(self.answered_by)

    @property
    def ended(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True, slots=True)
class CallFact:
    call_id: str


@dataclass(frozen=True, slots=True)
class CallRinging(CallFact):
    """Extensions started ringing; ``extensions`` are the ones new in this event."""

    direction: str
    caller: str
    callee: str
    extensions: tuple[str, ...]
    via: str = ""
    trunk: str = ""
    started_at: datetime | None = None
    first: bool = True                 # the first ringing of this call (False: transfer, next queue member)
    # for an outbound call ``extensions`` is the calling extension (whose console shows the card)


@dataclass(frozen=True, slots=True)
class CallAnswered(CallFact):
    extension: str
    answered_at: datetime | None = None
    stopped_ringing: tuple[str, ...] = ()   # extensions that rang and can close their card


@dataclass(frozen=True, slots=True)
class CallMissed(CallFact):
    """An inbound or internal call ended without any extension answering."""

    call: Call


@dataclass(frozen=True, slots=True)
class CallEnded(CallFact):
    call: Call
    duration: float = 0.0              # seconds from first event to end (PBX CDR has the exact figure)


@dataclass(frozen=True, slots=True)
class CallCompleted(CallFact):
    """The call is final: journal and ticket can be written (exactly once per call_id)."""

    call: Call
    cdr: NewCdr | None = None
    cdr_missing: bool = False


@dataclass(frozen=True, slots=True)
class LateCdr(CallFact):
    """A CDR arrived after the call was completed without one."""

    call: Call
    cdr: NewCdr


@dataclass(slots=True)
class _State:
    call: Call
    members: dict[str, CallMember] = field(default_factory=dict)
    ringing: set[str] = field(default_factory=set)
    talking: set[str] = field(default_factory=set)
    caller_key: str = ""
    last_seen: datetime | None = None
    completed_at: datetime | None = None
    cdr_missing: bool = False
    dialling_announced: bool = False


class CallTracker:
    """Feed PBX events with :meth:`feed`; call :meth:`expire` periodically (e.g. every second)."""

    def __init__(self, *, clock: Clock = utc_now, cdr_timeout: float = 60.0, keep_ended: float = 600.0,
                 max_call_age: float = 12 * 3600.0, max_calls: int = 5000,
                 max_completed_ids: int = 20000) -> None:
        self.clock = clock
        self.cdr_timeout = cdr_timeout
        self.keep_ended = keep_ended
        self.max_call_age = max_call_age
        self.max_calls = max_calls
        self._calls: OrderedDict[str, _State] = OrderedDict()
        self._completed: OrderedDict[str, bool] = OrderedDict()   # call_id -> completed without CDR
        self._max_completed = max_completed_ids

    # -- queries -----------------------------------------------------------------------------
    def get(self, call_id: str) -> Call | None:
        state = self._calls.get(call_id)
        return state.call if state else None

    @property
    def active(self) -> list[Call]:
        """Calls not ended yet, oldest first."""
        return [s.call for s in self._calls.values() if not s.call.ended]

    def __len__(self) -> int:
        return len(self._calls)

    # -- input -------------------------------------------------------------------------------
    def feed(self, event: CallEvent) -> list[CallFact]:
        """Apply one event; return the facts it produced (often none)."""
        if isinstance(event, NewCdr):
            return self._on_cdr(event)
        if isinstance(event, (CallStatusChanged, CallForwarded, CallFailed)):
            return self._on_members(event)
        return []

    def expire(self) -> list[CallFact]:
        """Complete calls whose CDR is overdue, end stale calls, evict old finished calls."""
        now = self.clock()
        facts: list[CallFact] = []
        for call_id, state in list(self._calls.items()):
            call = state.call
            if not call.ended and state.last_seen and _seconds(now, state.last_seen) > self.max_call_age:
                facts += self._end(state, now)
            if call.ended and state.completed_at is None and _seconds(now, call.ended_at) >= self.cdr_timeout:
                facts += self._complete(state, None, now)
            if state.completed_at is not None and _seconds(now, state.completed_at) >= self.keep_ended:
                del self._calls[call_id]
        return facts

    # -- internals ---------------------------------------------------------------------------
    def _on_members(self, event: CallStatusChanged | CallForwarded | CallFailed) -> list[CallFact]:
        now = self.clock()
        call_id = event.call_id
        if call_id in self._completed:
            return []
        state = self._calls.get(call_id)
        if state is None:
            state = _State(Call(call_id, started_at=now))
            self._calls[call_id] = state
            self._bound()
        if state.call.ended:
            return []
        state.last_seen = now
        for member in event.members:
            old = state.members.get(member.key)
            if old is not None and _RANK.get(member.status, 0) < _RANK.get(old.status, 0):
                continue  # late or duplicated: a status never goes back
            if old is not None:
                member = replace(member, call_path=member.call_path or old.call_path)
            state.members[member.key] = member
            if not state.caller_key and member.status == ALERT:
                state.caller_key = member.key
        if isinstance(event, CallFailed) and event.reason:
            state.call = replace(state.call, failure=event.reason)
        state.call = self._describe(state)

        facts: list[CallFact] = []
        was_ringing = set(state.ringing)
        newly_ringing = []
        answered = []
        for key, m in state.members.items():
            if m.kind != "extension" or key == state.caller_key:
                continue
            if m.status == RING and key not in state.ringing and key not in state.talking:
                state.ringing.add(key)
                newly_ringing.append(m.number)
            elif m.status in (ANSWER, ANSWERED) and key not in state.talking:
                state.talking.add(key)
                state.ringing.discard(key)
                answered.append(m.number)
            elif m.status == BYE:
                state.ringing.discard(key)
        call = state.call
        if newly_ringing:
            first = not call.rang
            call = replace(call, rang=call.rang + tuple(n for n in newly_ringing if n not in call.rang))
            facts.append(CallRinging(call_id, call.direction, call.caller, call.callee, tuple(newly_ringing),
                                     call.via, call.trunk, call.started_at, first))
        stopped = tuple(sorted(state.members[k].number for k in was_ringing - state.ringing - state.talking))
        for number in answered:
            if number not in call.answered_by:
                call = replace(call, answered_by=call.answered_by + (number,),
                               answered_at=call.answered_at or now)
                facts.append(CallAnswered(call_id, number, now, stopped))
        far_end = next((m for m in state.members.values() if m.kind == "outbound"), None)
        if far_end is not None and not state.dialling_announced and call.direction == "outbound":
            # an outbound call: the calling extension's console shows the dialled party's card
            state.dialling_announced = True
            extension = call.caller or far_end.from_number
            facts.append(CallRinging(call_id, call.direction, call.caller, call.callee, (extension,),
                                     call.via, call.trunk, call.started_at, True))
        if far_end is not None and far_end.status in (ANSWER, ANSWERED) and not call.answered_by:
            extension = call.caller or far_end.from_number
            call = replace(call, answered_by=(extension,), answered_at=call.answered_at or now)
            facts.append(CallAnswered(call_id, extension, now))
        state.call = call
        if self._is_over(state, event):
            facts += self._end(state, now)
        return facts

    def _describe(self, state: _State) -> Call:
        call = state.call
        members = list(state.members.values())
        inbound = next((m for m in members if m.kind == "inbound"), None)
        outbound = next((m for m in members if m.kind == "outbound"), None)
        extensions = [m for m in members if m.kind == "extension"]
        via = call.via or next((m.call_path for m in [*(x for x in [inbound] if x), *extensions]
                                if m.call_path), "")
        if inbound is not None:
            return replace(call, direction="inbound", caller=inbound.from_number or call.caller,
                           callee=inbound.to_number or call.callee, trunk=inbound.trunk or call.trunk, via=via)
        if outbound is not None:
            caller = outbound.from_number or next((m.number for m in extensions if m.key == state.caller_key), "")
            return replace(call, direction="outbound", caller=caller or call.caller,
                           callee=outbound.to_number or call.callee, trunk=outbound.trunk or call.trunk, via=via)
        caller = state.members[state.caller_key].number if state.caller_key else call.caller
        callee = call.callee or next((m.number for m in extensions if m.key != state.caller_key), "")
        return replace(call, direction="internal", caller=caller, callee=callee, via=via)

    def _is_over(self, state: _State, event: CallEvent) -> bool:
        if isinstance(event, CallFailed):
            return True
        members = state.members
        if not members:
            return False
        if all(m.status == BYE for m in members.values()):
            return True
        if any(m.status in (ANSWER, ANSWERED, HOLD) for m in members.values()):
            return False
        # nobody talks: the call is over when the caller or every trunk party hung up;
        # extensions still listed as ringing (the other queue members) stop with it
        caller = members.get(state.caller_key)
        if caller is not None and caller.status == BYE:
            return True
        trunk_parties = [m for m in members.values() if m.kind in ("inbound", "outbound")]
        return bool(trunk_parties) and all(m.status == BYE for m in trunk_parties)

    def _end(self, state: _State, now: datetime) -> list[CallFact]:
        call = replace(state.call, ended_at=now)
        state.call = call
        state.ringing.clear()
        facts: list[CallFact] = []
        if not call.answered and call.direction in ("inbound", "internal"):
            facts.append(CallMissed(call.call_id, call))
        duration = _seconds(now, call.started_at) if call.started_at else 0.0
        facts.append(CallEnded(call.call_id, call, duration))
        return facts

    def _on_cdr(self, cdr: NewCdr) -> list[CallFact]:
        now = self.clock()
        call_id = cdr.call_id
        if call_id in self._completed:
            if self._completed[call_id]:            # completed without a CDR: hand it over once
                self._completed[call_id] = False
                state = self._calls.get(call_id)
                call = state.call if state else _call_from_cdr(cdr, now)
                return [LateCdr(call_id, call, cdr)]
            return []                               # duplicate CDR
        state = self._calls.get(call_id)
        facts: list[CallFact] = []
        if state is None:
            state = _State(_call_from_cdr(cdr, now), last_seen=now)
            state.call = replace(state.call, ended_at=now)
            self._calls[call_id] = state
            self._bound()
        else:
            state.call = _merge_cdr(state.call, cdr)
            if not state.call.ended:                # CDR before the last BYE: the call is over
                facts += self._end(state, now)
        return facts + self._complete(state, cdr, now)

    def _complete(self, state: _State, cdr: NewCdr | None, now: datetime) -> list[CallFact]:
        state.completed_at = now
        state.cdr_missing = cdr is None
        self._completed[state.call.call_id] = cdr is None
        while len(self._completed) > self._max_completed:
            self._completed.popitem(last=False)
        return [CallCompleted(state.call.call_id, state.call, cdr, cdr is None)]

    def _bound(self) -> None:
        """Keep at most ``max_calls``: drop the oldest completed calls first, then the oldest."""
        excess = len(self._calls) - self.max_calls
        if excess <= 0:
            return
        for call_id in [k for k, s in self._calls.items() if s.completed_at is not None][:excess]:
            del self._calls[call_id]
            excess -= 1
        while excess > 0:
            self._calls.popitem(last=False)
            excess -= 1


def _seconds(later: datetime, earlier: datetime | None) -> float:
    return (later - earlier).total_seconds() if earlier else 0.0


def _call_from_cdr(cdr: NewCdr, now: datetime) -> Call:
    direction = cdr.call_type if cdr.call_type in ("inbound", "outbound", "internal") else "internal"
    return Call(cdr.call_id, direction=direction, caller=cdr.call_from, callee=cdr.call_to,
                trunk=cdr.src_trunk_name or cdr.dst_trunk_name, started_at=cdr.time_start or now)


def _merge_cdr(call: Call, cdr: NewCdr) -> Call:
    """Fill what the live events did not say from the CDR (never overwrite what they said)."""
    direction = call.direction
    if cdr.call_type in ("inbound", "outbound") and direction == "internal" and not call.trunk:
        direction = cdr.call_type
    return replace(call, direction=direction, caller=call.caller or cdr.call_from,
                   callee=call.callee or cdr.call_to, trunk=call.trunk or cdr.src_trunk_name or cdr.dst_trunk_name)
