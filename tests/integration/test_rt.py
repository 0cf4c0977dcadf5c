"""Request Tracker 5 (scripts/rt-helpdesk.sh): the server works and the shipped RT templates'
requests do what they claim, with Basic and with token auth."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest

from tests.integration.shipped import ShippedTemplate, gjson, load, render

pytestmark = pytest.mark.realserver

TEMPLATES = ("rt5-basic", "rt5-token")


@pytest.fixture(params=TEMPLATES)
def rt(request, rt_server):
    """(template, variables with the custom fields filled in, an httpx client with its headers)."""
    template = load(request.param)
    fields = template.custom_fields()
    variables = {**fields, "base_url": rt_server.url, "agent_domain": rt_server.agent_domain,
                 "queue": rt_server.queue}
    if "username" in fields:
        variables.update(username=rt_server.user, password=rt_server.password)
    else:
        variables.update(api_token=rt_server.token)
    with httpx.Client(headers=template.headers(variables), timeout=20) as client:
        yield template, variables, client


def send(client: httpx.Client, template: ShippedTemplate, sid: str, variables: dict, index: int = 0):
    """Render request ``index`` of scenario ``sid`` and send it; ``None`` when its URL renders empty."""
    spec = template.request(sid, index)
    variables = template.scenario_variables(sid, variables)
    url = render(spec.url_format, variables)
    if not url:
        return None, {}
    content = render(spec.body_format, variables).encode() if spec.body_format else None
    if content is not None:
        json.loads(content)   # the rendered body must be valid JSON
    response = client.request(spec.method, url, content=content)
    outputs = {}
    if response.headers.get("content-type", "").startswith("application/json"):
        outputs = {name: gjson(response.json(), render(path, variables)) for name, path in spec.outputs.items()}
    return response, outputs


def test_auth_is_checked(rt_server):
    api = rt_server.api
    assert httpx.get(f"{api}/rt", auth=rt_server.basic()).json()["Version"].startswith("5.")
    assert httpx.get(f"{api}/rt", headers=rt_server.token_headers()).status_code == 200
    bad_password = httpx.get(f"{api}/rt", auth=(rt_server.user, "wrong"))
    assert bad_password.status_code == 401
    assert bad_password.json() == {"message": "Unauthorized"}
    assert httpx.get(f"{api}/rt", headers={"Authorization": "token 1-14-00000000"}).status_code == 401


def test_contact_match_by_phone_custom_field(rt):
    template, variables, client = rt
    response, out = send(client, template, "SyncContactAuto", {**variables, "Phone": "+15550101"})
    assert response.status_code == 200
    assert out["ContactId"] == ["alice@example.com"]
    assert out["FirstName"] == ["Alice Anders"]
    assert out["Company"] == ["Acme"]
    assert out["BusinessNumber"] == ["+15550100"]
    assert out["MobileNumber"] == ["+15550101"]


def test_contact_match_miss_returns_no_records(rt):
    template, variables, client = rt
    response, out = send(client, template, "SyncContactAuto", {**variables, "Phone": "+19990000000"})
    assert response.status_code == 200
    assert out["ContactId"] == []
    assert response.json()["total"] == 0


def test_switchboard_number_matches_two_contacts(rt):
    template, variables, client = rt
    _, out = send(client, template, "SyncContactAuto", {**variables, "Phone": "+15557000"})
    assert out["ContactId"] == ["frank@globex.example", "grace@globex.example"]
    assert out["MobileNumber"] == ["", "+15557001"]


def test_manual_search_by_name(rt):
    template, variables, client = rt
    _, out = send(client, template, "SearchContact", {**variables, "SearchValue": "Chen"})
    assert out["ContactId"] == ["carol@example.com"]


def test_agents_listed_page_by_page(rt, rt_server):
    template, variables, client = rt
    page_size, seen, pages = 2, [], 0
    for page in range(1, 20):
        response, out = send(client, template, "UserAssociation", {**variables, "Page": page, "PageSize": page_size})
        assert response.status_code == 200
        pages += 1
        seen += list(zip(out["UserUniqueId"], out["Email"]))
        if len(out["UserUniqueId"]) < page_size:
            break
    assert pages == rt_server.agent_count // page_size + 1
    assert [uid for uid, _ in seen] == [f"agent{i}" for i in range(1, rt_server.agent_count + 1)]
    assert all(email == f"{uid}@{rt_server.agent_domain}" for uid, email in seen)


def test_first_agent_page_links_the_next(rt):
    template, variables, client = rt
    response, _ = send(client, template, "UserAssociation", {**variables, "Page": 1, "PageSize": 2})
    body = response.json()
    assert body["per_page"] == 2 and body["page"] == 1 and body["pages"] >= 2
    assert "page=2" in body["next_page"]


def test_create_contact_then_find_it_by_phone(rt):
    template, variables, client = rt
    number = "+1666" + "".join(secrets.choice("0123456789") for _ in range(7))
    response, out = send(client, template, "CreateNewContact",
                         {**variables, "DisplayName": "Nina New", "BusinessNumber": number})
    assert response.status_code == 201, response.text
    assert out["ContactId"] == number
    _, found = send(client, template, "SyncContactAuto", {**variables, "Phone": number})
    assert found["ContactId"] == [number]
    assert found["FirstName"] == ["Nina New"]
    again, _ = send(client, template, "CreateNewContact",
                    {**variables, "DisplayName": "Nina New", "BusinessNumber": number})
    assert again.status_code == 400
    assert again.json()["message"] == "Name in use"


def test_agent_without_admin_rights_cannot_create_contacts(rt_server):
    response = httpx.post(f"{rt_server.api}/user", auth=(rt_server.agent_user, rt_server.agent_password),
                          json={"Name": "+16660000000", "RealName": "Nobody"})
    assert response.status_code == 400
    assert response.json()["message"] == "Permission Denied"


CALL = {"Communication_Type": "Inbound", "Call_From": "+15550101", "Call_To": "1001",
        "CallerNumber": "+15550101", "Time": "2026-11-25 14:05:00"}


def test_ticket_created_updated_and_call_logged(rt, rt_server):
    template, variables, client = rt
    call = {**variables, **CALL, "ContactId": "alice@example.com", "Owner": "agent2"}
    created, out = send(client, template, "CreateNewTicket", call)
    assert created.status_code == 201, created.text
    ticket_id = out["TicketId"]
    assert ticket_id.isdigit()
    updated, _ = send(client, template, "CreateNewTicket", {**call, "TicketId": ticket_id}, index=1)
    assert updated.status_code == 200, updated.text

    ticket = client.get(f"{rt_server.api}/ticket/{ticket_id}").json()
    assert ticket["Subject"] == "Inbound call from +15550101 to 1001"
    assert ticket["Status"] == "open"
    assert ticket["Owner"]["id"] == "agent2"
    assert [r["id"] for r in ticket["Requestor"]] == ["alice@example.com"]
    assert ticket["Queue"]["id"] == "1"

    ended = {**call, "TicketId": ticket_id, "Call_Status": "Answered", "StartTimeUnix": 1795615500,
             "Talk_Duration": "0:03:12", "Talk_Duration_Sec": 192, "RecordPath": ""}
    logged, _ = send(client, template, "CallJournal", ended)
    assert logged.status_code == 201, logged.text
    assert logged.json() == ["Comments added"]
    history = client.get(f"{rt_server.api}/ticket/{ticket_id}/history", params={"fields": "Type"}).json()
    assert "Comment" in [item["Type"] for item in history["items"]]


def test_ticket_without_contact_or_owner(rt, rt_server):
    template, variables, client = rt
    created, out = send(client, template, "CreateNewTicket", {**variables, **CALL, "ContactId": "", "Owner": ""})
    assert created.status_code == 201, created.text
    ticket = client.get(f"{rt_server.api}/ticket/{out['TicketId']}").json()
    assert ticket["Requestor"] == []
    assert ticket["Owner"]["id"] == "Nobody"


def test_call_journal_needs_a_ticket(rt):
    template, variables, client = rt
    response, _ = send(client, template, "CallJournal", {**variables, **CALL, "TicketId": ""})
    assert response is None   # the URL renders empty: the request is skipped


def test_comment_without_content_type_is_rejected(rt_server):
    """The quirk the template's ContentType field exists for."""
    response = httpx.post(f"{rt_server.api}/ticket/{rt_server.seed_ticket_id}/comment",
                          headers=rt_server.token_headers(), json={"Content": "no type"})
    assert response.status_code == 400
    assert "ContentType" in response.json()["message"]
