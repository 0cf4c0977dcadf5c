"""Which variables a template may use where (spec A.3), and sample values for checks.

Names are canonical first; aliases are accepted wherever their canonical name is.
"""

from __future__ import annotations

from engine.template.model import (
    AUTH, CALL_JOURNAL, COMMON, CONTACT_FIELDS, CONTACT_MATCH, CONTACT_SEARCH, CREATE_CONTACT, CREATE_TICKET,
    USER_ASSOCIATION,
)

EVERYWHERE = ("redirect_uri",)
ALIASES = {"Phone": "CallerNumber", "CallerNumber": "Phone", "ContactsId": "ContactId", "ContactId": "ContactsId",
           "Call_Status": "Call_Log_Status", "Call_Log_Status": "Call_Status"}

CONTACT_SEARCH_INPUTS = ("Phone", "CallerNumber", "SearchValue", "ContactSyncType")
POPUP_INPUTS = (*CONTACT_FIELDS, "ContactSyncType", "CallerNumber", "CallerDisplayName")
PAGINATION_INPUTS = ("Page", "PageSize", "Offset", "Limit", "Cursor")
CREATE_CONTACT_INPUTS = ("FirstName", "LastName", "BusinessNumber", "DisplayName", "ContactSyncType")
CALL_INPUTS = ("Owner", "WhoModule", "ContactId", "TicketId", "Subject", "Description", "RecordPath", "StartTimeUnix",
               "Time", "Call_From", "Call_To", "CallerNumber", "CalleeNumber", "Communication_Type", "Call_Status",
               "Call_Log_Status", "Talk_Duration", "Talk_Duration_Sec", "Ring_Duration_Sec", "Extension")
TICKET_INPUTS = (*CALL_INPUTS, "ContactNumber")

SCENARIO_INPUTS: dict[str, tuple[str, ...]] = {
    AUTH: (),
    CONTACT_MATCH: CONTACT_SEARCH_INPUTS,
    CONTACT_SEARCH: CONTACT_SEARCH_INPUTS,
    USER_ASSOCIATION: PAGINATION_INPUTS,
    CREATE_CONTACT: CREATE_CONTACT_INPUTS,
    CALL_JOURNAL: CALL_INPUTS,
    CREATE_TICKET: TICKET_INPUTS,
    COMMON: (),
}

# Sample values used to render templates for the URL / JSON / path checks: numbers where a body would
# put them unquoted, plain words elsewhere (no quotes or slashes, so a JSON string stays valid).
SAMPLES = {
    "StartTimeUnix": "1672531199", "Talk_Duration_Sec": "75", "Ring_Duration_Sec": "12", "Page": "1",
    "PageSize": "50", "Offset": "0", "Limit": "50", "Cursor": "c1", "Phone": "4930123456",
    "CallerNumber": "4930123456", "CalleeNumber": "1001", "Call_From": "4930123456", "Call_To": "1001",
    "Extension": "1001", "Time": "2026-11-25 10:00:00", "Talk_Duration": "0:01:15",
    "Communication_Type": "Inbound", "Call_Status": "Answered", "Call_Log_Status": "Answered",
    "ContactId": "1", "ContactsId": "1", "TicketId": "2", "Owner": "3", "UserUniqueId": "3",
    "redirect_uri": "http://127.0.0.1:8765/callback", "RecordPath": "recording.wav",
}


def with_aliases(names) -> set[str]:
    out = set(names)
    for n in list(out):
        if n in ALIASES:
            out.add(ALIASES[n])
    return out


def sample_value(name: str) -> str:
    """A harmless sample value for variable *name*."""
    if name in SAMPLES:
        return SAMPLES[name]
    if name.endswith(("Id", "_id", "ID")):
        return "1"
    return "sample"


def sample_data(names) -> dict[str, str]:
    return {n: sample_value(n) for n in names}

