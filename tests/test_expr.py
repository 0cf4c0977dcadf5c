"""engine.expr: the PBX dialect, its functions, errors with locations, and the linter API."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import LocatedError
from engine.expr import (
    PBX_FUNCTIONS, Function, TemplateExecError, TemplateSyntaxError, VariableRef, check_syntax,
    compile_template, referenced_variables, render,
)
from engine.expr.functions import FuncError

# --- PBX dialect -----------------------------------------------------------------------------


def test_missing_variable_renders_empty_in_pbx_and_no_value_in_go():
    assert render("[{{.nope}}|{{.a.b}}|{{.n}}]", {"n": None}) == "[||]"
    go = compile_template("[{{.nope}}]", dialect="go")
    assert go.render({}) == "[<no value>]"


def test_python_ints_print_as_ints_and_floats_like_go():
    assert render("{{.i}} {{.big}} {{.f}} {{.g}} {{.t}}", {"i": 1000000, "big": 1672531199, "f": 1e6,
                                                           "g": 0.5, "t": True}) == "1000000 1672531199 1e+06 0.5 true"


def test_single_quoted_strings_in_pbx_dialect():
    assert render("{{printf '%s-%s' 'a' .b}}", {"b": "x"}) == "a-x"
    assert render(r"{{'it\'s'}}") == "it's"
    with pytest.raises(TemplateSyntaxError):
        compile_template("{{'ab'}}", dialect="go")


def test_single_quotes_inside_a_json_body():
    body = '{"start": "{{TimeFormat .StartTimeUnix \'yyyy-MM-ddTHH:mm:ss-z\' \'1\'}}"}'
    assert render(body, {"StartTimeUnix": 1672531199}) == '{"start": "2022-12-31T23:59:59-UTC"}'


def test_pbx_function_names():
    assert set(PBX_FUNCTIONS) == {"TimeFormat", "ToMillis", "Capitalize", "UrlEncode"}
    for name in PBX_FUNCTIONS:
        assert check_syntax("{{%s .x 'a' '1'}}" % name) is None
        assert compile_template("x", dialect="go") is not None
        with pytest.raises(TemplateSyntaxError, match=f'function "{name}" not defined'):
            compile_template("{{%s .x}}" % name, dialect="go")


# --- the PBX functions (spec A.4) ----------------------------------------------------------------

@pytest.mark.parametrize(("tpl", "want"), [
    ('{{TimeFormat 1672531199 "yyyy-MM-ddTHH:mm:ss.000Zz" "1"}}', "2022-12-31T23:59:59.000Z"),
    ('{{TimeFormat .ts "yyyy-MM-dd HH:mm:ss +0000" "1"}}', "2022-12-31 23:59:59 +0000"),
    ('{{TimeFormat .s "yy/M/d h:m:s a SSS" "1"}}', "22/12/31 11:59:59 PM 000"),
    ('{{TimeFormat .ts "Z z XXX X" "1"}}', "+0000 UTC Z Z"),
    ("{{TimeFormat .ts \"'yyyy' yyyy\" \"1\"}}", "yyyy 2022"),
    ('{{TimeFormat .ts "EEE, dd MMM yyyy" "1"}}', "Sat, 31 Dec 2022"),
    ('{{ToMillis .ts}} {{ToMillis .s}} {{ToMillis "1672531199"}}', "1672531199000 1672531199000 1672531199000"),
    ('{{Capitalize "hello world"}} {{Capitalize "ärger"}} {{Capitalize ""}}', "Hello world Ärger "),
    ('{{UrlEncode "hello world!"}} {{UrlEncode "+4930123"}} {{UrlEncode "a-b_c.d~e/f"}}',
     "hello%20world%21 %2B4930123 a-b_c.d~e%2Ff"),
    ('{{.name | Capitalize | printf "<%s>"}}', "<ann>".replace("a", "A", 1)),
])
def test_pbx_functions(tpl, want):
    assert render(tpl, {"ts": 1672531199, "s": "1672531199", "name": "ann"}) == want


def test_timeformat_uses_the_pbx_time_zone_unless_utc_is_1():
    tpl = '{{TimeFormat .ts "yyyy-MM-ddTHH:mm:ssZz" .utc}}'
    assert render(tpl, {"ts": 1672531199, "utc": "0"}, tz="Europe/Berlin") == "2023-01-01T00:59:59+01:00"
    assert render(tpl, {"ts": 1672531199, "utc": "1"}, tz="Europe/Berlin") == "2022-12-31T23:59:59Z"
    tz = dt.timezone(dt.timedelta(hours=-5, minutes=-30))
    assert render('{{TimeFormat .ts "HH:mm Z XX" "0"}}', {"ts": 0}, tz=tz) == "18:30 -0530 -0530"


def test_timeformat_default_zone_is_the_hosts():
    want = dt.datetime.fromtimestamp(1672531199).astimezone().strftime("%Y-%m-%d %H:%M")
    assert render('{{TimeFormat 1672531199 "yyyy-MM-dd HH:mm" ""}}') == want


def test_pbx_functions_on_missing_values_give_empty_text():
    assert render("[{{TimeFormat .no 'yyyy' '1'}}|{{ToMillis .no}}|{{Capitalize .no}}|{{UrlEncode .no}}]") == "[|||]"


def test_pbx_function_errors_are_located():
    with pytest.raises(TemplateExecError) as e:
        render("ok\n  {{ToMillis .x}}", {"x": "soon"}, name="t.xml:3 @Data")
    assert e.value.location.file == "t.xml:3 @Data"
    assert (e.value.location.line, e.value.location.col) == (2, 5)
    assert "error calling ToMillis" in e.value.message and "soon" in e.value.message


# --- errors ------------------------------------------------------------------------------------

def test_syntax_error_has_name_line_col_and_caret():
    name = "rt5.xml:42 CallJournal/Request[LogCall]/@URLFormat"
    with pytest.raises(TemplateSyntaxError) as e:
        compile_template("https://x/\n{{if .a}}{{.b}", name)
    err = e.value
    assert isinstance(err, LocatedError)
    assert (err.location.file, err.location.line) == (name, 2)
    assert str(err).startswith(f"{name}:2:")
    assert err.excerpt.splitlines()[1].strip() == "^"


def test_unclosed_block_names_where_it_was_opened():
    err = check_syntax("a\n{{range .x}}\n{{if .y}}z{{end}}")
    assert err is not None
    assert "{{range}} at 2:1 has no {{end}}" in err.message


def test_exec_error_points_at_the_failing_node():
    with pytest.raises(TemplateExecError) as e:
        render('{{.a}} {{printf "%d" (index .list 5)}}', {"a": 1, "list": [1]})
    assert e.value.location.col == 23
    assert "index out of range: 5" in e.value.message
    assert e.value.excerpt.splitlines()[1].index("^") == 2 + 22


def test_exec_error_inside_a_defined_template_names_it():
    with pytest.raises(TemplateExecError, match='in template "row"'):
        render('{{define "row"}}{{.x.y}}{{end}}{{template "row" .}}', {"x": "s"})


def test_check_syntax():
    assert check_syntax("{{.a}} {{if .b}}x{{end}}") is None
    err = check_syntax("{{.a", "n")
    assert isinstance(err, TemplateSyntaxError)
    assert err.location.file == "n"


# --- compile cache and custom functions --------------------------------------------------------

def test_compiled_template_is_cached_per_text_and_dialect():
    a = compile_template("{{.x}}-cache")
    assert compile_template("{{.x}}-cache") is a
    assert compile_template("{{.x}}-cache", dialect="go") is not a
    assert a.render({"x": 1}) == "1-cache" and a.render({"x": 2}) == "2-cache"


def test_custom_functions():
    def boom(s):
        raise FuncError("no way")

    tpl = compile_template("{{up .x}}|{{join3 .x .x .x}}", funcs={
        "up": str.upper, "join3": Function(lambda a, b, c: a + b + c, ("string", "string", "string"))})
    assert tpl.render({"x": "ab"}) == "AB|ababab"
    with pytest.raises(TemplateExecError, match="expected string; got int"):
        compile_template("{{join3 .x .x .x}}", funcs={"join3": tpl.funcs["join3"]}).render({"x": 3})
    with pytest.raises(TemplateExecError, match="error calling boom: no way"):
        compile_template("{{boom .x}}", funcs={"boom": boom}).render({"x": "a"})


def test_unknown_context_and_dialect_are_rejected():
    with pytest.raises(ValueError):
        compile_template("x").render({}, context="xml")
    with pytest.raises(ValueError):
        compile_template("x", dialect="jinja")


def test_go_control_flow_in_pbx_dialect():
    tpl = ("{{range $i, $c := .calls}}{{if $i}},{{end}}{{$c.n}}{{if eq $c.s 'Answered'}}+{{else if eq $c.s 'Busy'}}b"
           "{{else}}-{{end}}{{end}}{{with .none}}x{{else}}/none{{end}}")
    data = {"calls": [{"n": 1, "s": "Answered"}, {"n": 2, "s": "Busy"}, {"n": 3, "s": "No Answer"}]}
    assert render(tpl, data) == "1+,2b,3-/none"


# --- referenced_variables ---------------------------------------------------------------------

def test_referenced_variables():
    text = ("{{.Phone}} {{if .a.b}}{{.Inner}}{{end}}\n{{with .w}}{{.x}}{{else}}{{.e}}{{end}}"
            "{{range .r}}{{.y}}{{$.Top}}{{end}}{{UrlEncode (printf '%s' .p)}}{{$v := .V}}{{$v.not}}")
    refs = referenced_variables(text)
    assert [r.name for r in refs] == ["Phone", "a", "Inner", "w", "e", "r", "Top", "p", "V"]
    assert refs[0] == VariableRef("Phone", 1, 3)
    assert refs[3].line == 2


def test_referenced_variables_raises_on_bad_syntax():
    with pytest.raises(TemplateSyntaxError):
        referenced_variables("{{.a")


def test_endless_template_recursion_is_a_located_error_not_a_crash():
    with pytest.raises(TemplateExecError, match="exceeded maximum template depth"):
        render('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', {})


def test_recursive_template_within_the_depth_limit():
    tpl = '{{define "r"}}{{if .}}{{index . 0}}{{template "r" (slice . 1)}}{{end}}{{end}}{{template "r" .l}}'
    assert render(tpl, {"l": list(range(30))}) == "".join(str(i) for i in range(30))


@pytest.mark.parametrize("opening, closing", [
    ("{{if 1}}", "{{end}}"), ("{{range .l}}", "{{end}}"), ("{{with 1}}", "{{end}}"), ("(", ")"),
    ('{{block "b" 1}}', "{{end}}"), ("{{else if 0}}", ""),
])
def test_absurd_nesting_is_a_located_syntax_error_not_a_recursion_error(opening, closing):
    """3000 levels used to raise RecursionError from the recursive parser; now a located parse error."""
    n = 3000
    if opening == "(":
        text = "{{" + "(" * n + "1" + ")" * n + "}}"
    elif opening.startswith("{{else"):
        text = "{{if 0}}" + opening * n + "{{end}}"
    else:
        text = opening * n + "x" + closing * n
    with pytest.raises(TemplateSyntaxError, match="nest more than 100 levels deep") as exc:
        compile_template(text, "deep")
    # the error points at the opener of level 101 (the {{if}} counts as level 1 of an else-if chain)
    if opening == "(":
        offset = len("{{") + 100
    elif opening.startswith("{{else"):
        offset = len("{{if 0}}") + 99 * len(opening)
    else:
        offset = 100 * len(opening)
    assert (exc.value.location.file, exc.value.location.line, exc.value.location.col) == ("deep", 1, offset + 1)


def test_nesting_up_to_the_limit_still_renders():
    assert render("{{if 1}}" * 100 + "{{.a}}" + "{{end}}" * 100, {"a": 7}) == "7"
    assert render("{{" + "(" * 99 + "len .s" + ")" * 99 + "}}", {"s": "abc"}) == "3"


@pytest.mark.parametrize("text, data, message", [
    ("{{range 100000000}}x{{end}}", {}, "too much work"),  # Go would write 100 MB
    ("{{range 1000}}{{range 1000}}{{end}}{{end}}", {}, "too much work"),
    ('{{define "r"}}{{if .}}{{template "r" (slice . 1)}}{{template "r" (slice . 1)}}{{end}}{{end}}'
     '{{template "r" .l}}', {"l": list(range(40))}, "too much work"),  # 2^40 calls
    ("{{range 2000}}{{$.big}}{{end}}", {"big": "x" * 10_000}, "output is larger than 8 MiB"),
    ('{{$x := "ab"}}{{range 40}}{{$x = print $x $x}}{{end}}', {}, "result is longer than 8 MiB"),
])
def test_hostile_templates_hit_the_render_bounds_quickly(text, data, message):
    """A template from an imported file cannot hang the console or eat the memory."""
    with pytest.raises(TemplateExecError, match=message) as exc:
        render(text, data)
    assert exc.value.location.line == 1 and exc.value.location.col > 1


def test_render_bounds_leave_real_work_alone():
    rows = [{"id": i, "name": f"n{i}"} for i in range(20_000)]
    out = render('{{range .rows}}{{.id}}:{{.name}},{{end}}', {"rows": rows})
    assert out.count(",") == 20_000 and out.startswith("0:n0,1:n1,")


_PIECES = ["{{", "}}", "{{-", "-}}", " ", ".", ".a", ".b.c", "$", "$x", ":=", "=", "|", "(", ")", "if", "else",
           "end", "range", "with", "define", "template", "break", "continue", '"s"', "'q'", "`r`", "1", "-2",
           "1.5", "1+2i", "nil", "true", "and", "eq", "len", "index", "slice", "printf", '"%d %v"', "html",
           "TimeFormat", "ToMillis", "UrlEncode", "raw", "/*", "*/", ",", "\n", "'", '"', "\\", "{{.a}}",
           "{{end}}", "{{else}}", "{{range .l}}", "{{if .a}}"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=14).map("".join), st.sampled_from(["pbx", "go"]))
def test_any_input_gives_output_or_a_located_error(text, dialect):
    """Bad input never crashes the engine: it renders or fails with a located template error."""
    data = {"a": 1, "b": {"c": "x"}, "l": [1, "two", None, {"k": 3.5}], "s": "str", "n": None}
    try:
        tpl = compile_template(text, dialect=dialect)
    except TemplateSyntaxError as e:
        assert e.location.line >= 1 and e.excerpt
        return
    for context in ("text", "json", "url", "header", "gjson", "form"):
        try:
            assert isinstance(tpl.render(data, context=context), str)
        except TemplateExecError as e:
            assert e.location.line >= 1
