"""Escaping by destination: hostile values never break the JSON body, the URL or the header."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import TemplateExecError, compile_template, render

HOSTILE = ['O"Brien', "line1\nline2", "back\\slash", "tab\there", "</script>", "\u2028\x00\x1f",
           '", "admin": true, "x": "', "{{.x}}", "é日本😀", "", " ", "null", "12", "-0.5e3"]

BODY = '{"name": "{{.v}}", "n": {{.v}}, "list": ["{{.v}}", {{.v}}], "fixed": "a\\"b{{.v}}"}'


def _json_scalar_or_string(v: str):
    try:
        parsed = json.loads(v)
    except ValueError:
        return v
    return parsed if not isinstance(parsed, (dict, list, str)) and v.strip() == v and v else v


@pytest.mark.parametrize("v", HOSTILE)
def test_json_body_stays_valid_with_hostile_values(v):
    out = render(BODY, {"v": v}, context="json")
    doc = json.loads(out)
    assert doc["name"] == v
    assert doc["list"][0] == v
    assert doc["fixed"] == 'a"b' + v
    assert doc["n"] == _json_scalar_or_string(v) == doc["list"][1]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_json_body_valid_for_any_text(v):
    doc = json.loads(render(BODY, {"v": v}, context="json"))
    assert doc["name"] == v and doc["fixed"] == 'a"b' + v


def test_json_numbers_and_missing_outside_strings():
    out = render('{"d": {{.d}}, "f": {{.f}}, "b": {{.b}}, "m": {{.missing}}, "s": {{.s}}}',
                 {"d": 205, "f": 1.5, "b": True, "s": "x"}, context="json")
    assert json.loads(out) == {"d": 205, "f": 1.5, "b": True, "m": "", "s": "x"}


def test_json_raw_opts_out():
    out = render('{"tags": {{raw .tags}}, "note": "{{raw .q}}"}', {"tags": '["a", "b"]', "q": "x"}, context="json")
    assert json.loads(out) == {"tags": ["a", "b"], "note": "x"}
    # the state machine follows the raw text: a value after it is still escaped correctly
    out = render('{{raw .open}}{{.v}}"}', {"open": '{"k": "', "v": 'a"b'}, context="json")
    assert json.loads(out) == {"k": 'a"b'}


def test_json_escaping_inside_range_and_if():
    tpl = '[{{range $i, $c := .c}}{{if $i}}, {{end}}{"n": "{{$c}}"}{{end}}]'
    out = render(tpl, {"c": ['a"', "b\n", "c\\"]}, context="json")
    assert [x["n"] for x in json.loads(out)] == ['a"', "b\n", "c\\"]


URL = "https://{{.domain}}/api/v2/{{.v}}/items?q={{.v}}&phone={{.phone}}&r=1#{{.v}}"


@pytest.mark.parametrize("v", HOSTILE + ["a/b", "a?b", "a#b", "a&b=c", "+4930123", "%41", ".."])
def test_url_values_are_encoded_per_part(v):
    out = render(URL, {"domain": "desk.example.com", "v": v, "phone": "+4930123"}, context="url")
    u = urlsplit(out)
    assert u.netloc == "desk.example.com"
    segments = u.path.split("/")
    assert len(segments) == 5 and segments[:3] == ["", "api", "v2"] and segments[4] == "items"
    assert unquote(segments[3]) == v
    q = parse_qs(u.query, keep_blank_values=True)
    assert q["q"] == [v] and q["phone"] == ["+4930123"] and q["r"] == ["1"]
    assert unquote(u.fragment) == v


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_url_round_trips_any_text(v):
    out = render(URL, {"domain": "h", "v": v, "phone": "1"}, context="url")
    u = urlsplit(out)
    assert unquote(u.path.split("/")[3]) == v
    assert parse_qs(u.query, keep_blank_values=True)["q"] == [v]


def test_url_e164_plus_survives_the_query():
    out = render("https://h/search?phone={{.Phone}}", {"Phone": "+4930123"}, context="url")
    assert parse_qs(urlsplit(out).query)["phone"] == ["+4930123"]
    assert out.endswith("%2B4930123")


def test_url_host_part_is_inserted_as_is_but_rejects_whitespace():
    assert render("https://{{.d}}/api/{{.x}}", {"d": "desk.example.com:8443/rt", "x": "a b"}, context="url") == \
        "https://desk.example.com:8443/rt/api/a%20b"
    with pytest.raises(TemplateExecError) as e:
        render("https://{{.d}}/api", {"d": "evil.com\r\nX-Injected: 1"}, context="url", name="t.xml:9 @URLFormat")
    assert e.value.location.file == "t.xml:9 @URLFormat" and e.value.location.col == 11  # the value expression .d
    assert "whitespace" in e.value.message


def test_url_dot_segments_cannot_climb_the_path():
    out = render("https://h/api/{{.a}}/{{.b}}/x", {"a": "..", "b": "."}, context="url")
    assert out == "https://h/api/%2E%2E/%2E/x"


def test_url_escaper_outputs_are_not_encoded_twice():
    out = render("https://h/x?a={{UrlEncode .v}}&b={{urlquery .v}}&c={{raw .v}}", {"v": "a b+"}, context="url")
    assert out == "https://h/x?a=a%20b%2B&b=a+b%2B&c=a b+"


def test_url_whole_template_in_a_variable_with_raw():
    assert render("{{raw .u}}?q={{.q}}", {"u": "https://h/p", "q": "x y"}, context="url") == "https://h/p?q=x%20y"


def test_header_rejects_cr_lf_with_location():
    assert render("Bearer {{.t}}", {"t": "abc"}, context="header") == "Bearer abc"
    for bad in ("abc\r\nX-Evil: 1", "abc\nx", "abc\r"):
        with pytest.raises(TemplateExecError) as e:
            render("Bearer {{.t}}", {"t": bad}, context="header", name="AuthMethod/Header[Authorization]")
        assert e.value.location.col == 10  # .t
        assert "CR or LF" in e.value.message
        assert "abc" not in str(e.value)  # the value (maybe a token) is not quoted
    with pytest.raises(TemplateExecError):
        render("{{raw .t}}", {"t": "a\nb"}, context="header")


def test_gjson_context_escapes_quotes_and_backslashes():
    out = render('phones.#(value=="{{.Phone}}").id', {"Phone": 'a"b\\c'}, context="gjson")
    assert out == 'phones.#(value=="a\\"b\\\\c").id'


def test_text_context_escapes_nothing():
    assert render('{"a": "{{.v}}"}', {"v": 'x"y'}) == '{"a": "x"y"}'


def test_go_dialect_escapes_too():
    tpl = compile_template('{"a": "{{.v}}"}', dialect="go")
    assert json.loads(tpl.render({"v": 'x"\n'}, context="json")) == {"a": 'x"\n'}


@pytest.mark.parametrize("v", HOSTILE + ["a&admin=1", "x=y", "+4930 123", "50%"])
def test_form_body_values_cannot_add_fields(v):
    out = render("subject={{.v}}&phone={{.v}}&fixed=1", {"v": v}, context="form")
    assert parse_qs(out, keep_blank_values=True, strict_parsing=bool(v)) == (
        {"subject": [v], "phone": [v], "fixed": ["1"]} if v else {"subject": [""], "phone": [""], "fixed": ["1"]})


def test_form_body_keeps_already_encoded_and_raw_values():
    assert render("a={{UrlEncode .v}}&b={{raw .v}}", {"v": "x y&z"}, context="form") == "a=x%20y%26z&b=x y&z"
