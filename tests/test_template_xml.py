"""Hardened, source-preserving XML: exact round-trip, minimal edits, hostile input refused with a location."""

from __future__ import annotations

import difflib

import pytest

from engine.errors import TemplateError
from engine.template import load_template, parse_template
from engine.template.xml import MAX_BYTES, MAX_DEPTH
from tests.conftest import DATA

FIXTURES = DATA / "templates"
XML_FIXTURES = sorted(FIXTURES.glob("*.xml"))
SKELETON = FIXTURES / "reconstructed-skeleton.xml"


def _changed_lines(before: bytes, after: bytes) -> list[str]:
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), lineterm="", n=0)
    return [d for d in diff if d[:1] in "+-" and not d.startswith(("+++", "---"))]


def _refusal(data: bytes) -> TemplateError:
    with pytest.raises(TemplateError) as exc:
        parse_template(data, "hostile.xml")
    return exc.value


@pytest.mark.parametrize("path", XML_FIXTURES, ids=lambda p: p.name)
def test_load_save_is_byte_identical(path, tmp_path):
    template = load_template(path)
    out = tmp_path / path.name
    template.save(out)
    assert out.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("path", XML_FIXTURES, ids=lambda p: p.name)
def test_setting_an_attribute_to_its_value_changes_nothing(path):
    template = load_template(path)
    for ref, node in enumerate(template.document.nodes):
        for name, value in node.attrib.items():
            assert template.with_attribute(ref, name, value).to_bytes() == template.to_bytes()


def test_changing_a_url_touches_only_that_value():
    t = load_template(SKELETON)
    req = t.scenario("SyncContactAuto").requests[0]
    edited = t.with_request_url(req, 'https://x.example/{{.domain}}?q="a&b"<c>')
    assert _changed_lines(t.to_bytes(), edited.to_bytes()) == [
        '-                 URLFormat="https://{{.domain}}/api/contacts?phone={{UrlEncode .CallerNumber}}">',
        '+                 URLFormat="https://x.example/{{.domain}}?q=&quot;a&amp;b&quot;&lt;c>">',
    ]
    assert edited.scenario("SyncContactAuto").requests[0].url == 'https://x.example/{{.domain}}?q="a&b"<c>'
    assert t.scenario("SyncContactAuto").requests[0].url.endswith("{{UrlEncode .CallerNumber}}")  # original unchanged


def test_adding_a_custom_field_inserts_one_line_in_the_document_style():
    t = load_template(SKELETON)
    edited = t.with_custom_field("region", "Region", "dropdown", ("eu", "us"))
    assert _changed_lines(t.to_bytes(), edited.to_bytes()) == [
        '+        <Parameter Father="CustomFieldList" Name="region" Editor="dropdown" Title="Region" Key="region"'
        ' Value="eu,us" />',
    ]
    assert [f.name for f in edited.custom_fields] == ["domain", "api_key", "region"]
    assert edited.custom_fields[-1].options == ("eu", "us")


def test_adding_a_parameter_to_an_empty_parameters_element_expands_it():
    t = load_template(SKELETON)
    edited = t.with_parameter(t.scenario("UserAssociation"), "Mode", "page", father="Pagination")
    assert _changed_lines(t.to_bytes(), edited.to_bytes()) == [
        "-      <Parameters />",
        "+      <Parameters>",
        '+        <Parameter Father="Pagination" Name="Mode" Value="page" />',
        "+      </Parameters>",
    ]
    assert edited.scenario("UserAssociation").pagination.mode == "page"


def test_adding_parameters_where_there_is_no_parameters_element():
    t = load_template(FIXTURES / "full-oauth2.xml")
    common = t.scenario("Common")
    edited = t.with_parameter(common, "Note", "x")
    assert edited.scenario("Common").value("Note") == "x"
    assert len(_changed_lines(t.to_bytes(), edited.to_bytes())) == 1


