"""GJSON evaluator: API, Go's formatting and leniency, and tree == scanner."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.paths import _scan, gjson
from engine.paths.gjson import PathProblem

CONTACTS = """{
  "data": [
    {"id": 1, "name": "Ann", "phones": [{"type": "work", "number": "+49 30 1"}, {"type": "mobile", "number": "0170 1"}]},
    {"id": 2, "name": "Bob \\"B\\" Smith", "phones": []},
    {"id": 3, "phones": [{"type": "mobile", "number": "0170 3"}]}
  ],
  "total": 3
}"""


# --- API ----------------------------------------------------------------------------

def test_result_fields():
    r = gjson.get(CONTACTS, "data.1.name")
    assert (r.string, r.raw, r.exists, r.type) == ('Bob "B" Smith', '"Bob \\"B\\" Smith"', True, "String")
    missing = gjson.get(CONTACTS, "data.9.name")
    assert (missing.string, missing.raw, missing.exists, missing.type) == ("", "", False, "Null")


def test_projection_and_query():
    assert gjson.get(CONTACTS, "data.#.id").string == "[1,2,3]"
    assert gjson.get(CONTACTS, "data.#.name").string == '["Ann","Bob \\"B\\" Smith"]'
    assert gjson.get(CONTACTS, 'data.#.phones.#(type=="mobile").number').string == '["0170 1","0170 3"]'
    assert gjson.get(CONTACTS, 'data.#(id>1)#.id').string == "[2,3]"
    assert gjson.get(CONTACTS, "data.#").string == "3"


def test_array_value_and_helpers():
    r = gjson.get(CONTACTS, "data.0.phones")
    assert r.is_array() and not r.is_object()
    assert [p.get("type").string for p in r.array()] == ["work", "mobile"]
    assert r.value() == [{"type": "work", "number": "+49 30 1"}, {"type": "mobile", "number": "0170 1"}]
    assert gjson.get(CONTACTS, "total").value() == 3
    assert gjson.get(CONTACTS, "nope").array() == []
    assert [x.string for x in gjson.get(CONTACTS, "total").array()] == ["3"]


def test_get_many_and_document():
    a, b, c = gjson.get_many(CONTACTS, "total", "data.0.name", "missing")
    assert (a.string, b.string, c.exists) == ("3", "Ann", False)
    doc = gjson.parse(CONTACTS)
    assert doc.is_valid_json
    assert doc.get("data.2.phones.0.number").string == "0170 3"
    assert [r.string for r in doc.get_many("total", "data.0.id")] == ["3", "1"]


def test_raw_container_keeps_whitespace():
    doc = gjson.parse('{"a": [1,  2 ,\n 3]}')
    assert doc.get("a").raw == "[1,  2 ,\n 3]"
    assert doc.get("a").string == "[1,  2 ,\n 3]"


@pytest.mark.parametrize("raw, expected", [
    ("1e3", "1000"), ("1.50", "1.5"), ("-0", "-0"), ("0.1e-6", "0.0000001"),
    ("12345678901234567890", "12345678901234567890"), ("1E+2", "100"), ("-1.0", "-1"),
])
def test_go_number_formatting(raw, expected):
    for doc in (gjson.parse('{"n": %s}' % raw), None):
        res = doc.get("n") if doc else gjson.get('{"n": %s}' % raw, "n")
        assert res.string == expected
        assert res.raw == raw


def test_duplicate_keys_first_match():
    text = '{"a": 1, "a": 2, "b": {"c": 1}, "b": {"d": 2}}'
    doc = gjson.parse(text)
    assert doc.get("a").string == "1"
    # Go tries the next duplicate when the path does not go on in the first one
    assert doc.get("b.d").string == "2" == gjson.get(text, "b.d").string


def test_lenient_on_malformed_json():
    text = '{"name": "Ann", "age": 41, "broken": [1, 2'
    doc = gjson.parse(text)
    assert not doc.is_valid_json
    assert doc.get("name").string == "Ann"
    assert doc.get("age").string == "41"
    assert doc.get("broken.1").string == "2"


def test_escaped_strings_keep_their_raw_form():
    text = '{"a": ["caf\\u00e9", "x\\/y", "café"]}'
    doc = gjson.parse(text)
    assert doc.get("a").string == gjson.get(text, "a").string
    assert doc.get("a.#").string == "3"
    assert doc.get("a.0").raw == '"caf\\u00e9"' and doc.get("a.0").string == "café"
    assert doc.get("a.1").raw == '"x\\/y"'
    assert doc.get("a.2").raw == '"café"'


def test_add_modifier_and_builtins():
    gjson.add_modifier("upper", lambda js, arg: js.upper())
    try:
        assert gjson.modifier_exists("upper")
        assert gjson.get('{"a":"x"}', "a|@upper").string == "X"
        assert gjson.parse('{"a":"x"}').get("a.@upper").string == "X"
    finally:
        del _scan.MODIFIERS["upper"]
    with pytest.raises(ValueError):
        gjson.add_modifier("a.b", lambda js, arg: js)
    assert gjson.get('[3,1,2]', "@reverse").string == "[2,1,3]"
    assert gjson.get('{"a":1,"b":2}', "@keys").string == '["a","b"]'
    assert gjson.get('{"a" : 1}', "@ugly").string == '{"a":1}'
    assert gjson.get('{"a":1}', "@pretty").string == '{\n  "a": 1\n}\n'


def test_escape_component():
    text = '{"a.b": {"c*": 1}}'
    assert gjson.get(text, gjson.escape("a.b") + "." + gjson.escape("c*")).string == "1"


# --- path_problems ----------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "data.#.id", 'data.#(type=="mobile").number', "data.#(age>=18)#.name", "a|@reverse",
    "[a,b]", '{"x":a.b}', "a\\.b", "friends.#(nets.#(==\"fb\"))#.first", "@pretty:{\"indent\":\"\\t\"}",
    "data.#(name%\"A*\")", "a.b.c", "items.0.@type", "@id", "@key", "a.#(b==!x)", "a.#(b!%\"x*\")",
])
def test_path_problems_accepts_valid_paths(path):
    assert gjson.path_problems(path) == []


@pytest.mark.parametrize("path, col, words", [
    ("data.#(type==\"mobile\".number", 7, "never closed"),
    ("data.#(type==\"mobile).number", 14, "unterminated string"),
    ("a.b)", 4, "no matching"),
    ("a|@revers", 3, "unknown modifier @revers; did you mean @reverse?"),
    ("a|@shout:1", 3, "unknown modifier @shout; known:"),
    ("@prety:{}", 1, "unknown modifier @prety; did you mean @pretty?"),
    ("data.#(age=>3)", 11, "unknown query operator '=>'"),
    ("data.#(age!3)", 11, "unknown query operator '!'"),
    ("data.#(age<>3)", 11, "unknown query operator '<>'"),
    ("[a,b", 1, "never closed"),
])
def test_path_problems_reports_mistakes(path, col, words):
    problems = gjson.path_problems(path)
    assert problems, path
    assert problems[0].col == col
    assert words in problems[0].message
    assert isinstance(problems[0], PathProblem)


# --- the tree fast path gives the scanner's answers ------------------------------------------

KEYS = ["a", "b", "id", "n", "#", "0", "1"]


def _text(value, draw_ws):
    ws = draw_ws()
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        body = ",".join(f"{ws}{json.dumps(k)}{ws}:{_text(v, draw_ws)}" for k, v in value[1:])
        return "{" + body + ws + "}"
    if isinstance(value, list):
        return "[" + ",".join(ws + _text(v, draw_ws) for v in value) + ws + "]"
    return value


scalars = st.sampled_from([
    "0", "-0", "1", "-7", "2.50", "1e3", "12345678901234567890", "true", "false", "null",
    '"x"', '"a b"', '"caf\\u00e9"', '"café"', '"q\\"t"', '"s\\/l"', '"[1]"', '"{"', '""', '"0"',
    '"\\ud83d\\ude00"',
])


def _containers(children):
    obj = st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=4).map(lambda kv: [("",)] + kv)
    arr = st.lists(children, max_size=4)
    return obj | arr


values = st.recursive(scalars, _containers, max_leaves=12)
components = st.sampled_from(KEYS + ["#", "2", "x", "#(id==1)", "#(id>0)#", '#(a=="x")', "#(n)", "#(b>=\"a\")#",
                                     '#(a%"*a*")', "#(0)", '#(==1)', "#(#>1)", "#(id==1).a"])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(root=_containers(values), parts=st.lists(components, min_size=1, max_size=4),
       ws=st.sampled_from(["", " ", "\n  "]))
def test_tree_equals_scanner(root, parts, ws):
    text = _text(root, lambda: ws)
    path = ".".join(parts)
    want = gjson.get(text, path)
    got = gjson.parse(text).get(path)
    assert (got.string, got.raw, got.exists, got.type) == (want.string, want.raw, want.exists, want.type)


rests = st.lists(st.sampled_from(KEYS + ["a.b", "0.a", "#", "a.#", "id.x", "#(id==1)", "a.0.b"]),
                 min_size=2, max_size=5)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_containers(values), max_size=4), extra=st.sampled_from(["", ',"a":1', ',"d":[]']),
       tails=rests, ws=st.sampled_from(["", " "]))
def test_get_many_equals_scanner(items, extra, tails, ws):
    """The batched projections of get_many give each path's scanner answer."""
    text = '{"d":[' + ",".join(_text(v, lambda: ws) for v in items) + "]" + extra + "}"
    paths = ["d.#." + t for t in tails] + ["a", "d.#"]
    got = gjson.parse(text).get_many(*paths)
    for path, res in zip(paths, got):
        want = gjson.get(text, path)
        assert (res.string, res.raw, res.exists, res.type) == (want.string, want.raw, want.exists, want.type), path


