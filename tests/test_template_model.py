"""The template model: what the form, the runtime and the linter read from a template."""

from __future__ import annotations

from engine.template import load_template
from tests.conftest import DATA

FULL = DATA / "templates" / "full-oauth2.xml"
SKELETON = DATA / "templates" / "reconstructed-skeleton.xml"
MINIMAL = DATA / "templates" / "minimal-basic.xml"


def test_general_and_feature_switches():
    g = load_template(FULL).general
    assert (g.provider, g.name, g.key, g.logo, g.remark, g.version) == (
        "helpdesk", "Full Desk", "full_desk", "logo.png", "All sections", "2.1.0")
    assert g.auth_type == "oauth2" and g.max_concurrent == 8
    assert g.user_association and g.call_journal and g.create_new_contact and g.create_new_ticket
    m = load_template(MINIMAL).general
    assert not (m.user_association or m.call_journal) and m.max_concurrent is None


def test_oauth2_authentication():
    a = load_template(FULL).auth
    assert a.auth_type == a.method == "oauth2"
    assert a.auth_endpoint == "https://{{.domain}}/oauth/authorize?client_id={{.client_id}}"
    assert a.token_endpoint == a.refresh_token_endpoint == "https://{{.domain}}/oauth/token"
    assert (a.scope, a.token_type, a.pkce, a.no_need_refresh) == ("read write", "Bearer", True, False)
    assert a.token_invalid == ("invalid_token",)
    assert [(h.name, h.value) for h in a.headers] == [("Content-Type", "application/json"),
                                                      ("Accept", "application/json")]


def test_basic_authentication_and_custom_fields():
    t = load_template(MINIMAL)
    assert (t.auth.credential_type, t.auth.base64_credential) == ("api_key", "{{.api_key:}}")
    [field] = t.custom_fields
    assert (field.name, field.editor, field.secret, field.options) == ("api_key", "password", True, ())


def test_custom_fields_with_dropdown_options():
    fields = load_template(FULL).custom_fields
    assert [(f.name, f.editor) for f in fields] == [
        ("domain", "string"), ("client_id", "string"), ("client_secret", "password"), ("region", "dropdown")]
    assert fields[3].options == ("eu", "us", "apac") and fields[3].title == "Region"


def test_contact_search_requests_in_document_order_with_outputs_and_next():
    t = load_template(FULL)
    sc = t.scenario("SyncContactAuto")
    assert sc.contact_types == ("Contacts", "Organizations")
    contacts, orgs = sc.requests
    assert (contacts.method, contacts.url) == ("GET", "https://{{.domain}}/api/contacts?phone={{UrlEncode .Phone}}")
    assert [(h.name, h.value) for h in contacts.headers] == [("X-Region", "{{.region}}")]
    assert [(q.name, q.value) for q in contacts.query] == [("limit", "5")]
    assert contacts.body is None and contacts.next == "ContactPhones"
    assert contacts.output_map()["BusinessNumber"] == "contacts.#.phone,contacts.#.work_phone"
    assert orgs.output_map()["ContactId"] == "orgs.#.id"  # ContactsId alias
    assert orgs.outputs[0].name == "ContactsId" and orgs.outputs[0].field == "ContactId"
    assert t.common_request("ContactPhones").output_map() == {"MobileNumber": 'phones.#(type=="mobile")#|0.value'}
    assert t.common_request("Nope") is None


def test_popup_and_enabled_fields():
    t = load_template(FULL)
    popup = t.scenario("SyncContactAuto").popup
    assert (popup.kind, popup.url_format) == ("specify_url_format",
                                              "https://{{.domain}}/agent/{{.ContactSyncType}}/{{.ContactId}}")
    assert t.scenario("SyncContactAuto").enabled_fields == {
        "ContactId", "FirstName", "LastName", "MobileNumber", "BusinessNumber"}
    search = t.scenario("SearchContact").popup
    assert (search.kind, search.field_path) == ("contact_field", "contacts.0.url")
    assert "ContactId" in load_template(SKELETON).scenario("SyncContactAuto").enabled_fields  # ContactsIdEnable


def test_user_association_pagination():
    pg = load_template(FULL).scenario("UserAssociation").pagination
    assert (pg.mode, pg.page_size, pg.first_page, pg.max_pages, pg.next_path) == ("page", 50, 1, 20, "")
    assert load_template(SKELETON).scenario("UserAssociation").pagination is None


def test_call_journal_and_ticket_parameters():
    t = load_template(FULL)
    cj = t.scenario("CallJournal")
    assert cj.subject_enabled and not cj.description_enabled
    assert cj.subject == "{{.Communication_Type}} call {{.Call_Status}}"
    assert cj.play_recording_enabled and not cj.play_recording and cj.need_sync_contact
    assert cj.requests[0].body.startswith('{"contact":"{{.ContactId}}"')
    tk = t.scenario("CreateNewTicket")
    assert tk.ticket_timing == "ring"
    assert [r.name for r in tk.requests] == ["CreateTicket", "UpdateTicket"]
    assert tk.requests[1].method == "PATCH" and tk.requests[1].url.endswith("{{.TicketId}}")
    assert [(p.name, p.title, p.value) for p in tk.custom_parameters] == [("DepartmentId", "Department", "7")]
    assert load_template(SKELETON).scenario("CreateNewTicket").ticket_timing == "after_call"


def test_locations_point_at_elements_and_attribute_values():
    t = load_template(FULL)
    req = t.scenario("SyncContactAuto").requests[0]
    assert (req.location.line, req.location.col) == (62, 9)
    assert req.location.field == "Scenario[SyncContactAuto]/Request[Contacts]"
    where = t.where(req.ref, "URLFormat")
    lines = FULL.read_text().splitlines()
    assert where.line == 63 and lines[62][where.col - 1:].startswith("https://{{.domain}}/api/contacts?phone")
    assert where.field.endswith("Request[Contacts]@URLFormat")
    assert t.custom_fields[3].location.line == 24


def test_feature_enabled_needs_flag_and_scenario():
    t = load_template(SKELETON)
    assert t.feature_enabled("CallJournal")
    assert not t.feature_enabled("CreateNewContact")  # flag on, scenario missing
