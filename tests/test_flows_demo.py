"""Every scenario of the shipped demo template against the demo helpdesk (real HTTP on loopback)."""

from __future__ import annotations

import pytest

from engine.demo.helpdesk import DemoHelpdesk, DemoOptions
from engine.flows import CallInfo, PickPolicy, associate_by_email, extension_may_use_features
from engine.http import HttpSettings, RetryPolicy
from engine.integration import Integration, IntegrationSettings
from engine.template import load_template
from tests.conftest import REPO

DEMO_TEMPLATE = REPO / "templates" / "demo" / "template.xml"


@pytest.fixture
def demo():
    hd = DemoHelpdesk(DemoOptions())
    hd.start()
    yield hd
    hd.stop()


def integration(demo, **settings) -> Integration:
    template = load_template(DEMO_TEMPLATE)
    values = {"base_url": demo.base_url, "api_token": "demo-api-token"}
    fast = HttpSettings(trust_env=False, retry=RetryPolicy(base_delay=0.01, max_delay=0.02))
    return Integration(template, values, IntegrationSettings(http=fast, **settings))


async def test_contact_search_finds_the_caller_and_builds_the_popup(demo):
    async with integration(demo) as hd:
        found = await hd.search_contacts("+15550100")
    assert found.ok and found.found
    assert found.variant.variant == "as_received"
    alice = found.chosen
    assert alice.contact_type == "Contacts"
    assert alice.fields["FirstName"] == "Alice" and alice.fields["Company"] == "Acme"
    assert alice.fields["BusinessNumber"] == "+15550100"
    assert alice.popup_url == f"{demo.base_url}/api/v1/contacts/{alice.id}"
    trace = found.traces[0]
    assert trace.status == 200 and "phone=%2B15550100" in trace.url
    assert {m.name for m in trace.matched_paths} >= {"ContactId", "FirstName", "Company"}
    assert "HomeFaxNumber" in {m.name for m in trace.empty_paths}
    assert "demo-api-token" not in trace.as_curl()


async def test_switchboard_number_returns_every_match_and_the_pick_policy_decides(demo):
    async with integration(demo) as hd:
        found = await hd.search_contacts("+15557000")
    assert [m.fields["FirstName"] for m in found.matches] == ["Dan", "Erin"]
    assert found.chosen is found.matches[0]
    async with integration(demo, pick=PickPolicy.UNIQUE) as hd:
        found = await hd.search_contacts("+15557000")
    assert len(found.matches) == 2 and found.chosen is None


async def test_unknown_number_tries_every_variant_then_reports_nothing(demo):
    async with integration(demo) as hd:
        found = await hd.search_contacts("+1 999 000 0000")
    assert found.ok and not found.found and found.chosen is None
    assert [c.variant for c in found.tried] == ["as_received", "e164", "digits"]
    assert len(found.traces) == 3


async def test_search_results_are_cached_briefly(demo):
    async with integration(demo, contact_cache_ttl=60) as hd:
        first = await hd.search_contacts("+15550100")
        before = len(demo.requests)
        second = await hd.search_contacts("+15550100")
    assert not first.from_cache and second.from_cache
    assert len(demo.requests) == before
    assert second.chosen.id == first.chosen.id


async def test_manual_search_by_name(demo):
    async with integration(demo) as hd:
        found = await hd.search("Globex")
    assert {m.fields["FirstName"] for m in found.matches} == {"Dan", "Erin"}


async def test_user_association_follows_next_links_and_associates_by_email(demo):
    async with integration(demo) as hd:
        users = await hd.fetch_users()
    assert users.ok and users.pages == 3 and not users.warnings
    assert [u.id for u in users.users] == ["a1", "a2", "a3", "a4", "a5"]
    assert users.users[0].display_name == "Ada Lovelace"
    extensions = {"1001": "ADA@demo-helpdesk.test", "1002": "grace@demo-helpdesk.test", "1009": "x@y.test"}
    assoc, notes = associate_by_email(users.users, extensions, manual={"1003": "a3"})
    assert {k: v.id for k, v in assoc.items()} == {"1001": "a1", "1002": "a2", "1003": "a3"}
    assert extension_may_use_features(True, assoc, "1001")
    assert not extension_may_use_features(True, assoc, "1009")
    assert extension_may_use_features(False, assoc, "1009")


async def test_create_contact_then_ticket_then_journal_share_the_call_scope(demo):
    async with integration(demo) as hd:
        call = hd.new_call(CallInfo("+15559999", "1001", extension="1001", status="Answered",
                                    start_time=1_795_600_000, talk_seconds=192, ring_seconds=4,
                                    record_path="https://pbx.test/rec/1.wav"))
        call.owner = "a1"
        found = await hd.search_contacts("+15559999")
        assert not found.found
        created = await hd.create_contact("+15559999", display_name="New Caller", context=call)
        assert created.ok and created.contact_id.startswith("c")
        assert call.variables["ContactId"] == created.contact_id
        ticket = await hd.ticket_after_call(call)
        assert ticket.ok, ticket.error
        journal = await hd.write_journal(call)
        assert journal.ok, journal.error
        again = await hd.search_contacts("+15559999")  # the cache was cleared by the creation
    assert again.chosen.id == created.contact_id
    contact = next(c for c in demo.contacts if c["id"] == created.contact_id)
    assert contact["first_name"] == "New Caller" and contact["business_phone"] == "+15559999"
    tickets = [t for t in demo.tickets if t["contact_id"] == created.contact_id]
    assert len(tickets) == 1
    t = tickets[0]
    assert t["subject"] == "Inbound call from +15559999 to 1001"
    assert t["status"] == "open"  # the UpdateTicket request ran with TicketId in scope
    assert t["assignee_id"] == "a1"
    assert call.variables["TicketId"] == str(t["id"])
    entry = demo.journal[-1]
    assert entry["ticket_id"] in (t["id"], str(t["id"]))
    assert entry["subject"] == "Inbound call, Answered"
    assert entry["body"] == "From +15559999 to 1001, talk time 0:03:12."
    assert entry["duration_seconds"] == 192 and entry["recording_url"] == "https://pbx.test/rec/1.wav"
    assert entry["agent_id"] == "a1"


