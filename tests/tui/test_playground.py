"""PlaygroundScreen: live GJSON results with explain-why, live template rendering with located errors."""

from __future__ import annotations

from textual.widgets import Input, Select, Static, TabbedContent, TextArea

from engine.paths import gjson
from tests.tui.snapshot_apps_templates import CONTACTS_JSON, ScreenHost, no_blink
from tui.screens.playground import PlaygroundScreen, render_template
from tui.widgets.playground_explain import explain_path, split_components


async def settle(pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.pause(0.03)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def host(**kwargs) -> tuple[ScreenHost, PlaygroundScreen]:
    screen = PlaygroundScreen(**kwargs, debounce=0.01, syntax=False)
    return ScreenHost(screen), screen


def result_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


# ---- the explainer (no Textual) -----------------------------------------------------------------------

def test_components_split_only_at_top_level_separators():
    path = 'a.#(b.c=="x.y").d\\.e|@pretty:{"a":1}'
    assert [c for c, _, _ in split_components(path)] == ["a", '#(b.c=="x.y")', "d\\.e", '@pretty:{"a":1}']


def test_explain_names_the_failing_component_and_the_near_miss():
    doc = gjson.parse(CONTACTS_JSON)
    e = explain_path(doc, "data.0.name")
    assert [(s.component, s.exists) for s in e.steps] == [("data", True), ("0", True), ("name", False)]
    assert e.stopped.col == 8
    assert "`name` is not a key of the object at `data.0`" in e.reason
    assert any("did you mean `Name`" in h for h in e.hints)
    assert any("id, Name, phones" in h for h in e.hints)


def test_explain_arrays_scalars_queries_and_empty_input():
    doc = gjson.parse(CONTACTS_JSON)
    assert "array of 2 items" in explain_path(doc, "data.Name").reason
    assert any("data.#.Name" in h for h in explain_path(doc, "data.Name").hints)
    assert "index 5 is out of range" in explain_path(doc, "data.5.id").reason
    assert "is a Number (2)" in explain_path(doc, "meta.total.value").reason
    assert "matches the query" in explain_path(doc, 'data.#(Name=="Cy").id').reason
    assert "empty list" in explain_path(doc, "data.#.email").reason
    assert "empty" in explain_path(gjson.parse(""), "a").reason
    assert "line 1:2" in explain_path(gjson.parse("{oops"), "a").reason
    assert explain_path(doc, "data.0.Name").stopped is None


def test_render_template_reports_located_errors_and_missing_variables():
    ok = render_template("{{.Name}} {{.Phone}}", '{"Name": "Ann"}', "text")
    assert ok.output == "Ann " and ok.missing == ["Phone"] and ok.variables == ["Name", "Phone"]
    bad = render_template("Hi\n{{.Name | nosuch}}", "{}", "text")
    assert bad.output is None and "template:2:" in bad.error and "^" in bad.error
    assert "variables: line 1:2" in render_template("{{.A}}", "{oops", "text").error
    assert "must be a JSON object" in render_template("{{.A}}", "[1]", "text").error
    assert render_template("http://h/search?q={{.Q}}", '{"Q": "a b&c"}', "url").output == \
        "http://h/search?q=a%20b%26c"
    assert render_template('{"name": {{.Q}}}', '{"Q": "a\\"b"}', "json").output == '{"name": "a\\"b"}'


# ---- the screen -----------------------------------------------------------------------------------------

async def test_gjson_result_updates_live_and_explains_an_empty_result():
    app, screen = host(initial_json=CONTACTS_JSON, initial_path="data.0.Name")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert screen.last_gjson.exists and screen.last_gjson.string == "Ann Lee"
        assert "Ann Lee" in result_text(screen, "#gjson-result")
        await pilot.press("f9")
        assert app.clipboard == "Ann Lee"
        path = screen.query_one("#gjson-path", Input)
        assert path.has_focus
        await pilot.press("end", "backspace", "backspace", "backspace", "backspace", "n", "a", "m", "e")
        await settle(pilot)
        assert path.value == "data.0.name"
        assert not screen.last_gjson.exists
        shown = result_text(screen, "#gjson-result")
        assert "exists false" in shown
        assert "stops at `name` (col 8)" in shown
        assert "did you mean `Name`?" in shown


async def test_gjson_path_problems_and_edited_json_are_reflected():
    app, screen = host(initial_json=CONTACTS_JSON, initial_path="data.#(id==7")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert screen.last_gjson.problems
        assert "path col" in result_text(screen, "#gjson-result")
        screen.query_one("#gjson-path", Input).value = "meta.total"
        await settle(pilot)
        assert screen.last_gjson.string == "2" and screen.last_gjson.type == "Number"
        area = screen.query_one("#gjson-json", TextArea)
        area.replace('{"meta": {"total": 41}}', (0, 0), area.document.end)
        await settle(pilot)
        assert screen.last_gjson.string == "41"


async def test_loading_a_captured_response_from_a_file(tmp_path):
    capture = tmp_path / "response.json"
    capture.write_text('{"result": {"contact": {"id": "c-9"}}}')
    app, screen = host(initial_path="result.contact.id")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert not screen.last_gjson.exists
        assert "Paste a response" in result_text(screen, "#gjson-result")
        await pilot.press("f4")
        load = screen.query_one("#playground-file", Input)
        assert load.has_focus
        load.value = str(tmp_path / "missing.json")
        await pilot.press("enter")
        await settle(pilot)
        assert any("cannot read" in n.message for n in app._notifications)
        load.value = str(capture)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.query_one("#gjson-json", TextArea).text == capture.read_text()
        assert screen.last_gjson.string == "c-9"


async def test_template_mode_renders_live_and_shows_the_located_error():
    app, screen = host(initial_template="Call from {{.CallerName}}", initial_variables='{"CallerName": "Ann"}')
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "template"
        text = screen.query_one("#template-text", TextArea)
        assert text.has_focus
        assert screen.last_render.output == "Call from Ann"
        assert "Call from Ann" in result_text(screen, "#template-result")
        text.cursor_location = text.document.end
        await pilot.press("{", "{", "i", "f", "}", "}")
        await settle(pilot)
        assert screen.last_render.output is None
        assert "template:1:" in screen.last_render.error
        shown = result_text(screen, "#template-result")
        assert "Error" in shown and "^" in shown
        text.load_text("http://h/search?q={{.Q}}")
        screen.query_one("#template-vars", TextArea).load_text('{"Q": "a b&c"}')
        screen.query_one("#template-context", Select).value = "url"
        await settle(pilot)
        assert screen.last_render.output == "http://h/search?q=a%20b%26c"
        assert "27 characters" in result_text(screen, "#template-result")


def test_playground_explain_snapshot(snap_compare):
    """You should see the GJSON tab with path 'data.0.name', the JSON on the left and on the right
    'exists false', the prefixes data and data.0 ticked, data.0.name crossed, 'stops at `name` (col 8)'
    and the hint 'did you mean `Name`?'."""
    app, _ = host(initial_json=CONTACTS_JSON, initial_path="data.0.name")

    async def run_before(pilot):
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_an_output_spec_with_alternatives_shows_which_one_won_per_record():
    app, screen = host(initial_json=CONTACTS_JSON, initial_path="data.#.first_name, data.#.Name")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        m = screen.last_gjson
        assert m.records == ["Ann Lee", "Bob Stone"]
        assert m.mapping.matched == [1, 1]
        shown = result_text(screen, "#gjson-result")
        assert "As a template Output path" in shown
        assert "1. Ann Lee  (alternative 2)" in shown
        assert "data.#.first_name (gjson): nothing" in shown
        screen.query_one("#gjson-path", Input).value = "data.#.first_name, data.#.nick"
        await settle(pilot)
        shown = result_text(screen, "#gjson-result")
        assert "(every alternative empty)" in shown
        assert screen.last_gjson.explanation.reason.startswith("the path matched an empty list")