def test_set_existing_parameter_and_remove_element_and_attribute():
    t = load_template(SKELETON)
    ticket = t.scenario("CreateNewTicket")
    edited = t.with_parameter(ticket, "Subject", "New subject")
    assert edited.scenario("CreateNewTicket").subject == "New subject"
    assert len(_changed_lines(t.to_bytes(), edited.to_bytes())) == 2
    field = edited.custom_fields[0]
    removed = edited.without_element(field.ref)
    assert [f.name for f in removed.custom_fields] == ["api_key"]
    assert _changed_lines(edited.to_bytes(), removed.to_bytes()) == [
        '-        <Parameter Father="CustomFieldList" Name="domain" Editor="string" Title="Domain" Key="domain" />']
    no_remark = removed.without_attribute(0, "Remark")
    assert no_remark.general.remark == ""
    assert b'Remark="Example"' not in no_remark.to_bytes()


def test_crlf_bom_and_declaration_are_kept_through_edits():
    src = SKELETON.read_bytes().replace(b"\n", b"\r\n")
    data = b"\xef\xbb\xbf" + src
    t = parse_template(data, "crlf.xml")
    assert t.to_bytes() == data
    edited = t.with_custom_field("zone", "Zone")
    out = edited.to_bytes()
    assert out.startswith(b'\xef\xbb\xbf<?xml version="1.1" encoding="UTF-8"?>\r\n')
    assert b"\n" not in out.replace(b"\r\n", b"")
    assert len(out) - len(data) == len(b'        <Parameter Father="CustomFieldList" Name="zone" Editor="string" '
                                       b'Title="Zone" Key="zone" />\r\n')


def test_unknown_elements_attributes_and_comments_survive_edits():
    data = SKELETON.read_bytes().replace(
        b'<Parameters />\n  <Scenarios>',
        b'<Parameters />\n  <Extra a="1"><!-- keep --><Deep/></Extra>\n  <Scenarios>').replace(
        b'Key="example_desk"', b'Key="example_desk" Color="blue"')
    t = parse_template(data, "x.xml")
    assert t.to_bytes() == data
    codes = sorted(f.code for f in t.issues)
    assert codes == ["unknown-attribute", "unknown-element"]
    edited = t.with_attribute(0, "Version", "9.9")
    assert b'<Extra a="1"><!-- keep --><Deep/></Extra>' in edited.to_bytes()
    assert b'Color="blue"' in edited.to_bytes()


def test_single_quoted_attribute_keeps_its_quotes():
    data = b"<Information Name='A' Provider='crm'><Scenarios/></Information>"
    t = parse_template(data)
    assert t.with_attribute(0, "Name", "it's").to_bytes() == (
        b"<Information Name='it&apos;s' Provider='crm'><Scenarios/></Information>")


def test_version_1_1_declaration_parses_without_a_warning():
    t = load_template(SKELETON)
    assert t.document.warnings == []
    assert t.to_bytes().startswith(b'<?xml version="1.1" encoding="UTF-8"?>')


# ---- hostile and broken input ------------------------------------------------------------------------

