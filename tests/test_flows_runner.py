"""The shared request runner and the scenario modules against a scripted helpdesk (httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import httpx
import pytest

from engine.flows import CallInfo
from engine.http import HttpSettings, RetryPolicy
from engine.integration import Integration, IntegrationSettings
from engine.numbers import NumberPlan
from engine.template import parse_template

FAST = HttpSettings(trust_env=False, retry=RetryPolicy(base_delay=0.001, max_delay=0.002))


def template(scenarios: str, *, auth: str = "none", auth_params: str = "", flags: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Information Provider="helpdesk" Name="Scripted" Key="scripted" Version="1.0.0" AuthType="{auth}" {flags}>
  <Scenarios>
    <Scenario Id="AuthMethod" Type="AUTH">
      <Parameters>
        <Parameter Name="AuthMethod" Value="{auth}" />
        <Parameter Father="CustomFieldList" Name="base" Editor="string" Title="URL" Key="base" />
        <Parameter Father="CustomFieldList" Name="api_key" Editor="password" Title="API key" Key="api_key" />
        <Parameter Father="PopulateTemplateString" Name="Accept" Type="Header" Value="application/json" />
        {auth_params}
      </Parameters>
    </Scenario>
{scenarios}
  </Scenarios>
</Information>""".encode()


class Helpdesk:
    """A scripted helpdesk: routes by (method, path) to functions; records every request."""

    def __init__(self, routes):
        self.routes = routes
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request):
        self.seen.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"message": "Not Found"})
        return handler(request)


def connect(xml: bytes, helpdesk: Helpdesk, values=None, **kw) -> Integration:
    values = {"base": "https://hd.test", "api_key": "k-secret-value-42", **(values or {})}
    settings = IntegrationSettings(http=FAST, **kw)
    return Integration(parse_template(xml, "scripted.xml"), values, settings,
                       transport=httpx.MockTransport(helpdesk))


def q(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}


SEARCH = """
    <Scenario Id="SyncContactAuto" Type="REST">
      <Parameters>
        <Parameter Name="ContactUrlType" Value="specify_url_format" />
        <Parameter Name="URLFormat" Value="{{.base}}/show/{{.ContactSyncType}}/{{.ContactId}}?n={{UrlEncode .CallerNumber}}" />
      </Parameters>
      <Requests>
        <Request Name="Contacts" Method="GET" URLFormat="{{.base}}/contacts?phone={{UrlEncode .Phone}}&amp;key={{.api_key}}">
          <Outputs Next="Phones">
            <Output Name="ContactsId" Path="items.#.id" />
            <Output Name="FirstName" Path="items.#.name" />
          </Outputs>
        </Request>
        <Request Name="Leads" Method="GET" URLFormat="{{.base}}/leads?phone={{UrlEncode .Phone}}&amp;type={{.ContactSyncType}}">
          <Outputs>
            <Output Name="ContactId" Path="leads.#.id" />
            <Output Name="FirstName" Path="leads.#.first" />
          </Outputs>
        </Request>
      </Requests>
    </Scenario>
    <Scenario Id="Common" Type="REST">
      <Requests>
        <Request Name="Phones" Method="GET" URLFormat="{{.base}}/contacts/{{.ContactsId}}/phones">
          <Outputs>
            <Output Name="MobileNumber" Path="phones.#(type==&quot;mobile&quot;).number" />
          </Outputs>
        </Request>
      </Requests>
    </Scenario>"""


def national_only_helpdesk() -> Helpdesk:
    """Contacts are stored as national numbers and matched exactly (like many real helpdesks)."""
    def contacts(request):
        if q(request)["phone"] == "030123456":
            return httpx.Response(200, json={"items": [{"id": "7", "name": "Nina"}, {"id": "8", "name": "Otto"}]})
        return httpx.Response(200, json={"items": []})

    def leads(request):
        if q(request)["phone"] == "030123456":
            assert q(request)["type"] == "Leads"
            return httpx.Response(200, json={"leads": [{"id": "L1", "first": "Lena"}]})
        return httpx.Response(200, json={"leads": []})

    def phones(request):
        cid = request.url.path.split("/")[2]
        return httpx.Response(200, json={"phones": [{"type": "work", "number": "1"},
                                                    {"type": "mobile", "number": f"+49170{cid}"}]})

    return Helpdesk({("GET", "/contacts"): contacts, ("GET", "/leads"): leads,
                     ("GET", "/contacts/7/phones"): phones, ("GET", "/contacts/8/phones"): phones})


