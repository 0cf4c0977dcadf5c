"""A fake Engine for hermetic console tests: canned facts, no network, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from engine.auth import TokenHealth
from engine.console import (
    CallAnswered,
    CallEnded,
    CallRang,
    ConnectionChanged,
    ContactCard,
    ContactResolved,
    JournalFailed,
    JournalQueued,
    JournalWritten,
    SetupInfo,
    TokenHealthChanged,
    TraceRecorded,
)
from engine.errors import LocatedError, Location
from engine.flows import ContactMatch
from engine.http import MappingNote, Trace
from engine.store import CallRecord, ItemState, WorkItem

FIXED_NOW = datetime(2026, 11, 25, 9, 30, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8790"


def fixed_clock() -> datetime:
    return FIXED_NOW


def alice() -> ContactMatch:
    return ContactMatch("Contacts", {"ContactId": "c1", "FirstName": "Alice", "LastName": "Anders",
                                     "Company": "Acme", "Email": "alice@acme.example",
                                     "BusinessNumber": "+15550100", "MobileNumber": "+15550101"},
                        f"{BASE}/api/v1/contacts/c1")


def globex() -> tuple[ContactMatch, ContactMatch]:
    return (ContactMatch("Contacts", {"ContactId": "c4", "FirstName": "Dan", "LastName": "Diaz", "Company": "Globex",
                                      "BusinessNumber": "+15557000"}, f"{BASE}/api/v1/contacts/c4"),
            ContactMatch("Contacts", {"ContactId": "c5", "FirstName": "Erin", "LastName": "Evans",
                                      "Company": "Globex", "BusinessNumber": "+15557000"},
                         f"{BASE}/api/v1/contacts/c5"))


def search_trace() -> Trace:
    return Trace("SyncContactAuto", "Contacts", "GET", f"{BASE}/api/v1/contacts?phone=%2B15550100",
                 request_headers=[("Authorization", "Token ***"), ("Accept", "application/json")],
                 status=200, reason="OK", response_body='{"data":[{"id":"c1","first_name":"Alice"}]}',
                 elapsed_ms=12.0, mapping=[MappingNote("ContactId", "data.#.id", 1),
                                           MappingNote("HomeFaxNumber", "data.#.home_fax", 0)])


def journal_trace(status=503) -> Trace:
    return Trace("CallJournal", "Journal", "POST", f"{BASE}/api/v1/contacts/c4/journal",
                 request_headers=[("Authorization", "Token ***")], request_body='{"subject":"Inbound call"}',
                 status=status, reason="Service Unavailable", elapsed_ms=8.0)


def the_day() -> list:
    """Three calls: Alice answered, the Globex switchboard missed in a queue, an unknown caller ringing."""
    g = globex()
    return [
        ConnectionChanged("subscribed", "topics 30011, 30012"),
        TokenHealthChanged(TokenHealth("static")),
        CallRang("call-1", "Inbound", "+15550100", ("1001",)),
        TraceRecorded(search_trace()),
        ContactResolved("call-1", ContactCard("+15550100", (alice(),), 0, "as_received", "+15550100")),
        CallAnswered("call-1", "1001"),
        CallEnded("call-1", False, 42.0),
        JournalQueued("call-1", "CallJournal", 1),
        JournalWritten("call-1", "CallJournal", 1),
        CallRang("call-2", "Inbound", "+15557000", ("1002", "1003"), via="6400"),
        ContactResolved("call-2", ContactCard("+15557000", g, 0, "as_received", "+15557000")),
        CallEnded("call-2", True, 9.0),
        JournalQueued("call-2", "CallJournal", 2),
        TraceRecorded(journal_trace()),
        JournalFailed("call-2", "CallJournal", 2, "failed", "HTTP 503; next attempt in 10 s"),
        CallRang("call-3", "Inbound", "+15559999", ("1004",)),
        ContactResolved("call-3", ContactCard("+15559999")),
    ]


class FakeEngine:
    """The surface of :class:`engine.console.Engine` the console uses, with canned answers."""

    def __init__(self, facts: list | None = None, *, oauth2: bool = False) -> None:
        self.initial = the_day() if facts is None else facts
        self.listeners = []
        self.cards: dict[str, ContactCard] = {}
        self.connection = ConnectionChanged("idle")
        self.token_health = None
        self.traces: list = []
        self.started = self.stopped = False
        self.uses_oauth2 = oauth2
        self.retried: list[int] = []
        self.created: list = []
        self.searches: list[str] = []
        self.associated: list[dict] = []
        self.items = [
            WorkItem(1, "k1", "call-1", "CallJournal", "", {}, False, ItemState.DONE, 1, 8, 0.0, "", {}, 0.0, 0.0),
            WorkItem(2, "k2", "call-2", "CallJournal", "", {}, False, ItemState.FAILED, 1, 8, 0.0,
                     "HTTP 503 Service Unavailable", {}, 0.0, 0.0),
        ]

    def subscribe(self, listener):
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def publish(self, fact) -> None:
        if isinstance(fact, ContactResolved):
            self.cards[fact.call_id] = fact.card
        if isinstance(fact, ConnectionChanged):
            self.connection = fact
        if isinstance(fact, TokenHealthChanged):
            self.token_health = fact.health
        if isinstance(fact, TraceRecorded):
            self.traces.append(fact.trace)
        for listener in list(self.listeners):
            listener(fact)

    async def start(self) -> None:
        self.started = True
        for fact in self.initial:
            self.publish(fact)

    async def stop(self) -> None:
        self.stopped = True

    def choose_contact(self, call_id: str, index: int) -> ContactCard:
        card = self.cards[call_id].choose(index)
        self.publish(ContactResolved(call_id, card))
        return card

    async def search(self, text: str) -> ContactCard:
        self.searches.append(text)
        return ContactCard(text, globex(), 0)

    async def create_contact(self, call_id: str, *, first_name: str = "", last_name: str = "",
                             contact_type: str = "") -> ContactCard:
        self.created.append((call_id, first_name, last_name))
        if first_name == "fail":
            raise LocatedError("CreateNewContact: request 'Contacts' failed with HTTP 422",
                               Location("demo.xml", 114, 5, "CreateNewContact"))
        match = ContactMatch("Contacts", {"ContactId": "c9", "FirstName": first_name, "LastName": last_name})
        card = replace(self.cards.get(call_id) or ContactCard(""), matches=(match,), chosen=0, created=True)
        self.cards[call_id] = card
        return card

    async def history(self, limit: int = 100, text: str = "") -> list[CallRecord]:
        t = FIXED_NOW.timestamp()
        return [CallRecord("call-2", "Inbound", "+15557000", "6400", extension="1002", started_at=t - 60,
                           status="No Answer", contact_name="Dan Diaz"),
                CallRecord("call-1", "Inbound", "+15550100", "1001", extension="1001", started_at=t - 300,
                           status="Answered", contact_name="Alice Anders")]

    async def outbox_items(self, states=None):
        return list(self.items)

    async def retry(self, item_id: int) -> WorkItem:
        self.retried.append(item_id)
        item = next(i for i in self.items if i.id == item_id)
        return replace(item, state=ItemState.PENDING)

    def setup_info(self) -> SetupInfo:
        auth = "oauth2" if self.uses_oauth2 else "none"
        return SetupInfo("Demo Helpdesk", auth, (("base_url", BASE), ("api_token", "********")),
                         (("Redirect URI (callback URL)", "http://127.0.0.1:8765/callback"),) if self.uses_oauth2
                         else (), TokenHealth("static"), True,
                         (("1001", "a1", "Ada Lovelace"), ("1002", "a2", "Grace Hopper")))

    async def associate_users(self, manual=None) -> list[str]:
        self.associated.append(dict(manual or {}))
        return [f"{ext} -> {user} (manual)" for ext, user in (manual or {}).items()]

    def authorization_url(self) -> str:
        return f"{BASE}/oauth/authorize?client_id=x&state=s"

    async def authorize_via_loopback(self, show_url, timeout: float = 300.0) -> TokenHealth:
        show_url(self.authorization_url())
        return TokenHealth("connected", expires_in=3600)

    async def complete_authorization(self, pasted: str) -> TokenHealth:
        return TokenHealth("connected", expires_in=3600)