def test_get_many_on_duplicate_keys_and_escapes():
    text = '{"d":[{"a":1,"a":2,"b":{"c":"x\\/y"}},{"a":"caf\\u00e9","b":{"c":3,"c":4}}]}'
    paths = ["d.#.a", "d.#.b.c", "d.#.b"]
    got = gjson.parse(text).get_many(*paths)
    assert [r.string for r in got] == [gjson.get(text, p).string for p in paths]
    assert got[0].string == '[1,"caf\\u00e9"]'


def test_bytes_input_and_bad_types():
    assert gjson.get(b'{"a":"\xc3\xa9"}', "a").string == "é"
    assert gjson.parse(bytearray(b'{"a":[1,2]}')).get("a.#").string == "2"
    with pytest.raises(TypeError):
        gjson.parse(42)


def test_absurd_nesting_never_raises():
    text = "[" * 2000 + "]" * 2000
    doc = gjson.parse(text)
    assert not doc.is_valid_json  # too deep for the tree: the scanner answers
    assert doc.get("0.0.0").raw == text[3:-3]
    for path in ("@pretty", "@valid", "@flatten:{\"deep\":true}"):
        res = doc.get(path)  # Go's stack grows; Python's can't, so "missing" instead of a crash
        assert res.type in ("Null", "JSON")


