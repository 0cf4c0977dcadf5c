"""The real engine runs the shipped RT5 templates (Basic and token) against Request Tracker 5."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from engine.flows import CallInfo
from engine.http import HttpSettings
from engine.integration import Integration, IntegrationSettings
from engine.template import load_template
from tests.conftest import REPO

pytestmark = pytest.mark.realserver

SETTINGS = IntegrationSettings(http=HttpSettings(trust_env=False, read_timeout=20, deadline=40))


def values_for(template, rt_server, *, password: str | None = None) -> dict[str, str]:
    values = {f.name: f.value for f in template.custom_fields}
    values.update(base_url=rt_server.url, agent_domain=rt_server.agent_domain, queue=rt_server.queue)
    if "username" in values:
        values.update(username=rt_server.user, password=password or rt_server.password)
    else:
        values.update(api_token=rt_server.token)
    return values


@pytest.fixture(params=("rt5-basic", "rt5-token"))
async def rt(request, rt_server):
    template = load_template(REPO / "templates" / request.param / "template.xml")
    async with Integration(template, values_for(template, rt_server), SETTINGS) as hd:
        yield hd


async def test_contact_search_by_phone(rt, rt_server):
    found = await rt.search_contacts("+15550101")
    assert found.ok, found.errors
    assert [m.id for m in found.matches] == ["alice@example.com"]
    alice = found.chosen
    assert alice.fields["FirstName"] == "Alice Anders" and alice.fields["Company"] == "Acme"
    assert alice.fields["MobileNumber"] == "+15550101"
    assert alice.popup_url.startswith(rt_server.url + "/User/Summary.html?id=alice%40example.com")
    assert found.variant.variant == "as_received"


async def test_switchboard_number_gives_both_contacts(rt):
    found = await rt.search_contacts("+15557000")
    assert [m.id for m in found.matches] == ["frank@globex.example", "grace@globex.example"]


async def test_unknown_number_is_not_found(rt):
    found = await rt.search_contacts("+19990000000")
    assert found.ok and not found.found


async def test_manual_search(rt):
    found = await rt.search("Chen")
    assert [m.id for m in found.matches] == ["carol@example.com"]


async def test_user_association(rt, rt_server):
    users = await rt.fetch_users()
    assert users.ok, users.error
    assert [u.id for u in users.users] == [f"agent{i}" for i in range(1, rt_server.agent_count + 1)]
    assert all(u.email == f"{u.id}@{rt_server.agent_domain}" for u in users.users)


async def test_unknown_caller_contact_ticket_and_journal(rt, rt_server):
    number = "+1666" + "".join(secrets.choice("0123456789") for _ in range(7))
    call = rt.new_call(CallInfo(number, "1001", extension="1001", status="Answered",
                                start_time=time.time() - 200, talk_seconds=192, ring_seconds=6))
    call.owner = "agent2"
    assert not (await rt.search_contacts(number)).found
    created = await rt.create_contact(number, display_name="Nina New", context=call)
    assert created.ok, created.run.error
    assert call.variables["ContactId"] == created.contact_id
    found = await rt.search_contacts(number)
    assert found.chosen is not None and found.chosen.id == created.contact_id
    ticket = await rt.ticket_after_call(call)
    assert ticket.ok, ticket.error
    ticket_id = call.variables["TicketId"]
    journal = await rt.write_journal(call)
    assert journal.ok, journal.error
    async with httpx.AsyncClient(auth=rt_server.basic(), timeout=20, trust_env=False) as client:
        data = (await client.get(f"{rt_server.api}/ticket/{ticket_id}")).json()
        history = (await client.get(f"{rt_server.api}/ticket/{ticket_id}/history", params={"fields": "Type"})).json()
    assert data["Subject"] == f"Inbound call from {number} to 1001"
    assert data["Owner"]["id"] == "agent2"
    assert [r["id"] for r in data["Requestor"]] == [created.contact_id]
    assert "Comment" in [item["Type"] for item in history["items"]]


async def test_wrong_password_is_reported_without_the_password(rt_server):
    template = load_template(REPO / "templates" / "rt5-basic" / "template.xml")
    async with Integration(template, values_for(template, rt_server, password="Wr0ng-pass-XY"), SETTINGS) as hd:
        found = await hd.search_contacts("+15550101")
    assert not found.ok
    message = str(found.errors[0])
    assert "HTTP 401" in message and "'Contacts'" in message
    assert "Wr0ng-pass-XY" not in message + repr(found.traces)