async def test_variants_per_contact_type_next_per_record_and_popup():
    helpdesk = national_only_helpdesk()
    async with connect(template(SEARCH), helpdesk, numbers=NumberPlan(country_code="49")) as hd:
        found = await hd.search_contacts("+49 30 123456")
    assert found.ok
    assert [(c.variant, c.value) for c in found.tried] == [
        ("as_received", "+49 30 123456"), ("e164", "+4930123456"), ("national", "030123456")]
    assert found.variant.variant == "national"
    assert [(m.contact_type, m.id, m.fields["FirstName"]) for m in found.matches] == [
        ("Contacts", "7", "Nina"), ("Contacts", "8", "Otto"), ("Leads", "L1", "Lena")]
    # Next ran once per record, with that record's ContactsId in scope, and filled MobileNumber
    assert [m.fields.get("MobileNumber") for m in found.matches[:2]] == ["+491707", "+491708"]
    assert found.matches[0].fields["ContactsId"] == "7"
    assert found.matches[0].popup_url == "https://hd.test/show/Contacts/7?n=%2B49%2030%20123456"
    assert found.matches[2].popup_url.startswith("https://hd.test/show/Leads/L1")
    # the custom password field never appears in a trace
    text = " ".join(t.url + t.as_curl() for t in found.traces)
    assert "k-secret-value-42" not in text and "key=***" in text


ORDERED = """
    <Scenario Id="CreateNewTicket" Type="REST">
      <Parameters>
        <Parameter Name="Subject" Value="Call {{.Call_From}}" />
        <Parameter Name="CreateTicketAt" Value="ring" />
        <Parameter Father="CustomScenarioParameter" Name="DepartmentId" Value="5" />
      </Parameters>
      <Requests>
        <Request Name="Create" Method="POST" URLFormat="{{.base}}/tickets?src=pbx%2Fdesk">
          <Parameters>
            <Parameter Name="X-Request-Source" Type="Header" Value="deskline {{.Extension}}" />
            <Parameter Name="dept" Type="Query" Value="{{.DepartmentId}}" />
            <Parameter Name="Data" Type="Body" Value="{&quot;subject&quot;:&quot;{{.Subject}}&quot;,&quot;status&quot;:&quot;{{.Call_Status}}&quot;}" />
          </Parameters>
          <Outputs><Output Name="TicketId" Path="ticket.id" /></Outputs>
        </Request>
        <Request Name="Skipped" Method="POST" URLFormat="{{if .NoSuchThing}}{{.base}}/never{{end}}" />
        <Request Name="Update" Method="PATCH" URLFormat="{{.base}}/tickets/{{.TicketId}}">
          <Parameters>
            <Parameter Name="Data" Type="Body" Value="{&quot;status&quot;:&quot;{{.Call_Status}}&quot;,&quot;talk&quot;:&quot;{{.Talk_Duration}}&quot;}" />
          </Parameters>
        </Request>
      </Requests>
    </Scenario>"""