def test_billion_laughs_is_refused_not_expanded():
    data = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Information Name="&lol4;"/>"""
    err = _refusal(data)
    assert err.code == "xml-dtd"
    assert (err.location.file, err.location.line, err.location.col) == ("hostile.xml", 2, 1)
    assert "DOCTYPE" in err.message and "lol" not in err.message


def test_xxe_file_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
            '<Information Name="&xxe;">&xxe;</Information>').encode()
    err = _refusal(data)
    assert err.code == "xml-dtd" and err.location.line == 2
    assert "TOP-SECRET" not in str(err)


def test_external_dtd_and_parameter_entities_are_refused():
    err = _refusal(b'<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">\n<Information/>')
    assert err.code == "xml-dtd"
    err = _refusal(b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><Information/>')
    assert err.code == "xml-dtd"


def test_doctype_text_inside_a_comment_is_harmless():
    t = parse_template(b"<!-- no <!DOCTYPE here --><Information Name='x'/>")
    assert t.general.name == "x"


def test_doctype_text_inside_cdata_is_harmless_but_a_real_one_still_refused():
    data = b"<Information Name='x'>\n  <Note><![CDATA[ write <!DOCTYPE x> ]]></Note>\n</Information>"
    assert parse_template(data).to_bytes() == data
    err = _refusal(b"<!DOCTYPE x [<!ENTITY e 'v'>]>\n<Information Name='&e;'><![CDATA[ ]]></Information>")
    assert err.code == "xml-dtd" and err.location.line == 1


def test_oversized_file_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.xml"
    big.write_bytes(b"<Information>" + b" " * MAX_BYTES + b"</Information>")
    with pytest.raises(TemplateError) as exc:
        load_template(big)
    assert exc.value.code == "xml-size" and "1 MiB" in exc.value.message
    assert exc.value.location.file == str(big)


def test_too_deep_nesting_is_refused_with_the_element_location():
    depth = MAX_DEPTH + 5
    data = ("<Information>\n" + "<a>" * depth + "</a>" * depth + "\n</Information>").encode()
    err = _refusal(data)
    assert err.code == "xml-depth"
    assert err.location.line == 2 and err.location.col == 3 * (MAX_DEPTH - 1) + 1


def test_absurd_nesting_is_refused_not_crashed():
    data = b"<a>" * 100_000 + b"</a>" * 100_000
    err = _refusal(data)
    # libxml2's own limit (256) trips first; the message is still deskline's, not "use XML_PARSE_HUGE"
    assert err.code == "xml-depth"
    assert err.message == f"elements are nested more than {MAX_DEPTH} levels deep"
    assert err.location.line == 1 and err.location.field == "a"


def test_raw_quote_in_attribute_suggests_quot_at_the_right_column():
    data = (b'<?xml version="1.1" encoding="UTF-8"?>\n<Information>\n'
            b'  <Output Name="BusinessNumber2" Path="identities.#(type=="phone_number")#|1.value"></Output>\n'
            b'</Information>')
    err = _refusal(data)
    assert err.code == "xml-raw-quote"
    assert "&quot;" in err.message
    line = data.decode().splitlines()[2]
    assert (err.location.line, err.location.col) == (3, line.index('=="phone') + 3)
    assert "^" in err.excerpt


def test_mismatched_tag_error_is_located():
    err = _refusal(b"<Information>\n  <Scenarios>\n  </Scenario>\n</Information>")
    assert err.code == "xml-syntax"
    assert err.location.line == 3
    assert "mismatch" in err.message.lower()
    assert str(err).startswith("hostile.xml:3:")


def test_undeclared_entity_and_bad_encoding_are_located():
    err = _refusal(b"<Information Name='&nope;'/>")
    assert err.code == "xml-syntax" and err.location.line == 1
    err = _refusal(b'<?xml version="1.0" encoding="UTF-8"?>\n<Information Name="caf\xe9"/>')
    assert err.code == "xml-encoding" and (err.location.line, err.location.col) == (2, 23)
    err = _refusal(b'<?xml version="1.0" encoding="klingon"?><Information/>')
    assert err.code == "xml-encoding"


def test_latin1_template_round_trips_and_edits_in_its_encoding():
    data = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Information Name="Café"/>'.encode("latin-1")
    t = parse_template(data)
    assert t.general.name == "Café" and t.to_bytes() == data
    assert t.with_attribute(0, "Remark", "é").to_bytes() == data.replace(b'"/>', b'" Remark="\xe9"/>')


def test_newlines_in_values_are_written_as_character_references():
    t = load_template(SKELETON)
    ticket = t.scenario("CreateNewTicket")
    edited = t.with_parameter(ticket, "Description", "line1\nline2\tend")
    assert b'Value="line1&#xA;line2&#x9;end"' in edited.to_bytes()
    assert edited.scenario("CreateNewTicket").description == "line1\nline2\tend"


def test_removing_attributes_keeps_the_tag_layout():
    t = load_template(SKELETON)
    before = t.to_bytes()
    for name, expected in [
        ("Remark", ['-             Remark="Example" Version="1.0.0" AuthType="basic" MaxConcurrentRequest="5"',
                    '+             Version="1.0.0" AuthType="basic" MaxConcurrentRequest="5"']),
        ("Logo", ['-<Information Provider="helpdesk" Name="Example Desk" Key="example_desk" Logo="example.png"',
                  '+<Information Provider="helpdesk" Name="Example Desk" Key="example_desk"']),
        ("MaxConcurrentRequest", ['-             Remark="Example" Version="1.0.0" AuthType="basic" '
                                  'MaxConcurrentRequest="5"',
                                  '+             Remark="Example" Version="1.0.0" AuthType="basic"']),
    ]:
        assert _changed_lines(before, t.without_attribute(0, name).to_bytes()) == expected
    alone = parse_template(b'<Information\n    Name="a"\n    Key="b"\n/>')
    assert alone.without_attribute(0, "Name").to_bytes() == b'<Information\n    Key="b"\n/>'
    assert alone.without_attribute(0, "Key").to_bytes() == b'<Information\n    Name="a"\n/>'
    assert alone.without_attribute(0, "Nope") is alone


def test_xml_errors_name_the_element():
    data = (b'<Information>\n  <Output Name="B" Path="identities.#(type=="phone")#|1.value"></Output>\n</Information>')
    assert _refusal(data).location.field == "Output@Path"
    err = _refusal(b"<Information>\n  <Scenarios>\n    <Scenario Id='x'>\n  </Scenarios>\n</Information>")
    assert err.location.field == "Scenario" and err.location.line == 4


def test_adding_and_changing_outputs():
    t = load_template(SKELETON)
    req = t.scenario("UserAssociation").requests[0]
    added = t.with_output(req, "FirstName", "data.#.first")
    assert _changed_lines(t.to_bytes(), added.to_bytes()) == [
        '+            <Output Name="FirstName" Path="data.#.first" />']
    changed = added.with_output(added.scenario("UserAssociation").requests[0], "Email", "data.#.mail")
    assert changed.scenario("UserAssociation").requests[0].output_map()["Email"] == "data.#.mail"
    assert len(_changed_lines(added.to_bytes(), changed.to_bytes())) == 2
    minimal = parse_template(b'<Information><Scenarios><Scenario Id="Common"><Requests>'
                             b'<Request Name="R" URLFormat="http://h/"/></Requests></Scenario></Scenarios></Information>')
    with_out = minimal.with_output(minimal.scenario("Common").requests[0], "X", "a.b")
    assert with_out.scenario("Common").requests[0].output_map() == {"X": "a.b"}


def test_adding_an_element_anywhere():
    t = load_template(SKELETON)
    sc = t.scenario("Common")
    edited = t.with_element(sc.requests_ref, "Request", {"Name": "More", "Method": "GET", "URLFormat": "https://x/"})
    assert [r.name for r in edited.scenario("Common").requests] == ["GetPhones", "More"]
    assert _changed_lines(t.to_bytes(), edited.to_bytes()) == [
        '+        <Request Name="More" Method="GET" URLFormat="https://x/" />']


def test_endless_file_that_reports_size_zero_is_refused_not_read_whole():
    """/dev/zero (like a pipe or a /proc file) has st_size 0: the size limit must hold while reading."""
    with pytest.raises(TemplateError) as exc:
        load_template("/dev/zero")
    assert exc.value.code == "xml-size" and "1 MiB" in exc.value.message
    assert exc.value.location.file == "/dev/zero"


def test_namespaced_unknown_elements_are_kept_like_any_unknown_element():
    """A prefixed element used to fail with "cannot map the XML source" (lxml says {uri}Foo, the source x:Foo)."""
    data = (b'<Information xmlns:x="urn:x" Name="n">\n  <!-- c -->\n  <x:Foo x:a="1"/>\n'
            b'  <Scenarios/>\n</Information>')
    template = parse_template(data, "ns.xml")
    assert [e.tag for e in template.document.elements] == ["Information", "x:Foo", "Scenarios"]
    assert template.to_bytes() == data
    assert template.with_attribute(0, "Name", "m").to_bytes() == data.replace(b'Name="n"', b'Name="m"')


def test_undeclared_namespace_prefix_is_a_located_error():
    err = _refusal(b'<Information>\n  <x:Foo a="1"/>\n</Information>')
    assert err.code == "xml-syntax" and "Namespace prefix x" in err.message
    assert (err.location.line, err.location.field) == (2, "x:Foo")