async def test_journal_needs_a_contact_when_the_template_says_so(demo):
    async with integration(demo) as hd:
        call = hd.new_call(CallInfo("+15559999", "1001"))
        result = await hd.write_journal(call)
    assert not result.ok and "NeedSyncContact" in str(result.error)


async def test_user_edited_subject_and_description(demo):
    async with integration(demo) as hd:
        call = hd.new_call(CallInfo("+15550100", "1001", status="Answered", start_time=1_795_600_000))
        found = await hd.identify(call)
        assert call.contact is found.chosen and call.scope()["ContactId"] == found.chosen.id
        result = await hd.write_journal(call, subject="Callback for {{.Call_From}}", description="Printer again")
    assert result.ok, result.error
    entry = demo.journal[-1]
    assert entry["contact_id"] == call.contact.id
    assert entry["subject"] == "Callback for +15550100" and entry["body"] == "Printer again"


async def test_a_transient_503_on_a_search_is_retried(demo):
    async with integration(demo) as hd:
        demo.fail_next(1, 503)
        found = await hd.search_contacts("+15550100")
    assert found.ok and found.chosen.fields["FirstName"] == "Alice"
    assert [a.status for a in found.traces[0].attempts] == [503, 200]


async def test_a_503_on_the_journal_post_is_not_repeated_and_names_the_request(demo):
    async with integration(demo) as hd:
        call = hd.new_call(CallInfo("+15550100", "1001", status="Answered", start_time=1_795_600_000))
        call.contact = (await hd.search_contacts("+15550100")).chosen
        entries = len(demo.journal)
        demo.fail_next(1, 503)
        result = await hd.write_journal(call)
    assert not result.ok
    assert result.error.request == "CallJournal" and result.error.status == 503
    assert "CallJournal: request 'CallJournal' failed with HTTP 503" in str(result.error)
    assert len(result.traces[0].attempts) == 1 and len(demo.journal) == entries


async def test_wrong_token_ends_the_scenario_with_a_clear_error(demo):
    template = load_template(DEMO_TEMPLATE)
    async with Integration(template, {"base_url": demo.base_url, "api_token": "wrong-token-123"},
                           IntegrationSettings(http=HttpSettings(trust_env=False))) as hd:
        found = await hd.search_contacts("+15550100")
    assert not found.ok
    message = str(found.errors[0])
    assert "HTTP 401" in message and "Contacts" in message
    assert "wrong-token-123" not in message + repr(found.traces)
    assert len(found.tried) == 1  # no point trying more variants against a refusing helpdesk


async def test_max_concurrent_request_of_the_template_is_applied(demo):
    template = load_template(DEMO_TEMPLATE)
    async with Integration(template, {"base_url": demo.base_url, "api_token": "demo-api-token"}) as hd:
        assert hd.http.settings.max_concurrent == template.general.max_concurrent == 4


async def test_dry_run_sends_nothing(demo):
    template = load_template(DEMO_TEMPLATE)
    async with Integration(template, {"base_url": demo.base_url, "api_token": "demo-api-token"},
                           dry_run=True) as hd:
        found = await hd.search_contacts("+15550100")
    assert demo.requests == []
    assert found.traces and all(t.dry_run for t in found.traces)
    assert "phone=%2B15550100" in found.traces[0].url


async def test_associated_extensions_get_their_owner_and_others_are_left_out(demo):
    async with integration(demo) as hd:
        users, notes = await hd.associate_users({"1001": "ada@demo-helpdesk.test", "1002": "nobody@x.test"},
                                                manual={"1003": "a3", "1004": "gone"})
        assert users.ok and notes == ["extension 1004: the associated helpdesk user 'gone' no longer exists"]
        assert hd.may_use_features("1001") and hd.may_use_features("1003")
        assert not hd.may_use_features("1002")
        call = hd.new_call(CallInfo("+15550100", "1001", extension="1001"))
        assert call.owner == "a1" and call.scope()["Owner"] == "a1"
        assert hd.new_call(CallInfo("+15550100", "1002", extension="1002")).owner == ""


async def test_the_outbox_may_let_a_journal_post_be_repeated(demo):
    """retry_safe (the durable outbox's decision) reaches the HTTP layer: the POST is repeated after a 503."""
    async with integration(demo) as hd:
        call = hd.new_call(CallInfo("+15550100", "1001", status="Answered", start_time=1_795_600_000))
        call.contact = (await hd.search_contacts("+15550100")).chosen
        demo.fail_next(1, 503)
        result = await hd.write_journal(call, retry_safe=True)
    assert result.ok, result.error
    assert [a.status for a in result.traces[0].attempts] == [503, 201]