async def test_ticket_at_ring_then_update_after_the_call_with_the_ticket_id_in_scope():
    bodies = []

    def create(request):
        bodies.append(("create", request.url.query.decode(), request.headers.get("x-request-source"),
                       json.loads(request.content)))
        return httpx.Response(201, json={"ticket": {"id": 99}})

    def update(request):
        bodies.append(("update", None, None, json.loads(request.content)))
        return httpx.Response(200, json={})

    helpdesk = Helpdesk({("POST", "/tickets"): create, ("PATCH", "/tickets/99"): update})
    async with connect(template(ORDERED), helpdesk) as hd:
        call = hd.new_call(CallInfo("+15550100", "1001", extension="1001", status="Answered", talk_seconds=61,
                                    start_time=1_795_600_000))
        at_ring = await hd.ticket_at_ring(call)
        assert at_ring.ok, at_ring.error
        assert call.variables["TicketId"] == "99"
        assert [b[0] for b in bodies] == ["create"]
        after = await hd.ticket_after_call(call)
        assert after.ok, after.error
    kind, query, header, body = bodies[0]
    assert query == "src=pbx%2Fdesk&dept=5" and header == "deskline 1001"  # the URL's own query kept as written
    assert body == {"subject": "Call +15550100", "status": ""}  # outcome unknown while ringing
    assert bodies[1] == ("update", None, None, {"status": "Answered", "talk": "0:01:01"})
    assert [o.request.name for o in after.outcomes] == ["Skipped", "Update"]
    assert after.outcomes[0].skipped and after.outcomes[0].trace.skipped


async def test_a_failing_request_ends_the_scenario_and_is_named_with_its_location():
    def create(request):
        return httpx.Response(422, json={"message": "subject is required"})

    helpdesk = Helpdesk({("POST", "/tickets"): create})
    async with connect(template(ORDERED), helpdesk) as hd:
        call = hd.new_call(CallInfo("+15550100", "1001"))
        result = await hd.ticket_after_call(call)
    assert not result.ok
    err = result.error
    assert err.request == "Create" and err.status == 422
    assert "CreateNewTicket: request 'Create' failed with HTTP 422" in str(err) and "subject is required" in str(err)
    assert err.location.file == "scripted.xml" and err.location.line > 0
    assert len(helpdesk.seen) == 1  # the update never ran
    assert "TicketId" not in call.variables


async def test_transport_errors_name_the_request():
    def boom(request):
        raise httpx.ConnectError("connection refused", request=request)

    async with connect(template(ORDERED), Helpdesk({("POST", "/tickets"): boom})) as hd:
        result = await hd.ticket_after_call(hd.new_call(CallInfo("+1555", "1")))
    assert "request 'Create' could not be sent: cannot connect" in str(result.error)


async def test_template_errors_in_a_request_are_located():
    bad = ORDERED.replace("{{.base}}/tickets?", "{{.base}/tickets?", 1)
    async with connect(template(bad), Helpdesk({})) as hd:
        result = await hd.ticket_after_call(hd.new_call(CallInfo("+1555", "1")))
    assert not result.ok and "request 'Create' cannot be rendered" in str(result.error)


TOKEN_INVALID = """
    <Scenario Id="SearchContact" Type="REST">
      <Requests>
        <Request Name="Find" Method="GET" URLFormat="{{.base}}/find?q={{UrlEncode .SearchValue}}">
          <Outputs><Output Name="ContactId" Path="items.#.id" /><Output Name="FirstName" Path="items.#.n" /></Outputs>
        </Request>
      </Requests>
    </Scenario>"""
BEARER = '<Parameter Name="TokenType" Value="Bearer" /><Parameter Father="CustomFieldList" Name="token" Editor="password" Title="T" Key="token" />' \
         '<Parameter Father="TokenErrorMap" Type="TokenInvalid" Name="TokenInvalid" Value="invalid_token" />'


class CountingRefresh:
    """Wraps an authenticator: counts refreshes and switches to a new token."""

    def __init__(self, auth, new_token, allow=True):
        self.inner, self.new_token, self.allow, self.calls = auth, new_token, allow, 0
        self.kind = "bearer"

    async def authorize(self, request):
        await self.inner.authorize(request)

    async def refresh(self, reason, request=None):
        self.calls += 1
        if self.allow:
            self.inner.token = self.new_token
        return self.allow

    def health(self):
        return self.inner.health()


