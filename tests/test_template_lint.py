"""The linter: located, useful findings on broken templates; clean on good ones."""

from __future__ import annotations

import json

import pytest

from engine.template import load_template, parse_template
from engine.template import lint as lint_module
from engine.template.findings import Severity
from engine.template.lint import exit_code, lint_file, lint_template
from tests.conftest import DATA

TEMPLATES = DATA / "templates"
FULL_TEXT = (TEMPLATES / "full-oauth2.xml").read_text()


def lint_text(text: str, file: str = "t.xml"):
    return lint_template(parse_template(text.encode(), file))


def problems(findings, severity=None):
    return [f for f in findings if f.severity is not Severity.INFO and (severity is None or f.severity is severity)]


def codes(findings):
    return sorted({f.code for f in problems(findings)})


def edit(old: str, new: str, text: str = FULL_TEXT) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("name", ["full-oauth2.xml", "minimal-basic.xml"])
def test_good_templates_are_clean(name):
    findings = lint_file(TEMPLATES / name)
    assert problems(findings) == []
    assert exit_code(findings, strict=True) == 0


def test_skeleton_reports_the_missing_create_contact_scenario():
    findings = lint_file(TEMPLATES / "reconstructed-skeleton.xml")
    errors = problems(findings, Severity.ERROR)
    assert [(f.code, f.location.line, f.location.field) for f in errors] == [
        ("missing-scenario", 9, "Information@CreateNewContact")]
    assert exit_code(findings) == 2


def test_fragments_file_is_not_a_template():
    [f] = lint_file(TEMPLATES / "official-fragments.xml")
    assert (f.severity, f.code, f.location.line) == (Severity.ERROR, "root", 29)


