"""The shipped demo template's requests against the built-in demo helpdesk (no real server needed)."""

from __future__ import annotations

import httpx
import pytest

from engine.demo import DemoHelpdesk
from tests.integration.shipped import gjson, load, render

TEMPLATE = load("demo")


@pytest.fixture
def demo():
    with DemoHelpdesk() as hd:
        variables = {**TEMPLATE.custom_fields(), "base_url": hd.base_url}
        with httpx.Client(headers=TEMPLATE.headers(variables), timeout=5) as client:
            yield hd, variables, client


def send(client, sid, variables, index=0, url=None):
    spec = TEMPLATE.request(sid, index)
    variables = TEMPLATE.scenario_variables(sid, variables)
    url = url or render(spec.url_format, variables)
    if not url:
        return None, {}
    content = render(spec.body_format, variables).encode() if spec.body_format else None
    response = client.request(spec.method, url, content=content)
    assert response.status_code < 300, response.text
    return response, {n: gjson(response.json(), render(p, variables)) for n, p in spec.outputs.items()}


def test_user_association_follows_next_links(demo):
    _, variables, client = demo
    pagination = TEMPLATE.params("UserAssociation", "Pagination")
    assert pagination["Mode"] == "link"
    page_vars = {**variables, "Page": pagination["FirstPage"], "PageSize": pagination["PageSize"]}
    users, url, pages = [], None, 0
    while True:
        response, out = send(client, "UserAssociation", page_vars, url=url)
        users += list(zip(out["UserUniqueId"], out["LastName"], out["Email"]))
        pages += 1
        url = gjson(response.json(), pagination["NextPath"])
        if not url:
            break
    assert pages == 3
    assert [u[0] for u in users] == ["a1", "a2", "a3", "a4", "a5"]
    assert users[0] == ("a1", "Lovelace", "ada@demo-helpdesk.test")


def test_contact_match_finds_number_variants(demo):
    _, variables, client = demo
    _, out = send(client, "SyncContactAuto", {**variables, "Phone": "+442079460018"})
    assert out["ContactId"] == ["c2"] and out["MobileNumber"] == ["020 7946 0018"]
    _, out = send(client, "SyncContactAuto", {**variables, "Phone": "+15557000"})
    assert out["ContactId"] == ["c4", "c5"] and out["Company"] == ["Globex", "Globex"]
    _, out = send(client, "SyncContactAuto", {**variables, "Phone": "+19990000000"})
    assert out["ContactId"] == []
    _, out = send(client, "SearchContact", {**variables, "SearchValue": "fischer"})
    assert out["ContactId"] == ["c6"]


def test_create_contact_ticket_and_journal(demo):
    hd, variables, client = demo
    _, out = send(client, "CreateNewContact", {**variables, "DisplayName": "Nina New", "BusinessNumber": "+15550900"})
    contact_id = out["ContactId"]
    call = {**variables, "ContactId": contact_id, "Owner": "a2", "Communication_Type": "Inbound",
            "Call_From": "+15550900", "Call_To": "1002", "Time": "2026-11-25 14:05:00"}
    _, out = send(client, "CreateNewTicket", call)
    ticket_id = out["TicketId"]
    send(client, "CreateNewTicket", {**call, "TicketId": ticket_id}, index=1)
    ticket = next(t for t in hd.tickets if t["id"] == ticket_id)
    assert (ticket["contact_id"], ticket["assignee_id"], ticket["status"]) == (contact_id, "a2", "open")
    assert ticket["subject"] == "Inbound call from +15550900 to 1002"

    ended = {**call, "TicketId": ticket_id, "Call_Status": "Answered", "StartTimeUnix": 1795615500,
             "Talk_Duration": "0:01:02", "Talk_Duration_Sec": 62, "RecordPath": "https://pbx.test/rec/1.wav"}
    send(client, "CallJournal", ended)
    send(client, "CallJournal", {**ended, "TicketId": "", "Talk_Duration_Sec": ""})   # no ticket: on the contact
    on_ticket, on_contact = hd.journal
    assert on_ticket["ticket_id"] == ticket_id and on_ticket["duration_seconds"] == 62
    assert on_ticket["started_at"] == "2026-11-25T14:05:00Z"
    assert on_ticket["recording_url"] == "https://pbx.test/rec/1.wav"
    assert on_contact["ticket_id"] is None and on_contact["contact_id"] == contact_id
    assert on_contact["duration_seconds"] == 0
    sent = len(hd.requests)
    assert send(client, "CallJournal", {**ended, "TicketId": "", "ContactId": ""}) == (None, {})
    assert len(hd.requests) == sent   # nothing to journal on: no request at all