@pytest.mark.parametrize("refusal", [
    lambda: httpx.Response(200, json={"error": "invalid_token"}),  # the template's TokenInvalid text
    lambda: httpx.Response(401, json={"message": "Unauthorized"}),
])
async def test_token_errors_refresh_once_and_retry(refusal):
    def find(request):
        if request.headers["authorization"] == "Bearer fresh-token-1":
            return httpx.Response(200, json={"items": [{"id": "1", "n": "Ann"}]})
        return refusal()

    helpdesk = Helpdesk({("GET", "/find"): find})
    async with connect(template(TOKEN_INVALID, auth="bearer", auth_params=BEARER), helpdesk,
                       values={"token": "stale-token-1"}) as hd:
        hd.runtime.auth = counting = CountingRefresh(hd.auth, "fresh-token-1")
        found = await hd.search("Ann")
    assert found.ok and found.chosen.fields["FirstName"] == "Ann"
    assert counting.calls == 1
    assert len(helpdesk.seen) == 2
    assert "credentials refreshed" in found.traces[0].notes[0]


async def test_token_error_after_refresh_is_reported_not_looped():
    helpdesk = Helpdesk({("GET", "/find"): lambda r: httpx.Response(401, json={})})
    async with connect(template(TOKEN_INVALID, auth="bearer", auth_params=BEARER), helpdesk,
                       values={"token": "stale-token-1"}) as hd:
        hd.runtime.auth = counting = CountingRefresh(hd.auth, "also-bad-token")
        found = await hd.search("Ann")
    assert not found.ok and counting.calls == 1 and len(helpdesk.seen) == 2
    assert "refused (HTTP 401)" in str(found.errors[0])


async def test_static_token_401_is_not_retried():
    helpdesk = Helpdesk({("GET", "/find"): lambda r: httpx.Response(401, json={})})
    async with connect(template(TOKEN_INVALID, auth="bearer", auth_params=BEARER), helpdesk,
                       values={"token": "stale-token-1"}) as hd:
        found = await hd.search("Ann")
    assert not found.ok and len(helpdesk.seen) == 1
    assert "stale-token-1" not in str(found.errors[0]) + repr(found.traces)


async def test_basic_auth_from_the_credential_format():
    seen = []

    def find(request):
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"items": []})

    params = ('<Parameter Name="CredentialType" Value="username_password" />'
              '<Parameter Name="Base64EncodedCredential" Value="{{.username:.password}}" />'
              '<Parameter Father="CustomFieldList" Name="username" Editor="string" Title="U" Key="username" />'
              '<Parameter Father="CustomFieldList" Name="password" Editor="password" Title="P" Key="password" />')
    async with connect(template(TOKEN_INVALID, auth="basic", auth_params=params), Helpdesk({("GET", "/find"): find}),
                       values={"username": "root", "password": "rootpass123"}) as hd:
        found = await hd.search("x")
    assert seen == ["Basic " + base64.b64encode(b"root:rootpass123").decode()]
    assert "rootpass123" not in repr(found.traces)
    assert base64.b64encode(b"root:rootpass123").decode() not in repr(found.traces)


def users_scenario(mode: str, extra: str = "", url: str = "{{.base}}/users?page={{.Page}}&amp;size={{.PageSize}}&amp;offset={{.Offset}}&amp;cursor={{.Cursor}}") -> str:
    return f"""
    <Scenario Id="UserAssociation" Type="REST">
      <Parameters>
        <Parameter Father="Pagination" Name="Mode" Value="{mode}" />
        <Parameter Father="Pagination" Name="PageSize" Value="2" />
        {extra}
      </Parameters>
      <Requests>
        <Request Name="GetUsers" Method="GET" URLFormat="{url}">
          <Outputs>
            <Output Name="UserUniqueId" Path="users.#.id" />
            <Output Name="Email" Path="users.#.mail" />
          </Outputs>
        </Request>
      </Requests>
    </Scenario>"""


ALL_USERS = [{"id": f"u{i}", "mail": f"u{i}@hd.test"} for i in range(1, 6)]