def test_xml_errors_become_one_located_finding(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<Information>\n <Output Name="x" Path="a.#(b=="c")#"/>\n</Information>')
    [f] = lint_file(bad)
    assert (f.code, f.location.file, f.location.line) == ("xml-raw-quote", str(bad), 2)
    assert "&quot;" in f.message
    assert str(f).startswith(f"{bad}:2:")


def test_whole_file_finding_prints_no_line_zero(tmp_path):
    big = tmp_path / "big.xml"
    big.write_bytes(b"<Information>" + b" " * (1 << 20) + b"</Information>")
    [f] = lint_file(big)
    assert (f.code, f.location.line) == ("xml-size", 0)
    assert str(f).startswith(f"{big}: error: file is ")


def test_missing_required_sections():
    text = edit('<Scenario Id="AuthMethod" Type="AUTH">', '<Scenario Id="AuthMethodX" Type="AUTH">')
    text = text.replace('Id="SyncContactAuto"', 'Id="Other1"').replace('Id="SearchContact"', 'Id="Other2"')
    found = lint_text(text)
    missing = [f for f in found if f.code == "missing-scenario"]
    assert len(missing) == 2 and all(f.severity is Severity.ERROR for f in missing)
    assert "unknown-scenario" in codes(found)


def test_missing_information_attributes_and_bad_values():
    text = edit('Provider="helpdesk" Name="Full Desk" Key="full_desk"', 'Provider="shop" Key="full desk"')
    text = edit('AuthType="oauth2"', 'AuthType="kerberos"', text)
    found = lint_text(text)
    by_code = {(f.code, f.location.field) for f in problems(found)}
    assert ("missing-attribute", "Information@Name") in by_code
    assert ("invalid-value", "Information@Provider") in by_code
    assert ("invalid-value", "Information@AuthType") in by_code
    assert ("invalid-value", "Information@Key") in by_code


@pytest.mark.parametrize("value, ok", [("1", True), ("50", True), ("0", False), ("51", False), ("ten", False),
                                       ("", False)])
def test_max_concurrent_request_range(value, ok):
    found = lint_text(edit('MaxConcurrentRequest="8"', f'MaxConcurrentRequest="{value}"'))
    hits = [f for f in found if f.code == "out-of-range"]
    assert (hits == []) == ok
    if hits:
        assert hits[0].location.field == "Information@MaxConcurrentRequest" and hits[0].location.line == 4


def test_feature_flag_without_scenario_is_located_on_the_flag():
    text = FULL_TEXT
    start = text.index('    <Scenario Id="CallJournal"')
    end = text.index("</Scenario>", start) + len("</Scenario>\n")
    found = lint_text(text[:start] + text[end:])
    [f] = [f for f in found if f.code == "missing-scenario"]
    assert f.location.field == "Information@CallJournal" and f.location.line == 5


def test_more_than_five_custom_fields():
    extra = "".join(f'        <Parameter Father="CustomFieldList" Name="f{i}" Editor="string" Title="F{i}" />\n'
                    for i in range(2))
    text = edit('        <Parameter Father="PopulateTemplateString" Name="Content-Type"',
                extra + '        <Parameter Father="PopulateTemplateString" Name="Content-Type"')
    [f] = [f for f in lint_text(text) if f.code == "too-many-fields"]
    assert f.severity is Severity.ERROR and f.location.field.endswith("Parameter[f1]")
    assert f.location.line == line_of(text, 'Name="f1"')


def test_duplicate_invalid_and_shadowing_field_names():
    text = edit('Name="client_id" Editor="string"', 'Name="domain" Editor="string"')
    text = edit('Name="region" Editor="dropdown"', 'Name="2fast" Editor="dropdown"', text)
    text = edit('Name="client_secret" Editor="password"', 'Name="Phone" Editor="password"', text)
    found = lint_text(text)
    assert {"duplicate-name", "invalid-name", "shadowed-variable"} <= set(codes(found))
    dup = next(f for f in found if f.code == "duplicate-name")
    assert dup.location.line == line_of(text, 'Name="domain" Editor="string" Title="Client ID"')


def test_dropdown_without_options_and_unknown_editor():
    text = edit('Key="region" Value="eu,us,apac"', 'Key="region" Value=" , "')
    text = edit('Name="client_id" Editor="string"', 'Name="client_id" Editor="checkbox"', text)
    found = lint_text(text)
    assert "dropdown-options" in codes(found)
    bad_editor = next(f for f in found if f.code == "invalid-value" and "Editor" in f.message)
    assert bad_editor.location.field.endswith("@Editor")


def test_password_field_with_a_value_warns():
    text = edit('Title="Client Secret" Key="client_secret"', 'Title="Client Secret" Key="client_secret" Value="s3"')
    f = next(f for f in lint_text(text) if f.code == "secret-in-template")
    assert "s3" not in f.message


def test_oauth2_needs_its_endpoints():
    text = edit('<Parameter Name="TokenEndPoint" Value="https://{{.domain}}/oauth/token" />', "")
    [f] = [f for f in lint_text(text) if f.code == "missing-parameter"]
    assert "TokenEndPoint" in f.message and f.severity is Severity.ERROR


def test_basic_credential_type_checked():
    text = (TEMPLATES / "minimal-basic.xml").read_text().replace('Value="api_key"/>', 'Value="token"/>')
    assert "invalid-value" in codes(lint_text(text))


def test_request_checks_method_url_next_and_names():
    text = edit('<Request Name="Organizations" Method="GET"', '<Request Name="" Method="FETCH"')
    text = edit('<Outputs Next="ContactPhones">', '<Outputs Next="Missing">', text)
    text = edit('URLFormat="https://{{.domain}}/api/calls"', 'URLFormat=""', text)
    found = lint_text(text)
    c = codes(found)
    assert {"invalid-value", "missing-attribute", "unknown-next", "missing-url"} <= set(c)
    nxt = next(f for f in found if f.code == "unknown-next")
    assert nxt.location.field.endswith("@Next") and nxt.location.line == line_of(text, 'Next="Missing"')


def test_literal_urls_are_checked_without_the_expression_engine():
    text = (TEMPLATES / "minimal-basic.xml").read_text().replace(
        'URLFormat="http://127.0.0.1:8080/contacts?phone={{.Phone}}"', 'URLFormat="ftp:/contacts"')
    [f] = [f for f in lint_text(text) if f.code == "invalid-url"]
    assert f.severity is Severity.ERROR and f.location.field.endswith("@URLFormat")


def test_required_contact_mappings():
    text = edit('<Output Name="FirstName" Path="orgs.#.name" />\n', "")
    text = edit('<Output Name="MobileNumber" Path="orgs.#.phone" />\n', "", text)
    found = [f for f in lint_text(text) if f.code == "missing-mapping"]
    messages = sorted(f.message for f in found)
    assert len(found) == 2 and "FirstName" in messages[0] and "phone" in messages[1]
    assert all(f.severity is Severity.ERROR for f in found)


def test_mapping_through_next_counts():
    """Contacts maps its phone only through the Common request reached by Next."""
    text = edit('<Output Name="BusinessNumber" Path="contacts.#.phone,contacts.#.work_phone" />\n', "")
    assert "missing-mapping" not in codes(lint_text(text))


def test_enabled_but_unmapped_field_warns():
    text = edit('<Parameter Name="LastNameEnable" Value="1" />', '<Parameter Name="EmailEnable" Value="1" />')
    [f] = [f for f in lint_text(text) if f.code == "unmapped-field"]
    assert "Email" in f.message and f.location.line == line_of(text, "EmailEnable")


def test_user_association_mapping_and_pagination():
    text = edit('<Output Name="UserUniqueId" Path="users.#.id" />\n', "")
    text = edit('<Parameter Father="Pagination" Name="Mode" Value="page" />',
                '<Parameter Father="Pagination" Name="Mode" Value="cursor" />', text)
    text = edit('Name="FirstPage" Value="1"', 'Name="FirstPage" Value="2"', text)
    found = lint_text(text)
    assert any(f.code == "missing-mapping" and "UserUniqueId" in f.message for f in found)
    pag = [f for f in found if f.code == "pagination"]
    assert any("NextPath" in f.message for f in pag) and any("FirstPage" in f.message for f in pag)


def test_unknown_things_are_warnings_not_errors():
    text = edit('<Parameter Name="Scope" Value="read write" />',
                '<Parameter Name="Scope" Value="read write" Colour="red" />\n        <Parameter Name="Whatever" />')
    text = edit("<Responses />", "<Responses><Rule/></Responses>", text)
    found = lint_text(text)
    assert {"unknown-attribute", "unknown-parameter", "unknown-element"} <= set(codes(found))
    assert problems(found, Severity.ERROR) == []


def test_next_loop_between_common_requests():
    text = edit('<Request Name="ContactPhones" Method="GET" ResponseType="application/json"\n'
                '                 URLFormat="https://{{.domain}}/api/contacts/{{.ContactId}}/phones">\n'
                '          <Outputs>',
                '<Request Name="ContactPhones" Method="GET" ResponseType="application/json"\n'
                '                 URLFormat="https://{{.domain}}/api/contacts/{{.ContactId}}/phones">\n'
                '          <Outputs Next="ContactPhones">')
    assert "next-loop" in codes(lint_text(text))


def test_ticket_timing_value_checked():
    text = edit('Name="CreateTicketAt" Value="ring"', 'Name="CreateTicketAt" Value="tomorrow"')
    assert "invalid-value" in codes(lint_text(text))


def test_json_body_checked_for_literal_bodies():
    text = edit('Value="{&quot;first_name&quot;:&quot;{{.FirstName}}&quot;,&quot;last_name&quot;:'
                '&quot;{{.LastName}}&quot;,&quot;phone&quot;:&quot;{{.BusinessNumber}}&quot;}"',
                'Value="{&quot;first_name&quot;: oops}"')
    [f] = [f for f in lint_text(text) if f.code == "invalid-json"]
    assert f.severity is Severity.ERROR and f.location.field.endswith("Parameter[Data]@Value")


def test_findings_format_and_json_fields():
    found = lint_text(edit('MaxConcurrentRequest="8"', 'MaxConcurrentRequest="99"'), file="desk.xml")
    f = next(f for f in found if f.code == "out-of-range")
    assert str(f) == (f"desk.xml:4:{f.location.col}: error: MaxConcurrentRequest is '99'; it must be a whole number "
                      "from 1 to 50 [Information@MaxConcurrentRequest] (out-of-range)")
    d = f.as_dict()
    assert set(d) == {"file", "line", "col", "severity", "message", "field", "code"}
    assert json.loads(json.dumps(d)) == d


def test_exit_codes():
    warn_only = lint_text(edit('<Parameter Name="Scope" Value="read write" />',
                               '<Parameter Name="Scope" Value="read write" />\n<Parameter Name="Odd" />'))
    assert problems(warn_only, Severity.ERROR) == [] and problems(warn_only, Severity.WARNING)
    assert exit_code(warn_only) == 0 and exit_code(warn_only, strict=True) == 1
    assert exit_code(lint_text(edit('AuthType="oauth2"', 'AuthType="x"'))) == 2


def test_engine_checks_are_reported_as_unchecked_when_the_engines_are_missing(monkeypatch):
    class NoEngines:
        expr = credentials = gjson = mapping = None

    monkeypatch.setattr(lint_module, "_ENGINES", NoEngines())
    found = lint_text(FULL_TEXT)
    notes = [f for f in found if f.code == "check-unavailable"]
    assert {n.message for n in notes} == {
        "template syntax not checked: the engine module is unavailable",
        "GJSON path syntax not checked: the engine module is unavailable"}
    assert problems(found) == []


# ---- checks that use engine.expr, engine.paths.gjson and engine.mapping -----------------------------

def col_of(text: str, needle: str, offset: int = 0) -> int:
    i = text.index(needle) + offset
    return i - (text.rfind("\n", 0, i) + 1) + 1


def test_template_syntax_error_points_into_the_attribute():
    text = edit('URLFormat="https://{{.domain}}/api/calls"', 'URLFormat="https://{{.domain}}/api/calls/{{.Bad"')
    [f] = [f for f in lint_text(text) if f.code == "template-syntax"]
    assert f.severity is Severity.ERROR and f.location.field.endswith("Request[LogCall]@URLFormat")
    assert f.location.line == line_of(text, "{{.Bad")
    assert text.index("{{.Bad") <= text.index("\n", text.index("{{.Bad")) and f.location.col >= col_of(text, "{{.Bad")


def test_unknown_function_is_a_syntax_error():
    text = edit("{{ ToMillis .StartTimeUnix }}", "{{ ToSeconds .StartTimeUnix }}")
    [f] = [f for f in lint_text(text) if f.code == "template-syntax"]
    assert "ToSeconds" in f.message


def test_unknown_variable_is_located_exactly_even_after_escapes():
    text = edit('&quot;department&quot;:&quot;{{.DepartmentId}}&quot;',
                '&quot;department&quot;:&quot;{{.DepartmentId}}&quot;,&quot;q&quot;:&quot;{{.Nope}}&quot;')
    [f] = [f for f in lint_text(text) if f.code == "unknown-variable"]
    assert "'Nope'" in f.message and "CreateNewTicket" in f.message
    assert (f.location.line, f.location.col) == (line_of(text, "{{.Nope}}"), col_of(text, "{{.Nope}}", 2))


def test_variables_follow_the_scenario_lists():
    # SearchValue belongs to contact search, not to the call journal; Owner belongs to the journal
    text = edit('URLFormat="https://{{.domain}}/api/calls"', 'URLFormat="https://{{.domain}}/api/calls?q={{.SearchValue}}"')
    text = edit('URLFormat="https://{{.domain}}/api/contacts/search?q={{UrlEncode .SearchValue}}"',
                'URLFormat="https://{{.domain}}/api/contacts/search?q={{UrlEncode .SearchValue}}&amp;o={{.Owner}}"',
                text)
    found = {(f.message.split("'")[1], f.location.line) for f in lint_text(text) if f.code == "unknown-variable"}
    assert found == {("SearchValue", line_of(text, "calls?q=")), ("Owner", line_of(text, "o={{.Owner}}"))}


def test_aliases_outputs_and_next_scope_are_available():
    """CallerNumber is an alias of Phone; the Common request sees the caller's outputs; ContactsId = ContactId."""
    text = edit("{{UrlEncode .Phone}}\">\n          <Parameters>", "{{UrlEncode .CallerNumber}}\">\n          <Parameters>")
    text = edit("api/contacts/{{.ContactId}}/phones", "api/contacts/{{.ContactsId}}/phones/{{.FirstName}}", text)
    assert [f for f in lint_text(text) if f.code == "unknown-variable"] == []


def test_invalid_url_after_sample_rendering():
    text = edit('URLFormat="https://{{.domain}}/api/calls"', 'URLFormat="htps://{{.domain}}/api/calls"')
    [f] = [f for f in lint_text(text) if f.code == "invalid-url"]
    assert "after sample rendering" in f.message and "htps://sample/api/calls" in f.message


def test_a_field_that_starts_the_url_is_sampled_as_a_base_url_unless_its_default_says_otherwise():
    base = edit('URLFormat="https://{{.domain}}/api/calls"', 'URLFormat="{{if .ContactId}}{{.domain}}/api/calls{{end}}"')
    assert "invalid-url" not in codes(lint_text(base))
    host = edit('Title="Domain" Key="domain" />', 'Title="Domain" Key="domain" Value="help.example.com" />', base)
    [f] = [f for f in lint_text(host) if f.code == "invalid-url"]
    assert "'help.example.com/api/calls'" in f.message


def test_conditional_url_that_renders_empty_is_fine():
    text = edit('URLFormat="https://{{.domain}}/api/calls"',
                'URLFormat="{{if .RecordPath}}https://{{.domain}}/api/calls{{end}}"')
    assert "invalid-url" not in codes(lint_text(text))


def test_body_that_is_not_json_after_rendering():
    text = edit('&quot;description&quot;:&quot;{{.Description}}&quot;}', '&quot;description&quot;:{{.Description}}')
    [f] = [f for f in lint_text(text) if f.code == "invalid-json"]
    assert f.severity is Severity.ERROR and "UpdateTicket" in f.location.field


def test_unquoted_values_in_json_bodies_are_escaped_like_the_runtime():
    """A value outside quotes in a JSON body is inserted as a JSON scalar or string (json context)."""
    text = edit("&quot;duration&quot;:{{.Talk_Duration_Sec}}", "&quot;duration&quot;:{{.Talk_Duration}}")
    assert "invalid-json" not in codes(lint_text(text))


def test_gjson_path_problem_is_located_in_the_alternative():
    text = edit('Path="contacts.#.phone,contacts.#.work_phone"', 'Path="contacts.#.phone,contacts.#(type=="x".n"')
    text = text.replace('contacts.#(type=="x".n"', 'contacts.#(type==&quot;x&quot;.n"')
    [f] = [f for f in lint_text(text) if f.code == "gjson-syntax"]
    assert f.location.line == line_of(text, "contacts.#(type==")
    assert f.location.col == col_of(text, "(type==")
    assert "never closed" in f.message


def test_path_with_phone_variable_and_jsonpath_alternatives():
    text = edit('Path="orgs.#.phone"', 'Path="orgs.#(phone==&quot;{{.Phone}}&quot;)#.phone,$.orgs[*].phone"')
    assert problems(lint_text(text)) == []
    bad = edit('Path="orgs.#.phone"', 'Path="$.orgs[*.phone"')
    assert "jsonpath-syntax" in codes(lint_text(bad))
    unknown = edit('Path="orgs.#.phone"', 'Path="orgs.#(phone==&quot;{{.Nope}}&quot;)#.phone"')
    assert "unknown-variable" in codes(lint_text(unknown))


def test_unknown_modifier_in_popup_field_path():
    # Go reads an unknown @name without an argument as a plain key, so only a near miss is reported
    text = edit('Name="ContactFieldForUri" Value="contacts.0.url"', 'Name="ContactFieldForUri" Value="contacts.0.url|@reverze"')
    [f] = [f for f in lint_text(text) if f.code == "gjson-syntax"]
    assert "@reverse" in f.message and f.location.field.endswith("Parameter[ContactFieldForUri]@Value")
    plain_key = edit('Name="ContactFieldForUri" Value="contacts.0.url"', 'Name="ContactFieldForUri" Value="contacts.0.url|@nope"')
    assert "gjson-syntax" not in codes(lint_text(plain_key))


def test_base64_credential_naming_an_unknown_field():
    text = (TEMPLATES / "minimal-basic.xml").read_text().replace("{{.api_key:}}", "{{.user:.api_key}}")
    [f] = [f for f in lint_text(text) if f.code == "credential-format"]
    assert "'user'" in f.message and f.severity is Severity.ERROR


def test_base64_credential_syntax_error_is_located():
    text = (TEMPLATES / "minimal-basic.xml").read_text().replace("{{.api_key:}}", "x{{.a:.b:.c}}")
    [f] = [f for f in lint_text(text) if f.code == "credential-format"]
    assert f.location.line == line_of(text, "x{{.a:.b:.c}}")
    assert f.location.col == col_of(text, ":.c")


def test_header_templates_are_checked():
    text = edit('Value="{{.region}}"', 'Value="{{.regoin}}"')
    [f] = [f for f in lint_text(text) if f.code == "unknown-variable"]
    assert "regoin" in f.message and "X-Region" in f.location.field


def test_contact_search_must_use_the_number_or_search_value():
    text = edit("api/contacts?phone={{UrlEncode .Phone}}", "api/contacts?phone=1")
    [f] = [f for f in lint_text(text) if f.code == "search-input"]
    assert "Contacts" in f.message and f.location.line == line_of(text, "api/contacts?phone=1")
    body = edit("api/contacts?phone={{UrlEncode .Phone}}\">\n          <Parameters>",
                "api/contacts\">\n          <Parameters>\n<Parameter Name=\"phone\" Type=\"Query\" Value=\"{{.CallerNumber}}\" />")
    assert "search-input" not in codes(lint_text(body))


def test_paging_url_must_use_the_paging_variable():
    text = edit("api/users?page={{.Page}}&amp;per_page={{.PageSize}}", "api/users?per_page={{.PageSize}}")
    [f] = [f for f in lint_text(text) if f.code == "pagination"]
    assert "{{.Page}}" in f.message and f.location.field.endswith("Request[GetUsers]@URLFormat")


SHIPPED = sorted((DATA.parent.parent / "templates").glob("*/template.xml"))


def test_there_are_shipped_templates():
    assert len(SHIPPED) >= 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.name)