@pytest.mark.parametrize("text, go_value", [
    ("1_000", 0.0), ("-nan", 0.0), ("+Inf", float("inf")), ("-infinity", float("-inf")), ("0x1p-2", 0.25),
    ("0x10", 0.0), (".5", 0.5), ("5.", 5.0), ("\uff11", 0.0), (" 1", 0.0), ("1e400", float("inf")),
])
def test_parse_float_follows_go(text, go_value):
    assert _scan.parse_float(text) == go_value
    assert _scan.parse_float("nan") != _scan.parse_float("nan")  # NaN


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(values, max_size=4), rest=st.sampled_from(KEYS + ["a.b", "0.a", "#", "a.#", "#(id==1)", ""]),
       ws=st.sampled_from(["", " "]))
def test_column_equals_scanner_per_element(items, rest, ws):
    """Document.column keeps every element: Go's Get(element, rest) for each."""
    text = '{"d":[' + ",".join(_text(v, lambda: ws) for v in items) + "]}"
    got = gjson.parse(text).column("d", rest)
    want = [e.get(rest) for e in gjson.get(text, "d").array()]
    assert [(r.string, r.raw, r.exists, r.type) for r in got] == [(r.string, r.raw, r.exists, r.type) for r in want]


def test_column_is_none_for_non_arrays():
    doc = gjson.parse('{"d":{"a":1},"e":[{"a":1},{"b":2}]}')
    assert doc.column("d", "a") is None
    assert doc.column("nope", "a") is None
    assert [r.string for r in doc.column("e", "a")] == ["1", ""]
    assert [r.string for r in gjson.parse('[{"a":1},2]').column("", "a")] == ["1", ""]


def test_same_text_written_two_ways():
    text = '{"d":[{"u":"a\\/b"},{"u":"a/b"},{"u":"\\u00e9"},{"u":"\\u00E9"},{"u":"x\\\\\\"y"}]}'
    doc = gjson.parse(text)
    assert doc.is_valid_json
    want = gjson.get(text, "d.#.u")
    assert want.raw == '["a\\/b","a/b","\\u00e9","\\u00E9","x\\\\\\"y"]'
    assert doc.get("d.#.u").raw == want.raw
    assert doc.get_many("d.#.u", "d.#.v")[0].raw == want.raw
    assert [r.raw for r in doc.column("d", "u")] == ['"a\\/b"', '"a/b"', '"\\u00e9"', '"\\u00E9"', '"x\\\\\\"y"']