async def test_page_mode_stops_on_a_short_page():
    def users(request):
        page = int(q(request)["page"])
        return httpx.Response(200, json={"users": ALL_USERS[(page - 1) * 2: page * 2]})

    helpdesk = Helpdesk({("GET", "/users"): users})
    async with connect(template(users_scenario("page", '<Parameter Father="Pagination" Name="FirstPage" Value="1" />')),
                       helpdesk) as hd:
        result = await hd.fetch_users()
    assert [u.id for u in result.users] == ["u1", "u2", "u3", "u4", "u5"]
    assert result.pages == 3 and [q(r)["page"] for r in helpdesk.seen] == ["1", "2", "3"]


async def test_offset_mode_stops_on_an_empty_page():
    def users(request):
        off = int(q(request)["offset"])
        return httpx.Response(200, json={"users": ALL_USERS[off: off + 2] if off < 4 else []})

    helpdesk = Helpdesk({("GET", "/users"): users})
    async with connect(template(users_scenario("offset")), helpdesk) as hd:
        result = await hd.fetch_users()
    assert len(result.users) == 4 and [q(r)["offset"] for r in helpdesk.seen] == ["0", "2", "4"]


async def test_cursor_mode_follows_the_next_cursor():
    def users(request):
        cursor = q(request).get("cursor", "")
        start = int(cursor or 0)
        nxt = str(start + 2) if start + 2 < 5 else None
        return httpx.Response(200, json={"users": ALL_USERS[start:start + 2], "meta": {"next": nxt}})

    helpdesk = Helpdesk({("GET", "/users"): users})
    async with connect(template(users_scenario("cursor", '<Parameter Father="Pagination" Name="NextPath" Value="meta.next" />')),
                       helpdesk) as hd:
        result = await hd.fetch_users()
    assert len(result.users) == 5 and [q(r).get("cursor", "") for r in helpdesk.seen] == ["", "2", "4"]


async def test_link_mode_follows_relative_links():
    def users(request):
        page = int(q(request).get("p", "1"))
        nxt = f"/users?p={page + 1}" if page < 3 else None
        return httpx.Response(200, json={"users": ALL_USERS[(page - 1) * 2: page * 2], "next": nxt})

    helpdesk = Helpdesk({("GET", "/users"): users})
    xml = template(users_scenario("link", '<Parameter Father="Pagination" Name="NextPath" Value="next" />',
                                  url="{{.base}}/users"))
    async with connect(xml, helpdesk) as hd:
        result = await hd.fetch_users()
    assert len(result.users) == 5
    assert [str(r.url) for r in helpdesk.seen] == ["https://hd.test/users", "https://hd.test/users?p=2",
                                                   "https://hd.test/users?p=3"]


async def test_max_pages_guard_warns():
    def users(request):
        page = int(q(request)["page"])
        return httpx.Response(200, json={"users": [{"id": f"p{page}a"}, {"id": f"p{page}b"}]})

    helpdesk = Helpdesk({("GET", "/users"): users})
    xml = template(users_scenario("page", '<Parameter Father="Pagination" Name="MaxPages" Value="3" />'))
    async with connect(xml, helpdesk) as hd:
        result = await hd.fetch_users()
    assert len(helpdesk.seen) == 3 and len(result.users) == 6
    assert "MaxPages=3" in result.warnings[0]


async def test_a_helpdesk_that_ignores_paging_is_detected():
    helpdesk = Helpdesk({("GET", "/users"): lambda r: httpx.Response(200, json={"users": ALL_USERS[:2]})})
    async with connect(template(users_scenario("page")), helpdesk) as hd:
        result = await hd.fetch_users()
    assert len(helpdesk.seen) == 2 and len(result.users) == 2
    assert "repeated the previous page" in result.warnings[0]


