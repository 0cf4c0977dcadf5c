"""A call and the variables in scope for every scenario of that call.

Outputs of one scenario stay in scope for the rest of the call: the
``ContactId`` of the contact search (or of the contact just created) and the
``TicketId`` of the ticket reach the call journal and the ticket update.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from engine.flows.contact_search import ContactMatch

DIRECTIONS = ("Inbound", "Outbound", "Internal")
CALL_STATUSES = ("Answered", "No Answer", "Busy", "Voicemail", "Failed")


@dataclass(slots=True)
class CallInfo:
    """What the PBX tells about a call (CDR fields; outcome fields are empty while it rings)."""

    caller_number: str
    callee_number: str = ""
    direction: str = "Inbound"
    caller_display_name: str = ""
    extension: str = ""
    call_id: str = ""
    status: str = ""
    start_time: float | None = None
    talk_seconds: int = 0
    ring_seconds: int = 0
    record_path: str = ""

    @property
    def external_number(self) -> str:
        """The other party's number: the caller on inbound calls, the callee on outbound ones."""
        return self.callee_number if self.direction == "Outbound" else self.caller_number


def talk_duration(seconds: int) -> str:
    """``h:mm:ss`` as the PBX writes ``Talk_Duration``."""
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def call_variables(call: CallInfo, *, tz: dt.tzinfo | None = None, at_ring: bool = False) -> dict[str, str]:
    """The call variables of spec A.3 (journal and ticket); outcome fields empty at ring time."""
    start = "" if call.start_time is None else str(int(call.start_time))
    when = ""
    if call.start_time is not None:
        when = dt.datetime.fromtimestamp(call.start_time, tz or dt.datetime.now().astimezone().tzinfo)
        when = when.strftime("%Y-%m-%d %H:%M:%S")
    status = "" if at_ring else call.status
    talk = "" if at_ring else call.talk_seconds
    out = {
        "CallerNumber": call.caller_number,
        "CalleeNumber": call.callee_number,
        "CallerDisplayName": call.caller_display_name,
        "Call_From": call.caller_number,
        "Call_To": call.callee_number,
        "Communication_Type": call.direction,
        "Call_Status": status,
        "Call_Log_Status": status,
        "StartTimeUnix": start,
        "Time": when,
        "Talk_Duration": "" if at_ring else talk_duration(call.talk_seconds),
        "Talk_Duration_Sec": "" if at_ring else str(talk),
        "Ring_Duration_Sec": "" if at_ring else str(call.ring_seconds),
        "Extension": call.extension,
        "RecordPath": "" if at_ring else call.record_path,
        "ContactNumber": call.external_number,
    }
    return out


@dataclass(slots=True)
class CallContext:
    """One call: its facts, the contact it matched and the outputs in scope across scenarios."""

    call: CallInfo
    variables: dict[str, str] = field(default_factory=dict)
    contact: ContactMatch | None = None
    owner: str = ""  # helpdesk user id associated with the extension

    def remember(self, outputs: dict[str, str]) -> None:
        """Keep non-empty outputs (``ContactId``, ``TicketId``, ...) for later scenarios."""
        for key, value in outputs.items():
            if value != "" and value is not None:
                self.variables[key] = value
        if "ContactId" in outputs and outputs["ContactId"]:
            self.variables["ContactsId"] = outputs["ContactId"]

    def scope(self, *, tz: dt.tzinfo | None = None, at_ring: bool = False) -> dict[str, str]:
        scope = call_variables(self.call, tz=tz, at_ring=at_ring)
        if self.owner:
            scope["Owner"] = self.owner
        if self.contact is not None:
            scope["WhoModule"] = self.contact.contact_type
            scope["ContactSyncType"] = self.contact.contact_type
            scope.update({k: v for k, v in self.contact.fields.items() if v})
        scope.update(self.variables)
        return scope