def test_shipped_templates_lint_without_errors_and_round_trip(path, tmp_path):
    findings = lint_file(path)
    assert problems(findings, Severity.ERROR) == [], "\n".join(map(str, findings))
    assert exit_code(findings) == 0
    template = load_template(path)
    template.save(tmp_path / "t.xml")
    assert (tmp_path / "t.xml").read_bytes() == path.read_bytes()


def test_free_text_inside_a_json_string_of_the_url_is_flagged():
    """RT's JSON query in the URL: %22{{UrlEncode .Phone}}%22 breaks on a quote (RT answered HTTP 500)."""
    shipped = (DATA.parent.parent / "templates" / "rt5-token" / "template.xml").read_text()
    fixed = '%22value%22%3A{{UrlEncode (printf &quot;%q&quot; .SearchValue)}}%7D'
    assert fixed in shipped
    broken = shipped.replace(fixed, "%22value%22%3A%22{{UrlEncode .SearchValue}}%22%7D")
    [f] = [f for f in lint_text(broken) if f.code == "json-in-url"]
    assert f.severity is Severity.WARNING and "{{.SearchValue}}" in f.message and 'printf "%q"' in f.message
    line = line_of(broken, "%22{{UrlEncode .SearchValue}}")
    assert (f.location.line, f.location.field) == (line, "Scenario[SearchContact]/Request[Contacts]@URLFormat")
    assert broken.splitlines()[line - 1][f.location.col - 1:].startswith(".SearchValue}}")
    assert [f for f in lint_text(shipped) if f.code == "json-in-url"] == []  # fixed form and agent_domain: quiet


