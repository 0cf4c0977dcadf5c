"""Every scenario of the shipped RT5 templates through the real engine, beyond the happy path:
paging through every agent, number variants, pick policies and the cache, hostile names, and a
ticket created while the phone rings and updated after the call (``CreateTicketAt=ring``)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from pathlib import Path

import httpx
import pytest

from engine.flows import CallInfo, PickPolicy
from engine.integration import Integration, IntegrationSettings
from engine.numbers import NumberPlan
from engine.template import load_template
from tests.conftest import REPO
from tests.integration.test_runtime_rt import SETTINGS, values_for

pytestmark = pytest.mark.realserver

TEMPLATES = ("rt5-basic", "rt5-token")


def variant_of(name: str, tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of a shipped template with text edits (each must apply exactly once)."""
    source = REPO / "templates" / name / "template.xml"
    text = source.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"{name}: {old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(source.parent / "logo.png", folder / "logo.png")
    (folder / "template.xml").write_text(text)
    return folder / "template.xml"


def connect(path: Path, rt_server, settings: IntegrationSettings = SETTINGS) -> Integration:
    template = load_template(path)
    return Integration(template, values_for(template, rt_server), settings)


def page_of(url: str) -> str:
    return httpx.URL(url).params["page"]


@pytest.mark.parametrize("name", TEMPLATES)
async def test_user_association_pages_through_every_agent(name, rt_server, tmp_path):
    path = variant_of(name, tmp_path, ('Name="PageSize" Value="50"', 'Name="PageSize" Value="2"'))
    async with connect(path, rt_server) as rt:
        users, notes = await rt.associate_users(
            {"1001": "AGENT2@helpdesk.test", "1002": "nobody@helpdesk.test", "1003": "agent5@helpdesk.test"},
            manual={"1003": "agent4", "1004": "agent9"})
    assert users.ok and users.warnings == []
    expected = [f"agent{i}" for i in range(1, rt_server.agent_count + 1)]
    assert [u.id for u in users.users] == expected
    pages = -(-len(expected) // 2)
    assert users.pages == pages
    assert [page_of(t.url) for t in users.traces] == [str(p) for p in range(1, pages + 1)]
    assert all(httpx.URL(t.url).params["per_page"] == "2" for t in users.traces)
    assert users.users[1].first_name == "Agent 2" and users.users[1].email == "agent2@helpdesk.test"
    # e-mail (case-insensitive), manual wins over e-mail, unknown users are reported
    assert {ext: u.id for ext, u in rt.associations.items()} == {"1001": "agent2", "1003": "agent4"}
    assert notes == ["extension 1004: the associated helpdesk user 'agent9' no longer exists"]
    assert rt.may_use_features("1001") and not rt.may_use_features("1002")
    assert rt.new_call(CallInfo("+15550101", "1001", extension="1001")).owner == "agent2"


async def test_max_pages_stops_with_a_warning(rt_server, tmp_path):
    path = variant_of("rt5-token", tmp_path, ('Name="PageSize" Value="50"', 'Name="PageSize" Value="2"'),
                      ('Name="MaxPages" Value="40"', 'Name="MaxPages" Value="2"'))
    async with connect(path, rt_server) as rt:
        users = await rt.fetch_users()
    assert [u.id for u in users.users] == ["agent1", "agent2", "agent3", "agent4"]
    assert users.pages == 2 and "MaxPages=2" in users.warnings[0]


def _random_digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def _add_contact(rt_server, phone: str) -> str:
    """An RT user whose Phone custom field holds *phone* exactly as a person typed it."""
    email = f"variant-{_random_digits(10)}@example.com"
    body = {"Name": email, "EmailAddress": email, "RealName": "Variant Person", "CustomFields": {"Phone": [phone]}}
    answer = httpx.post(f"{rt_server.api}/user", json=body, headers=rt_server.token_headers(), timeout=20,
                        trust_env=False)
    assert answer.status_code == 201, answer.text
    return email


@pytest.mark.parametrize("case", ["e164", "national", "digits", "last_n", "regex"])
async def test_number_variants_find_the_contact_and_say_which(case, rt_server):
    r7 = "7" + _random_digits(6)
    stored, received, plan = {
        "e164": ("+1555" + r7, "001555" + r7, NumberPlan()),
        "national": ("030" + r7, "+4930" + r7, NumberPlan(country_code="49")),
        "digits": ("4930" + r7, "+49 30 " + r7, NumberPlan(country_code="49")),
        "last_n": (r7, "+4930" + r7, NumberPlan(order=("as_received", "last_n"), last_n=7)),
        "regex": ("30-" + r7, "+4930" + r7, NumberPlan(order=("as_received", "regex"), regex=r"^\+49(\d\d)(\d+)$",
                                                       replacement=r"\1-\2")),
    }[case]
    contact = _add_contact(rt_server, stored)
    template = load_template(REPO / "templates" / "rt5-token" / "template.xml")
    settings = IntegrationSettings(http=SETTINGS.http, numbers=plan)
    async with Integration(template, values_for(template, rt_server), settings) as rt:
        found = await rt.search_contacts(received)
        assert found.ok, found.errors
        assert found.variant is not None and found.variant.variant == case and found.variant.value == stored
        assert found.tried[0].variant == "as_received" and found.tried[-1] == found.variant
        assert [m.id for m in found.matches] == [contact]
        # every variant tried was sent as {{.Phone}}; the ones before the match came back empty
        sent = [t.url for t in found.traces]
        assert len(sent) == len(found.tried)
        assert all(httpx.URL(u).params["query"].count(c.value) == 1 for u, c in zip(sent, found.tried))
        again = await rt.search_contacts(received)
        assert again.from_cache and again.chosen.id == contact and again.traces == []


@pytest.mark.parametrize(("policy", "chosen"), [(PickPolicy.FIRST, "frank@globex.example"),
                                                (PickPolicy.LAST, "grace@globex.example"),
                                                (PickPolicy.UNIQUE, None)])
async def test_pick_policy_over_several_matches(policy, chosen, rt_server):
    template = load_template(REPO / "templates" / "rt5-basic" / "template.xml")
    settings = IntegrationSettings(http=SETTINGS.http, pick=policy)
    async with Integration(template, values_for(template, rt_server), settings) as rt:
        found = await rt.search_contacts("+15557000")
    assert len(found.matches) == 2
    assert (found.chosen.id if found.chosen else None) == chosen


@pytest.mark.parametrize("name", TEMPLATES)
async def test_hostile_display_name_is_created_verbatim(name, rt_server):
    number = "+1888" + _random_digits(7)
    hostile = 'Zoë "Zed" O\'Neil \\ {{.password}} </x> ' + number[1:]
    template = load_template(REPO / "templates" / name / "template.xml")
    async with Integration(template, values_for(template, rt_server), SETTINGS) as rt:
        created = await rt.create_contact(number, display_name=hostile)
        assert created.ok, created.run.error
        found = await rt.search_contacts(number)
        by_name = await rt.search(hostile)  # the operator's search box: quotes, backslash, braces, accents
    assert found.chosen is not None and found.chosen.id == created.contact_id
    assert found.chosen.fields["FirstName"] == hostile
    assert by_name.ok, by_name.errors
    assert [m.id for m in by_name.matches] == [created.contact_id]
    assert found.chosen.fields["BusinessNumber"] == number


@pytest.mark.parametrize("name", TEMPLATES)
async def test_ticket_at_ring_then_update_and_journal_after_the_call(name, rt_server, tmp_path):
    path = variant_of(name, tmp_path, ('<Parameter Name="NeedSyncContact" Value="1" />\n      </Parameters>\n'
                                       '      <Requests>\n        <Request Name="CreateNewTicket"',
                                       '<Parameter Name="NeedSyncContact" Value="1" />\n'
                                       '        <Parameter Name="CreateTicketAt" Value="ring" />\n      </Parameters>\n'
                                       '      <Requests>\n        <Request Name="CreateNewTicket"'))
    async with connect(path, rt_server) as rt:
        users, _ = await rt.associate_users({"1001": "agent3@helpdesk.test"})
        assert users.ok
        # the phone rings: identify the caller, create the ticket (outcome fields still empty)
        call = rt.new_call(CallInfo("+15550101", "1001", extension="1001", start_time=time.time()))
        found = await rt.identify(call)
        assert found.chosen is not None and found.chosen.id == "alice@example.com"
        at_ring = await rt.ticket_at_ring(call)
        assert at_ring is not None and at_ring.ok, at_ring.error
        assert [o.request.name for o in at_ring.outcomes] == ["CreateNewTicket"]
        ticket_id = call.variables["TicketId"]
        async with httpx.AsyncClient(headers=rt_server.token_headers(), timeout=20, trust_env=False) as client:
            ringing = (await client.get(f"{rt_server.api}/ticket/{ticket_id}")).json()
            assert ringing["Status"] == "new" and ringing["Owner"]["id"] == "agent3"
            assert [r["id"] for r in ringing["Requestor"]] == ["alice@example.com"]
            # the call ends: update the same ticket, then the journal goes to it
            call.call.status, call.call.talk_seconds = "Answered", 75
            after = await rt.ticket_after_call(call)
            assert after.ok, after.error
            assert [o.request.name for o in after.outcomes] == ["UpdateTicket"]
            assert call.variables["TicketId"] == ticket_id
            journal = await rt.write_journal(call)
            assert journal.ok, journal.error
            assert journal.traces[0].url.endswith(f"/ticket/{ticket_id}/comment")
            updated = (await client.get(f"{rt_server.api}/ticket/{ticket_id}")).json()
            history = (await client.get(f"{rt_server.api}/ticket/{ticket_id}/history",
                                        params={"fields": "Type,Content"})).json()
    assert updated["Status"] == "open"
    assert "Comment" in [item["Type"] for item in history["items"]]


async def test_concurrent_calls_get_their_own_contacts_within_the_template_limit(rt_server):
    """Twelve simultaneous calls: each gets its own caller; at most MaxConcurrentRequest=4 in flight."""
    template = load_template(REPO / "templates" / "rt5-token" / "template.xml")
    expected = {"+15550101": ["alice@example.com"], "+15550200": ["bob@example.com"],
                "+15550300": ["carol@example.com"], "+15557001": ["grace@globex.example"],
                "+15557000": ["frank@globex.example", "grace@globex.example"], "+19990000001": []}
    numbers = list(expected) * 2
    async with Integration(template, values_for(template, rt_server), SETTINGS) as rt:
        one_by_one = {n: [m.id for m in (await rt.search_contacts(n, use_cache=False)).matches] for n in expected}
        assert rt.http.peak_in_flight == 1
        found = await asyncio.gather(*(rt.search_contacts(n, use_cache=False) for n in numbers))
        peak = rt.http.peak_in_flight
    assert all(set(expected[n]) <= set(one_by_one[n]) for n in expected)  # seeded contacts (others may be added)
    assert [[m.id for m in f.matches] for f in found] == [one_by_one[n] for n in numbers]
    assert template.general.max_concurrent == 4 and 2 <= peak <= 4


def with_search_outputs(name: str, tmp_path: Path, outputs: dict[str, str]) -> Path:
    """A copy of a shipped RT template whose contact search maps *outputs* (name -> path spec)."""
    text = (REPO / "templates" / name / "template.xml").read_text()
    url = text.index("CF.%7BPhone%7D")
    start = text.index("<Outputs>", url)
    end = text.index("</Outputs>", start) + len("</Outputs>")
    lines = "".join(f'\n            <Output Name="{k}" Path="{v.replace(chr(34), "&quot;")}" />'
                    for k, v in outputs.items())
    line_start = text.rindex("<Request ", 0, url)
    replacement = text[line_start:start] + f"<Outputs>{lines}\n          </Outputs>"
    return variant_of(name, tmp_path, (text[line_start:end], replacement))


async def test_jsonpath_alternatives_and_path_variables_map_a_real_response(rt_server, tmp_path):
    path = with_search_outputs("rt5-token", tmp_path, {
        "ContactId": "$.items[*].id",
        "FirstName": "items.#.NoSuchField, $.items[*].RealName",
        "Company": "items.#.Organization",
        "MobileNumber": 'items.#(MobilePhone=="{{.Phone}}").MobilePhone',
        "Remark": "$.items[?(@.Organization == 'Globex')].Name, items.#.WorkPhone",
    })
    async with connect(path, rt_server) as rt:
        alice = await rt.search_contacts("+15550101")
        globex = await rt.search_contacts("+15557000")
        hostile = await rt.search_contacts('+1"555\\0101')
    assert alice.ok and [m.fields for m in alice.matches] == [{
        "ContactId": "alice@example.com", "ContactsId": "alice@example.com", "FirstName": "Alice Anders",
        "Company": "Acme", "MobileNumber": "+15550101", "Remark": "+15550100"}]
    assert [(m.id, m.fields["FirstName"], m.fields["Remark"]) for m in globex.matches] == [
        ("frank@globex.example", "Frank Fischer", "frank@globex.example"),
        ("grace@globex.example", "Grace Green", "grace@globex.example")]
    assert all("MobileNumber" not in m.fields or m.fields["MobileNumber"] == "" for m in globex.matches)
    notes = {n.name: n for n in alice.traces[-1].mapping}
    assert notes["MobileNumber"].path == 'items.#(MobilePhone=="+15550101").MobilePhone'
    assert notes["FirstName"].path == "$.items[*].RealName" and notes["FirstName"].values == 1
    # the quote and backslash reach RT inside the JSON query intact (no HTTP 500); the e164 variant then matches
    assert hostile.ok and hostile.traces[0].status == 200 and hostile.tried[0].value == '+1"555\\0101'
    assert hostile.variant.variant == "e164" and hostile.chosen.id == "alice@example.com"


@pytest.mark.parametrize("name", TEMPLATES)
async def test_no_secret_in_logs_traces_or_curl_over_a_whole_call(name, rt_server, caplog):
    import base64
    import logging

    caplog.set_level(logging.DEBUG)
    template = load_template(REPO / "templates" / name / "template.xml")
    values = values_for(template, rt_server)
    secrets_used = [rt_server.token] if "api_token" in values else [
        rt_server.password, base64.b64encode(f"{rt_server.user}:{rt_server.password}".encode()).decode()]
    async with Integration(template, values, SETTINGS) as rt:
        await rt.associate_users({"1001": "agent1@helpdesk.test"})
        call = rt.new_call(CallInfo("+15550200", "1001", extension="1001", status="Answered",
                                    start_time=time.time(), talk_seconds=5))
        await rt.identify(call)
        ticket = await rt.ticket_after_call(call)
        journal = await rt.write_journal(call)
        await rt.search("Brown")
        traces = list(rt.traces)
    assert ticket.ok and journal.ok and len(traces) >= 5
    assert any(t.request_headers for t in traces)
    shown = caplog.text + repr(traces) + "\n".join(t.as_curl() for t in traces)
    for secret in secrets_used:
        assert secret not in shown
    assert "Authorization" in shown and "***" in shown


async def test_a_journal_without_a_ticket_is_skipped_not_sent(rt_server):
    """The RT journal URL renders empty without a TicketId (spec A.2: skip, not an error)."""
    template = load_template(REPO / "templates" / "rt5-token" / "template.xml")
    async with Integration(template, values_for(template, rt_server), SETTINGS) as rt:
        call = rt.new_call(CallInfo("+15550200", "1001", extension="1001", status="No Answer", start_time=time.time()))
        await rt.identify(call)
        journal = await rt.write_journal(call)
    assert journal.ok, journal.error
    assert [t.skipped for t in journal.traces] == ["the URL rendered empty"] and journal.traces[0].attempts == []


def test_deskline_try_against_real_rt(rt_server, monkeypatch, capsys, tmp_path):
    """The debug run: what was sent, what came back, what mapped; the password stays masked."""
    import io

    from tui.cli import main

    monkeypatch.setenv("DESKLINE_FIELD_BASE_URL", rt_server.url)
    monkeypatch.setenv("DESKLINE_FIELD_USERNAME", rt_server.user)
    monkeypatch.setenv("DESKLINE_FIELD_PASSWORD", rt_server.password)
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    template = str(REPO / "templates" / "rt5-basic" / "template.xml")
    code = main(["try", "contact", "--template", template, "--phone", "001 555 0101"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "number variants tried: as_received=001 555 0101, e164=+15550101" in out
    assert "matched with e164: +15550101" in out and "Alice Anders (ContactId alice@example.com)" in out
    assert "map ContactId          matched" in out and "< 200 OK" in out and "curl -X GET" in out
    assert rt_server.password not in out and "Authorization: Basic ***" in out
    monkeypatch.setenv("DESKLINE_FIELD_PASSWORD", "Wr0ng-pass-XY")
    code = main(["try", "contact", "--template", template, "--phone", "+15550101"])
    out = capsys.readouterr()
    assert code != 0 and "401" in out.out + out.err and "Wr0ng-pass-XY" not in out.out + out.err
