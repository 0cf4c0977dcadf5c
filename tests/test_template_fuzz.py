"""Property tests: mutated templates never crash the parser or the linter, and errors are always located."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import TemplateError
from engine.template import parse_template
from engine.template.lint import lint_template
from tests.conftest import DATA

SOURCES = [(DATA / "templates" / n).read_bytes() for n in
           ("full-oauth2.xml", "minimal-basic.xml", "reconstructed-skeleton.xml")]
SNIPPETS = [b"<", b">", b'"', b"'", b"&", b"&quot;", b"&#0;", b"/>", b"</Request>", b"<Output Name=\"X\" Path=\"\"/>",
            b"{{", b"}}", b"{{.Phone", b"<!--", b"-->", b"<![CDATA[x]]>", b"<!DOCTYPE a>", b"\x00", b"\xff",
            b"\xc3\x28", b" Father=\"CustomFieldList\"", b" Name=\"\"", b"\r\n", b"\t", b"=", b"#(", b"|",
            b'<Parameter Father="CustomFieldList" Name="a b" Editor="dropdown"/>']

settings.register_profile("template-fuzz", max_examples=int(os.environ.get("DESKLINE_FUZZ_EXAMPLES", "150")),
                          deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        if kind == "insert":
            data[pos:pos] = draw(st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=8)))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif kind == "replace":
            data[pos:pos + 1] = draw(st.sampled_from(SNIPPETS))
        else:
            end = min(len(data), pos + draw(st.integers(1, 200)))
            data[end:end] = data[pos:end]
    return bytes(data)


def _check_located(exc: TemplateError, data: bytes) -> None:
    loc = exc.location
    assert loc.file == "fuzz.xml"
    assert exc.message
    if getattr(exc, "code", "") != "xml-size":
        assert 1 <= loc.line <= data.count(b"\n") + 2, (loc, exc.message)


@settings(settings.get_profile("template-fuzz"))
@given(mutated())
def test_mutated_templates_parse_or_fail_located_and_lint_never_crashes(data):
    try:
        template = parse_template(data, "fuzz.xml")
    except TemplateError as exc:
        _check_located(exc, data)
        return
    assert template.to_bytes() == data  # whatever parses, round-trips exactly
    for f in lint_template(template):
        assert f.location.file == "fuzz.xml" and f.location.line >= 1, f
        assert f.message and f.code


INTERESTING = ["", "0", "1", "99", "-1", "dropdown", "password", "oauth2", "basic", "bearer", "none", "{{", "{{.Phone}}",
               "{{if .X}}", "https://", "data.#.id", "a.#(b==\"c\")#", "Common", "ContactsId", "UserUniqueId",
               "CustomFieldList", "Pagination", "cursor", "Header", "Body", "Query", "GET", "TRACE", "AUTH", "x,y"]
ATTRIBUTES = ["Name", "Value", "URLFormat", "Path", "Father", "Type", "Editor", "Method", "Next", "Id", "AuthType",
              "MaxConcurrentRequest", "CallJournal", "Extra"]


def _xml_text(value: str) -> str:
    return "".join(ch for ch in value if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"
                                                             and not 0xD800 <= ord(ch) <= 0xDFFF))


@settings(settings.get_profile("template-fuzz"))
@given(st.sampled_from(SOURCES), st.data())
def test_setting_attributes_to_any_text_round_trips_and_lints(source, data):
    template = parse_template(source, "fuzz.xml")
    for _ in range(data.draw(st.integers(1, 4))):
        value = _xml_text(data.draw(st.one_of(st.sampled_from(INTERESTING), st.text(max_size=30))))
        ref = data.draw(st.integers(0, len(template.document.elements) - 1))
        name = data.draw(st.sampled_from(ATTRIBUTES))
        before = template
        template = template.with_attribute(ref, name, value)
        assert template.document.nodes[ref].get(name) == value
        start = before.document.elements[ref].start
        prefix = before.document.text[:start].encode()
        assert template.to_bytes()[:len(prefix)] == prefix  # nothing before the element changed
        for f in lint_template(template):
            assert f.location.file == "fuzz.xml" and f.location.line >= 1, f


@settings(settings.get_profile("template-fuzz"))
@given(st.sampled_from(SOURCES), st.data())
def test_removing_any_element_keeps_a_parseable_template(source, data):
    template = parse_template(source, "fuzz.xml")
    ref = data.draw(st.integers(1, len(template.document.elements) - 1))
    tag = template.document.elements[ref].tag
    edited = template.without_element(ref)
    assert len(edited.document.elements) == len(template.document.elements) - 1 - _descendants(template, ref)
    lint_template(edited)
    assert tag  # the removed element had a tag name


def _descendants(template, ref):
    count = 0
    stack = list(template.document.elements[ref].children)
    while stack:
        i = stack.pop()
        count += 1
        stack.extend(template.document.elements[i].children)
    return count