def test_an_empty_path_does_not_satisfy_a_required_mapping():
    """``Path=""`` means "field not provided" (community templates use it), so it maps nothing."""
    assert "missing-mapping" not in codes(lint_text(FULL_TEXT))
    text = edit('<Output Name="FirstName" Path="orgs.#.name" />', '<Output Name="FirstName" Path="" />')
    [f] = [f for f in lint_text(text) if f.code == "missing-mapping"]
    assert f.severity is Severity.ERROR and "FirstName" in f.message
    text = edit('<Output Name="UserUniqueId" Path="users.#.id" />', '<Output Name="UserUniqueId" Path="  " />')
    [f] = [f for f in lint_text(text) if f.code == "missing-mapping"]
    assert f.severity is Severity.ERROR and "UserUniqueId" in f.message
    text = edit('<Output Name="TicketId" Path="ticket.id" />', '<Output Name="TicketId" Path="" />')
    [f] = [f for f in lint_text(text) if f.code == "missing-mapping"]
    assert "TicketId" in f.message


def test_sample_rendering_failure_points_at_the_failing_action():
    text = edit('URLFormat="https://{{.domain}}/api/calls"', 'URLFormat="https://{{.domain}}/api/calls/{{len 3}}"')
    [f] = [f for f in lint_text(text) if f.code == "render-failed"]
    assert "len of type int" in f.message and f.location.field.endswith("@URLFormat")
    assert (f.location.line, f.location.col) == (line_of(text, "{{len 3}}"), col_of(text, "{{len 3}}", 2))


def test_line_break_written_in_a_header_value_is_an_error_at_its_position():
    assert "header-line-break" not in codes(lint_text(FULL_TEXT))
    text = edit('Value="{{.region}}"', 'Value="{{.region}}&#13;&#10;X-Injected: 1"')
    text = edit('Name="Accept" Type="Header" Value="application/json"',
                'Name="Accept" Type="Header" Value="application/json&#10;"', text)
    found = sorted((f for f in lint_text(text) if f.code == "header-line-break"), key=lambda f: f.location.line)
    assert [f.severity for f in found] == [Severity.ERROR, Severity.ERROR]
    assert found[0].location.field.endswith("Parameter[Accept]@Value")
    assert (found[0].location.line, found[0].location.col) == (line_of(text, "json&#10;"), col_of(text, "&#10;"))
    assert (found[1].location.line, found[1].location.col) == (line_of(text, "&#13;"), col_of(text, "&#13;"))
    # a line break inside an action is template syntax, not header text
    assert "header-line-break" not in codes(lint_text(edit('Value="{{.region}}"', 'Value="{{.region&#10;}}"')))