async def test_popup_from_a_contact_field():
    xml = template("""
    <Scenario Id="SyncContactAuto" Type="REST">
      <Parameters>
        <Parameter Name="ContactUrlType" Value="contact_field" />
        <Parameter Name="ContactFieldForUri" Value="items.#.web_url" />
      </Parameters>
      <Requests>
        <Request Name="Contacts" Method="GET" URLFormat="{{.base}}/c?phone={{UrlEncode .Phone}}">
          <Outputs><Output Name="ContactId" Path="items.#.id" /><Output Name="FirstName" Path="items.#.n" /></Outputs>
        </Request>
      </Requests>
    </Scenario>""")
    helpdesk = Helpdesk({("GET", "/c"): lambda r: httpx.Response(200, json={"items": [
        {"id": "1", "n": "A", "web_url": "https://hd.test/ui/1"}, {"id": "2", "n": "B", "web_url": "https://hd.test/ui/2"}]})})
    async with connect(xml, helpdesk) as hd:
        found = await hd.search_contacts("+15550100")
    assert [m.popup_url for m in found.matches] == ["https://hd.test/ui/1", "https://hd.test/ui/2"]


async def test_records_without_a_contact_id_are_dropped_with_a_note():
    xml = template(TOKEN_INVALID)
    helpdesk = Helpdesk({("GET", "/find"): lambda r: httpx.Response(200, json={"items": [{"id": "1", "n": "A"}, {"n": "B"}]})})
    async with connect(xml, helpdesk) as hd:
        found = await hd.search("A")
    assert [m.id for m in found.matches] == ["1"]
    assert any("dropped" in n for n in found.traces[0].notes)


JOURNAL_VARS = ("Owner", "WhoModule", "ContactId", "TicketId", "Subject", "Description", "RecordPath",
                "StartTimeUnix", "Time", "Call_From", "Call_To", "CallerNumber", "CalleeNumber",
                "Communication_Type", "Call_Status", "Call_Log_Status", "Talk_Duration", "Talk_Duration_Sec",
                "Ring_Duration_Sec", "Extension", "ContactNumber", "redirect_uri", "base")


async def test_the_journal_body_sees_every_variable_of_the_spec():
    body = "{" + ",".join(f"&quot;{v}&quot;:&quot;{{{{.{v}}}}}&quot;" for v in JOURNAL_VARS) + "}"
    xml = template(f"""
    <Scenario Id="CallJournal" Type="REST">
      <Parameters>
        <Parameter Name="EnableSubject" Value="1" />
        <Parameter Name="Subject" Value="{{{{.Communication_Type}}}} {{{{.Call_Status}}}}" />
        <Parameter Name="EnableDescription" Value="1" />
        <Parameter Name="Description" Value="{{{{.Subject}}}} / {{{{.Talk_Duration}}}}" />
        <Parameter Name="EnablePlayCallRecording" Value="1" />
        <Parameter Name="PlayCallRecording" Value="1" />
      </Parameters>
      <Requests>
        <Request Name="Log" Method="POST" URLFormat="{{{{.base}}}}/log">
          <Parameters><Parameter Name="Data" Type="Body" Value="{body}" /></Parameters>
        </Request>
      </Requests>
    </Scenario>""")
    sent = []
    helpdesk = Helpdesk({("POST", "/log"): lambda r: (sent.append(json.loads(r.content)), httpx.Response(201))[1]})
    from engine.flows import ContactMatch

    async with connect(xml, helpdesk) as hd:
        call = hd.new_call(CallInfo("+15550100", "1001", extension="1001", status="Busy", start_time=1_795_600_000,
                                    talk_seconds=5, ring_seconds=7, record_path="https://pbx/rec.wav"))
        call.owner = "u9"
        call.contact = ContactMatch("Contacts", {"ContactId": "c5", "FirstName": "Ann"})
        call.remember({"TicketId": "T1"})
        result = await hd.write_journal(call)
    assert result.ok, result.error
    got = sent[0]
    assert all(got[v] != "" for v in JOURNAL_VARS), {v: got[v] for v in JOURNAL_VARS if not got[v]}
    assert got["Subject"] == "Inbound Busy" and got["Description"] == "Inbound Busy / 0:00:05"
    assert got["WhoModule"] == "Contacts" and got["Owner"] == "u9" and got["TicketId"] == "T1"
    assert got["redirect_uri"] == "http://127.0.0.1:8765/callback"


