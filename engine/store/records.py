"""Plain dataclasses for what the store keeps: calls, outbox items, attempts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# Fields of CallRecord that map 1:1 to columns of ``calls``.
CALL_COLUMNS = (
    "call_id", "direction", "caller_number", "callee_number", "caller_name", "extension",
    "started_at", "answered_at", "ended_at", "ring_seconds", "talk_seconds", "status",
    "contact_id", "contact_name", "contact_type", "popup_url",
)


@dataclass(slots=True)
class CallRecord:
    """One call as the history shows it.

    Only ``call_id`` is required.  A field left at ``None`` is "not known by
    this event": :meth:`Store.record_call` keeps what an earlier event stored,
    so ring, answer and CDR events can each record what they know.
    """

    call_id: str
    direction: str | None = None  # Inbound | Outbound | Internal
    caller_number: str | None = None
    callee_number: str | None = None
    caller_name: str | None = None
    extension: str | None = None
    started_at: float | None = None  # Unix seconds
    answered_at: float | None = None
    ended_at: float | None = None
    ring_seconds: int | None = None
    talk_seconds: int | None = None
    status: str | None = None  # Answered | No Answer | Busy | Voicemail | Failed
    contact_id: str | None = None
    contact_name: str | None = None
    contact_type: str | None = None
    popup_url: str | None = None
    updated_at: float | None = None  # set by the store

    @property
    def external_number(self) -> str:
        """The other party's number: the callee on outbound calls, else the caller."""
        if self.direction == "Outbound":
            return self.callee_number or ""
        return self.caller_number or ""

    @property
    def missed(self) -> bool:
        return self.direction == "Inbound" and self.status not in (None, "", "Answered")

    @classmethod
    def from_pbx(cls, call) -> CallRecord:
        """What an :class:`engine.pbx.calls.Call` snapshot tells (times as Unix seconds).

        The status is left unknown while the call is going on; the extension
        is the one that answered (the last, after transfers), else the
        first that rang, else the caller's on an outbound call.
        """
        def ts(when) -> float | None:
            return None if when is None else when.timestamp()

        direction = {"inbound": "Inbound", "outbound": "Outbound", "internal": "Internal"}.get(
            call.direction.lower(), call.direction)
        status = None
        if call.failure:
            status = "Failed"
        elif call.answered_by:
            status = "Answered" if call.ended_at is not None else None
        elif call.ended_at is not None:
            status = "No Answer"
        extension = (call.answered_by[-1] if call.answered_by else call.rang[0] if call.rang
                     else call.caller if direction == "Outbound" else None)
        ring = talk = None
        if call.started_at is not None and call.ended_at is not None:
            if call.answered_at is not None:
                ring = round((call.answered_at - call.started_at).total_seconds())
                talk = round((call.ended_at - call.answered_at).total_seconds())
            else:
                ring, talk = round((call.ended_at - call.started_at).total_seconds()), 0
        return cls(call.call_id, direction=direction, caller_number=call.caller or None,
                   callee_number=call.callee or None, extension=extension, started_at=ts(call.started_at),
                   answered_at=ts(call.answered_at), ended_at=ts(call.ended_at), ring_seconds=ring,
                   talk_seconds=talk, status=status)

    @classmethod
    def matched(cls, call_id: str, match) -> CallRecord:
        """The contact a call was matched to (an :class:`engine.flows.ContactMatch`)."""
        return cls(call_id, contact_id=match.id, contact_name=match.display_name, contact_type=match.contact_type,
                   popup_url=match.popup_url)

    def known(self) -> dict[str, object]:
        """The columns this record sets (``None`` means "unknown", not "empty")."""
        return {name: getattr(self, name) for name in CALL_COLUMNS if getattr(self, name) is not None}


def number_digits(*numbers: str | None) -> str:
    """Digits of each number, space separated (what a number search matches)."""
    return " ".join(re.sub(r"\D", "", n) for n in numbers if n)


class ItemState(StrEnum):
    """Where an outbox item is in its life (see :mod:`engine.outbox`)."""

    PENDING = "pending"  # waiting for its first attempt
    IN_FLIGHT = "in_flight"  # an attempt is running (or was, when the process died)
    FAILED = "failed"  # the last attempt failed; retried at ``next_attempt_at``
    DONE = "done"  # written to the helpdesk (or marked done by the operator)
    DEAD = "dead"  # gave up (max attempts, or an error retrying cannot fix)
    ATTENTION = "attention"  # outcome unknown and repeating is unsafe: the operator decides
    DROPPED = "dropped"  # the operator chose not to write it


# States the runner picks items from.
RUNNABLE = (ItemState.PENDING, ItemState.FAILED)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One "scenario X for call Y" job of the durable outbox."""

    id: int
    key: str
    call_id: str
    scenario: str
    request: str
    payload: dict[str, object]
    resend_safe: bool
    state: ItemState
    attempts: int
    max_attempts: int
    next_attempt_at: float
    last_error: str
    outputs: dict[str, str]
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of an outbox item: when, how it ended, and the trace that shows it."""

    id: int
    item_id: int
    number: int
    started_at: float
    finished_at: float | None
    result: str  # done | failed | dead | unknown | resolved:<action>
    http_status: int | None = None
    error: str = ""
    trace_id: str = ""


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """What :meth:`Store.history` returns.

    ``text`` matches a number (by its digits, so ``+49 30 1234`` finds
    ``0049301234``) or a contact (name or id, case-insensitive).
    """

    text: str = ""
    direction: str | None = None
    status: str | None = None
    extension: str | None = None
    contact_id: str | None = None
    since: float | None = None
    until: float | None = None
    missed: bool = False


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """How many items are in each state (for the status bar)."""

    pending: int = 0
    in_flight: int = 0
    failed: int = 0
    done: int = 0
    dead: int = 0
    attention: int = 0
    dropped: int = 0

    @property
    def waiting(self) -> int:
        """Items still to be written (pending, running or retrying)."""
        return self.pending + self.in_flight + self.failed

    @property
    def needs_operator(self) -> int:
        return self.dead + self.attention


def call_from_row(row) -> CallRecord:
    return CallRecord(**{name: row[name] for name in (*CALL_COLUMNS, "updated_at")})


