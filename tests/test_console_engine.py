"""The console engine end to end: PbxSimulator -> Engine -> DemoHelpdesk, all on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from engine.console import (
    DEMO_EXTENSION_EMAILS,
    DEMO_TEMPLATE,
    CallEnded,
    CallRang,
    ContactCard,
    ContactResolved,
    Engine,
    EngineProblem,
    EngineSettings,
    JournalFailed,
    JournalQueued,
    JournalWritten,
    TraceRecorded,
    classify,
)
from engine.flows import ContactMatch, ScenarioError, ScenarioResult
from engine.http import Trace
from engine.outbox import BackoffPolicy
from engine.store import ItemState

FAST = BackoffPolicy(base_delay=0.05, max_delay=0.1, jitter=0.0)


class Facts(list):
    async def wait_for(self, kind, pred=lambda f: True, timeout: float = 10.0):
        async with asyncio.timeout(timeout):
            while True:
                for fact in self:
                    if isinstance(fact, kind) and pred(fact):
                        return fact
                await asyncio.sleep(0.01)

    def of(self, kind):
        return [f for f in self if isinstance(f, kind)]


@pytest.fixture
async def demo(tmp_path):
    settings = EngineSettings(extension_emails=DEMO_EXTENSION_EMAILS, tickets="none", outbox=FAST, outbox_poll=0.2)
    engine = await Engine.demo(store_path=tmp_path / "store.sqlite3", speed=0, script=None, settings=settings)
    facts = Facts()
    engine.subscribe(facts.append)
    frames: list[str] = []
    engine.source.frame_listeners.append(frames.append)
    await engine.start()
    await engine.demo_pbx.wait_subscribed()
    # user association runs at start; wait until it is done so cards pop for 1001..1005
    async with asyncio.timeout(10):
        while not engine.integration.associations:
            await asyncio.sleep(0.01)
    engine.test_facts, engine.test_frames = facts, frames
    yield engine
    await engine.stop()


async def test_a_ring_shows_the_callers_card(demo):
    pbx = demo.demo_pbx
    call_id = await pbx.ring("+15550100", "1001")
    rang = await demo.test_facts.wait_for(CallRang)
    assert (rang.call_id, rang.direction, rang.number, rang.extensions, rang.popup) == \
        (call_id, "Inbound", "+15550100", ("1001",), True)
    resolved = await demo.test_facts.wait_for(ContactResolved)
    card = resolved.card
    assert card.name == "Alice Anders" and card.company == "Acme" and card.email == "alice@acme.example"
    assert card.variant == "as_received" and card.variant_number == "+15550100"
    assert card.popup_url == f"{demo.demo_helpdesk.base_url}/api/v1/contacts/c1"
    assert ("business", "+15550100") in card.numbers and ("mobile", "+15550101") in card.numbers
    assert demo.calls[call_id].card == card
    traces = demo.test_facts.of(TraceRecorded)
    assert any(t.trace.scenario == "SyncContactAuto" and t.trace.status == 200 for t in traces)
    assert all("demo-api-token" not in t.trace.as_curl() for t in traces)


async def test_switchboard_number_offers_every_match_and_the_operator_picks(demo):
    call_id = await demo.demo_pbx.ring("+15557000", "1002")
    card = (await demo.test_facts.wait_for(ContactResolved)).card
    assert [m.fields["FirstName"] for m in card.matches] == ["Dan", "Erin"]
    assert card.name == "Dan Diaz"
    picked = demo.choose_contact(call_id, 1)
    assert picked.name == "Erin Evans" and demo.card(call_id).name == "Erin Evans"
    assert demo.calls[call_id].context.contact.fields["FirstName"] == "Erin"
    with pytest.raises(IndexError):
        demo.choose_contact(call_id, 5)


async def test_missed_queue_call_is_journaled_once_even_with_a_duplicate_cdr(demo):
    pbx = demo.demo_pbx
    await pbx.run_script("missed +15557000 -> 6400 (queue 1002 1003) after 1s", speed=0)
    ended = await demo.test_facts.wait_for(CallEnded)
    assert ended.missed
    written = await demo.test_facts.wait_for(JournalWritten)
    assert written.scenario == "CallJournal" and written.call_id == ended.call_id
    # the PBX sends the CDR again: the tracker and the outbox both ignore it
    cdr = next(f for f in demo.test_frames if json.loads(f).get("type") == 30012)
    assert pbx.publish(json.loads(cdr)) == 1
    await asyncio.sleep(0.3)
    # and even when the engine is told twice (e.g. after a restart), the outbox keeps one item
    call = demo.tracker.get(ended.call_id)
    await demo._complete(call, None)
    await demo.idle()
    journal = [e for e in demo.demo_helpdesk.journal if e["from"] == "+15557000"]
    assert len(journal) == 1
    assert journal[0]["call_status"] == "No Answer" and journal[0]["direction"] == "Inbound"
    assert journal[0]["agent_id"] == "a2"      # 1002 is Grace, associated by e-mail
    queued = demo.test_facts.of(JournalQueued)
    assert [q.duplicate for q in queued] == [False, True]
    items = await demo.outbox_items()
    assert [(i.scenario, i.state) for i in items] == [("CallJournal", ItemState.DONE)]
    history = await demo.history()
    assert history[0].status == "No Answer" and history[0].contact_name == "Dan Diaz"


async def test_helpdesk_down_the_outbox_retries_then_writes(demo):
    pbx = demo.demo_pbx
    await pbx.ring("+15550100", "1001")
    await demo.test_facts.wait_for(ContactResolved)
    await pbx.answer("1001")
    demo.demo_helpdesk.fail_next(6, status=503)
    await pbx.hangup()
    failed = await demo.test_facts.wait_for(JournalFailed)
    assert failed.state == "failed" and "503" in failed.error
    written = await demo.test_facts.wait_for(JournalWritten, timeout=15)
    assert written.scenario == "CallJournal"
    assert len([e for e in demo.demo_helpdesk.journal if e["from"] == "+15550100"]) == 1
    item = (await demo.outbox_items())[0]
    assert item.state == ItemState.DONE and item.attempts >= 2


async def test_extensions_without_a_helpdesk_user_get_no_card(demo):
    call_id = await demo.demo_pbx.ring("+15550100", "1009")
    rang = await demo.test_facts.wait_for(CallRang)
    assert rang.popup is False
    await demo.demo_pbx.hangup()
    await demo.test_facts.wait_for(CallEnded)
    await demo.idle()
    assert not demo.test_facts.of(ContactResolved)
    assert not [t for t in demo.test_facts.of(TraceRecorded) if t.trace.scenario == "SyncContactAuto"]
    assert (await demo.history())[0].call_id == call_id      # the history still has it
    assert await demo.outbox_items() == []


async def test_unknown_caller_gets_an_empty_card_and_can_be_created(demo):
    call_id = await demo.demo_pbx.ring("+15559999", "1004")
    card = (await demo.test_facts.wait_for(ContactResolved)).card
    assert not card.found and not card.error
    created = await demo.create_contact(call_id, first_name="Zed", last_name="Zulu")
    assert created.created and created.name == "Zed Zulu"
    assert any(c["first_name"] == "Zed" and c["business_phone"] == "+15559999" for c in demo.demo_helpdesk.contacts)
    await demo.demo_pbx.answer("1004")
    await demo.demo_pbx.hangup()
    await demo.test_facts.wait_for(JournalWritten)
    assert [e["from"] for e in demo.demo_helpdesk.journal if e["from"] == "+15559999"] == ["+15559999"]


async def test_unknown_caller_journal_is_skipped_when_the_template_needs_a_contact(demo):
    await demo.demo_pbx.run_script("missed +15559999 -> 1004 after 1s", speed=0)
    skipped = await demo.test_facts.wait_for(JournalFailed)
    assert skipped.state == "skipped" and "needs a matched contact" in skipped.error
    await demo.idle()
    assert await demo.outbox_items() == []


async def test_manual_search(demo):
    card = await demo.search("Globex")
    assert {m.fields["FirstName"] for m in card.matches} >= {"Dan", "Erin"}


async def test_facts_iterator_ends_when_the_engine_stops(tmp_path):
    engine = await Engine.demo(store_path=tmp_path / "s.sqlite3", speed=0)
    seen = []

    async def read():
        async for fact in engine.facts():
            seen.append(fact)

    reader = asyncio.create_task(read())
    await engine.start_demo()
    await asyncio.wait_for(engine.demo_done.wait(), 10)
    await engine.idle(timeout=15)
    await engine.stop()
    await asyncio.wait_for(reader, 5)
    kinds = {type(f).__name__ for f in seen}
    assert {"CallRang", "ContactResolved", "CallAnswered", "CallEnded", "JournalQueued", "JournalWritten",
            "ConnectionChanged", "TokenHealthChanged"} <= kinds
    assert not [f for f in seen if isinstance(f, EngineProblem)]


async def test_a_failing_subscriber_does_not_stop_the_engine(demo):
    def broken(fact):
        raise RuntimeError("boom")

    demo.subscribe(broken)
    await demo.demo_pbx.ring("+15550100", "1001")
    await demo.test_facts.wait_for(ContactResolved)


def _result(status=None, error="", ok=False, sent=True):
    result = ScenarioResult("CallJournal")
    if sent:
        from engine.flows.runner import RequestOutcome
        from engine.template.model import Request

        trace = Trace("CallJournal", "journal", "POST", "http://h/x", status=status, error=error)
        result.outcomes.append(RequestOutcome(Request.__new__(Request), trace))
    if not ok:
        result.error = ScenarioError("it failed", scenario="CallJournal")
    return result


@pytest.mark.parametrize(("status", "error", "sent", "kind"), [
    (503, "", True, "retry"), (429, "", True, "retry"), (400, "", True, "fatal"), (500, "", True, "unknown"),
    (None, "cannot connect: refused", True, "retry"), (None, "read timeout", True, "unknown"),
    (None, "", False, "fatal"),
])
def test_classify_says_whether_a_resend_is_safe(status, error, sent, kind):
    assert classify(_result(status, error, sent=sent)).kind == kind


def test_classify_keeps_ticket_and_contact_ids():
    result = _result(201, ok=True)
    result.variables = {"TicketId": "7", "ContactId": "c1", "Subject": "x"}
    outcome = classify(result)
    assert outcome.kind == "done" and dict(outcome.outputs) == {"TicketId": "7", "ContactId": "c1"}


def test_card_choose_and_numbers():
    a = ContactMatch("Contacts", {"ContactId": "1", "FirstName": "A", "MobileNumber": "+1"}, "http://x/1")
    b = ContactMatch("Contacts", {"ContactId": "2", "Company": "B Inc"})
    card = ContactCard("+1", (a, b), 0, "as_received", "+1")
    assert card.name == "A" and card.numbers == [("mobile", "+1")] and card.popup_url == "http://x/1"
    assert card.choose(1).name == "B Inc" and card.choose(1).popup_url == ""
    assert ContactCard("+1").contact is None and ContactCard("+1").numbers == []


def test_pbx_tokens_stay_out_of_httpx_logs_next_to_engine_http():
    """engine.http's log filter (installed on import) formats httpx records first; the PBX filter
    must still blank the token (found when the console put both in one process)."""
    import logging

    import engine.http.client  # noqa: F401  installs its filter on the httpx logger
    from engine.pbx.source import OpenApiSource

    OpenApiSource("http://127.0.0.1:1", "id", "secret")   # installs the PBX filter
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, 'HTTP Request: %s %s "%s"',
                               ("GET", "http://127.0.0.1:1/openapi/v1.0/subscribe?access_token=abc123def",
                                "HTTP/1.1 200 OK"), None)
    for f in logging.getLogger("httpx").filters:
        f.filter(record)
    assert "abc123def" not in record.getMessage() and "access_token=***" in record.getMessage()


async def test_engine_from_config_plays_a_replay_against_the_helpdesk(tmp_path, monkeypatch):
    """The configured console: template file, field values file, replay source, store in the data dir."""
    from dataclasses import replace

    from engine.config import load_config
    from engine.demo.helpdesk import DemoHelpdesk

    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path / "data"))
    with DemoHelpdesk() as helpdesk:
        (tmp_path / "fields.toml").write_text(f'base_url = "{helpdesk.base_url}"\napi_token = "demo-api-token"\n')
        (tmp_path / "fields.toml").chmod(0o600)  # it holds a credential: owner-only, as the config requires
        (tmp_path / "calls.script").write_text("ring +15550100 -> 1001\nanswer 1001\nhangup\n")
        (tmp_path / "config.toml").write_text(
            f'[helpdesk]\ntemplate = "{DEMO_TEMPLATE}"\nfields_file = "{tmp_path / "fields.toml"}"\n'
            f'[pbx]\nmode = "replay"\nreplay_file = "{tmp_path / "calls.script"}"\n')
        config = load_config(tmp_path / "config.toml", env={"DESKLINE_DATA_DIR": str(tmp_path / "data")})
        engine = Engine.from_config(config)
        engine.settings = replace(engine.settings, manual_associations={"1001": "a1"}, outbox=FAST)
        facts = Facts()
        engine.subscribe(facts.append)
        async with engine:
            await facts.wait_for(JournalWritten, lambda f: f.scenario == "CallJournal")
        assert (await facts.wait_for(ContactResolved)).card.name == "Alice Anders"
        assert [e["agent_id"] for e in helpdesk.journal] == ["a1"]
        assert (tmp_path / "data" / "deskline.sqlite3").exists()


async def test_engine_from_config_names_what_is_missing(tmp_path):
    from engine.config import load_config
    from engine.errors import LocatedError

    (tmp_path / "empty.toml").write_text("")
    config = load_config(tmp_path / "empty.toml", env={})
    with pytest.raises(LocatedError) as info:
        Engine.from_config(config)
    assert info.value.location.field == "helpdesk.template"


async def test_ticket_at_ring_is_created_while_it_rings_and_updated_after_the_call(tmp_path):
    from engine.console import TicketOpened
    from engine.demo.helpdesk import DemoHelpdesk
    from engine.http import HttpSettings
    from engine.integration import Integration, IntegrationSettings
    from engine.pbx import ReplaySource
    from engine.store import Store
    from engine.template import load_template

    xml = DEMO_TEMPLATE.read_text(encoding="utf-8").replace(
        '<Parameter Name="NeedSyncContact" Value="1" />',
        '<Parameter Name="NeedSyncContact" Value="1" /><Parameter Name="CreateTicketAt" Value="ring" />', 1)
    assert "CreateTicketAt" in xml
    (tmp_path / "t.xml").write_text(xml, encoding="utf-8")
    with DemoHelpdesk() as helpdesk:
        integration = Integration(load_template(tmp_path / "t.xml"),
                                  {"base_url": helpdesk.base_url, "api_token": "demo-api-token"},
                                  IntegrationSettings(http=HttpSettings(trust_env=False)))
        source = ReplaySource(text="ring +15550100 -> 1001\nwait 300ms\nanswer 1001\nhangup\n", speed=1.0)
        engine = Engine(integration, source, Store(tmp_path / "s.sqlite3"),
                        settings=EngineSettings(manual_associations={"1001": "a1"}, outbox=FAST, tickets="all"))
        facts = Facts()
        engine.subscribe(facts.append)
        async with engine:
            opened = await facts.wait_for(TicketOpened)
            await facts.wait_for(JournalWritten, lambda f: f.scenario == "CallJournal")
        kinds = [type(f).__name__ for f in facts]
        assert kinds.index("TicketOpened") < kinds.index("CallEnded")       # created while it rang
        ticket = next(t for t in helpdesk.tickets if str(t["id"]) == opened.ticket_id)
        assert ticket["status"] == "open"                                   # updated after the call
        assert [str(e["ticket_id"]) for e in helpdesk.journal if e["from"] == "+15550100"] == [opened.ticket_id]
        assert len([t for t in helpdesk.tickets if t.get("contact_id") == "c1"]) == 2    # seeded one + this one