async def test_recording_link_is_left_out_when_the_option_is_off():
    xml = template("""
    <Scenario Id="CallJournal" Type="REST">
      <Parameters>
        <Parameter Name="EnablePlayCallRecording" Value="1" />
        <Parameter Name="PlayCallRecording" Value="0" />
      </Parameters>
      <Requests>
        <Request Name="Log" Method="POST" URLFormat="{{.base}}/log">
          <Parameters><Parameter Name="Data" Type="Body" Value="{&quot;rec&quot;:&quot;{{.RecordPath}}&quot;}" /></Parameters>
        </Request>
      </Requests>
    </Scenario>""")
    sent = []
    helpdesk = Helpdesk({("POST", "/log"): lambda r: (sent.append(json.loads(r.content)), httpx.Response(201))[1]})
    async with connect(xml, helpdesk) as hd:
        await hd.write_journal(hd.new_call(CallInfo("+1555", "1", record_path="https://pbx/rec.wav")))
    assert sent == [{"rec": ""}]


async def test_json_bodies_stay_valid_whatever_the_values():
    """Quotes, backslashes and newlines in a value are escaped inside a JSON string (json context)."""
    xml = template(ORDERED)
    sent = []

    def create(request):
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"ticket": {"id": 1}})

    helpdesk = Helpdesk({("POST", "/tickets"): create, ("PATCH", "/tickets/1"): lambda r: httpx.Response(200)})
    async with connect(xml, helpdesk) as hd:
        result = await hd.ticket_after_call(hd.new_call(CallInfo('+1 "555" \\ x', "1")),
                                            subject='He said "hi"\nthen left')
    assert result.ok, result.error
    assert sent[0]["subject"] == 'He said "hi"\nthen left'


async def test_token_invalid_text_inside_the_data_is_not_a_token_error():
    body = {"items": [{"id": "1", "n": "Ann", "remark": "said invalid_token on the phone"}]}
    helpdesk = Helpdesk({("GET", "/find"): lambda r: httpx.Response(200, json=body)})
    async with connect(template(TOKEN_INVALID, auth="bearer", auth_params=BEARER), helpdesk,
                       values={"token": "good-token-1"}) as hd:
        hd.runtime.auth = counting = CountingRefresh(hd.auth, "other-token")
        found = await hd.search("Ann")
    assert found.ok and found.chosen.id == "1" and counting.calls == 0 and len(helpdesk.seen) == 1


async def test_search_deadline_stops_trying_variants():
    import asyncio as aio

    async def slow(request):
        await aio.sleep(0.05)
        return httpx.Response(200, json={"items": []})

    helpdesk = Helpdesk({("GET", "/contacts"): slow, ("GET", "/leads"): slow})
    async with connect(template(SEARCH), helpdesk, numbers=NumberPlan(country_code="49"), search_deadline=0.01) as hd:
        found = await hd.search_contacts("+49 30 123456")
    assert found.stopped_early and len(found.tried) == 1 and not found.found


async def test_a_redirect_is_reported_with_its_target():
    helpdesk = Helpdesk({("GET", "/find"): lambda r: httpx.Response(301, headers={"Location": "https://new.test/find"})})
    async with connect(template(TOKEN_INVALID), helpdesk) as hd:
        found = await hd.search("x")
    assert "HTTP 301: redirected to https://new.test/find" in str(found.errors[0])


async def test_an_unfilled_custom_field_is_named_when_the_url_is_not_absolute():
    async with connect(template(TOKEN_INVALID), Helpdesk({}), values={"base": ""}) as hd:
        found = await hd.search("x")
    message = str(found.errors[0])
    assert "is not an absolute http(s) URL (custom field not filled in: base)" in message
    assert "scripted.xml:" in message
