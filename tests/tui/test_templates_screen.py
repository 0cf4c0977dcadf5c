"""TemplatesScreen: browse, import, lint-as-you-type, save only parsable XML, never lose the buffer."""

from __future__ import annotations

import contextlib

from engine.template.store import MAX_TEMPLATES, TemplateStore
from textual.widgets import Input, OptionList, Static, TabbedContent
from tests.tui.snapshot_apps_templates import MINIMAL, ScreenHost, copy_minimal, fill_store, no_blink
from tui.screens.templates import TemplatesScreen
from tui.widgets.template_dialogs import TemplateConfirmDialog, TemplatePromptDialog


async def settle(pilot, rounds: int = 3) -> None:
    """Let timers fire, workers finish and their messages arrive."""
    for _ in range(rounds):
        await pilot.pause(0.02)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def host(store: TemplateStore) -> tuple[ScreenHost, TemplatesScreen]:
    screen = TemplatesScreen(store, lint_delay=0.01, syntax=False)
    return ScreenHost(screen), screen


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_lists_templates_with_features_lint_counts_and_the_limit(tmp_path):
    app, screen = host(fill_store(tmp_path / "store", "rt5-basic"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert [row.name for row in screen.rows] == ["minimal_crm", "rt5_basic"]
        minimal = screen.rows[0]
        assert (minimal.key, minimal.auth_type, minimal.features) == ("minimal_crm", "basic", "----")
        assert screen.rows[1].features == "UCJT"
        assert f"2/{MAX_TEMPLATES} stored" in text_of(screen, "#templates-title")
        listing = screen.query_one("#templates-list", OptionList)
        assert listing.option_count == 2
        assert "Minimal CRM" in text_of(screen, "#templates-summary")
        await pilot.press("down")
        await settle(pilot)
        assert screen.highlighted == "rt5_basic"
        assert "Request Tracker 5" in text_of(screen, "#templates-summary")


async def test_empty_store_names_the_key_and_import_puts_the_template_in_the_store(tmp_path):
    store = TemplateStore(tmp_path / "store")
    app, screen = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        empty = screen.query_one("#templates-empty", Static)
        assert empty.display and "Press i to import" in str(empty.render())
        assert not screen.query_one("#templates-list").display
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, TemplatePromptDialog)
        app.screen.query_one(Input).value = str(copy_minimal(tmp_path / "incoming"))
        await pilot.press("enter")
        await settle(pilot)
        assert store.names() == ["minimal_crm"]
        assert app.screen is screen
        assert [row.name for row in screen.rows] == ["minimal_crm"]
        assert screen.query_one("#templates-list").display


async def test_import_of_a_broken_file_reports_where_and_stores_nothing(tmp_path):
    store = TemplateStore(tmp_path / "store")
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<Information Name="x" Key="k">\n  <Scenarios>\n</Information>\n')
    app, screen = host(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Input).value = str(bad)
        await pilot.press("enter")
        await settle(pilot)
        assert store.names() == []
        messages = [n.message for n in app._notifications]
        assert any(f"{bad}:4" in m for m in messages), messages


async def test_a_full_store_refuses_import_before_asking(tmp_path):
    store = TemplateStore(tmp_path / "store")
    for i in range(MAX_TEMPLATES):
        store.import_path(MINIMAL, name=f"t{i}")
    app, screen = host(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert f"{MAX_TEMPLATES}/{MAX_TEMPLATES} stored" in text_of(screen, "#templates-title")
        assert "store full" in text_of(screen, "#templates-title")
        await pilot.press("i")
        await pilot.pause()
        assert app.screen is screen
        assert any("limit" in n.message for n in app._notifications)


async def test_edit_shows_a_lint_finding_then_the_fix_is_saved(tmp_path):
    store = fill_store(tmp_path / "store")
    app, screen = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        no_blink(app)
        editor = screen.editor
        assert screen.editing == "minimal_crm" and not screen.dirty
        assert screen.query_one(TabbedContent).active == "editor"
        assert editor.has_focus
        original = editor.text
        assert screen.buffer_findings == []

        start = original.index("{{.Phone}}")
        row = original[:start].count("\n")
        col = start - (original.rfind("\n", 0, start) + 1)
        editor.cursor_location = (row, col + len("{{.Phone"))
        await pilot.press("e")  # typed into the buffer, not the Edit binding
        await settle(pilot)
        assert "{{.Phonee}}" in editor.text and screen.dirty
        codes = {f.code for f in screen.buffer_findings}
        assert "unknown-variable" in codes
        finding = next(f for f in screen.buffer_findings if f.code == "unknown-variable")
        assert finding.location.line == row + 1
        assert "modified" in text_of(screen, "#editor-status")

        await pilot.press("backspace")  # the fix
        editor.replace("Minimal CRM 2", *_span(editor.text, "Minimal CRM"))
        await settle(pilot)
        assert screen.buffer_findings == [] and screen.buffer_error is None
        await pilot.press("f2")
        await settle(pilot)
        assert store.path("minimal_crm").read_text() == editor.text
        assert "Minimal CRM 2" in editor.text and not screen.dirty
        assert screen.rows[0].title == "Minimal CRM 2"
        assert "saved" in text_of(screen, "#editor-status")


def _span(text: str, needle: str) -> tuple[tuple[int, int], tuple[int, int]]:
    start = text.index(needle)
    row = text[:start].count("\n")
    col = start - (text.rfind("\n", 0, start) + 1)
    return (row, col), (row, col + len(needle))


async def test_broken_xml_is_not_saved_and_the_buffer_is_kept(tmp_path):
    store = fill_store(tmp_path / "store")
    on_disk = store.path("minimal_crm").read_bytes()
    app, screen = host(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        editor = screen.editor
        editor.cursor_location = (3, 0)
        await pilot.press("<", "o", "o", "p", "s", " ")
        await settle(pilot)
        broken = editor.text
        assert "<oops <Scenario" in broken.replace("\t", "")
        assert screen.buffer_error is not None and screen.buffer_error.location.line == 4
        status = text_of(screen, "#editor-status")
        assert "XML error at line 4:" in status and "^" in status

        await pilot.press("f2")
        await settle(pilot)
        assert store.path("minimal_crm").read_bytes() == on_disk
        assert editor.text == broken
        assert any("your text is kept" in n.message for n in app._notifications)

        await pilot.press("escape")  # leave the editor: the buffer stays
        await settle(pilot)
        assert screen.query_one("#templates-list").display
        await pilot.press("e")
        await settle(pilot)
        assert editor.text == broken and screen.dirty


async def test_enter_on_a_stored_finding_opens_the_editor_at_its_line(tmp_path):
    text = MINIMAL.read_text().replace("{{.Phone}}", "{{.Phonee}}")
    source = tmp_path / "in" / "warned.xml"
    source.parent.mkdir()
    source.write_text(text)
    store = TemplateStore(tmp_path / "store")
    store.import_path(source)
    app, screen = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert screen.rows[0].count(screen.rows[0].findings[0].severity) >= 1
        await pilot.press("f")
        await settle(pilot)
        findings = screen.query_one("#templates-findings", OptionList)
        assert findings.has_focus and findings.option_count == len(screen.rows[0].findings)
        target = next(i for i, f in enumerate(screen.rows[0].findings) if f.code == "unknown-variable")
        findings.highlighted = target
        await pilot.press("enter")
        await settle(pilot)
        loc = screen.rows[0].findings[target].location
        assert screen.editing == "minimal_crm"
        assert screen.editor.cursor_location == (loc.line - 1, loc.col - 1)
        assert screen.editor.has_focus


async def test_delete_asks_first(tmp_path):
    store = fill_store(tmp_path / "store", "rt5-basic")
    app, screen = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, TemplateConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert store.names() == ["minimal_crm", "rt5_basic"]
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert store.names() == ["rt5_basic"]
        assert [row.name for row in screen.rows] == ["rt5_basic"]


async def test_duplicate_and_export(tmp_path):
    store = fill_store(tmp_path / "store")
    app, screen = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert app.screen.query_one(Input).value == "minimal_crm-copy"
        await pilot.press("enter")
        await settle(pilot)
        assert store.names() == ["minimal_crm", "minimal_crm-copy"]
        assert screen.highlighted == "minimal_crm-copy"
        await pilot.press("x")
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / "out")
        await pilot.press("enter")
        await settle(pilot)
        exported = tmp_path / "out" / "minimal_crm-copy.xml"
        assert exported.is_file() and 'Key="minimal_crm-copy"' in exported.read_text()


async def test_opening_another_template_with_unsaved_edits_asks(tmp_path):
    store = fill_store(tmp_path / "store", "rt5-basic")
    app, screen = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        screen.editor.insert("<!-- note -->\n", (1, 0))
        await settle(pilot)
        edited = screen.editor.text
        await pilot.press("escape", "down")
        await settle(pilot)
        assert screen.highlighted == "rt5_basic"
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, TemplateConfirmDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert screen.editing == "minimal_crm" and screen.editor.text == edited
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert screen.editing == "rt5_basic" and "Request Tracker" in screen.editor.text


async def test_escape_closes_the_screen_when_nothing_is_unsaved(tmp_path):
    app, screen = host(fill_store(tmp_path / "store"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen


# ---- snapshots ----------------------------------------------------------------------------------------

def test_templates_list_snapshot(snap_compare, tmp_path):
    """You should see 'Templates 2/10 stored', a list with minimal_crm (basic, ----, ok) highlighted and
    rt5_basic (basic, UCJT, 1I), the Summary tab of 'Minimal CRM', and a footer with i Import, e Edit."""
    app, _ = host(fill_store(tmp_path / "store", "rt5-basic"))

    async def run_before(pilot):
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_templates_broken_xml_snapshot(snap_compare, tmp_path):
    """You should see the editor of minimal_crm filling the screen, the status 'modified 1E' and, in red,
    'XML error at line 4:...' with the offending line and a caret; the text '<oops' is in the buffer."""
    app, screen = host(fill_store(tmp_path / "store"))

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        no_blink(pilot.app)
        screen.editor.cursor_location = (3, 0)
        await pilot.press("<", "o", "o", "p", "s", " ")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_external_editor_result_comes_back_into_the_buffer(tmp_path, monkeypatch):
    script = tmp_path / "fake-editor.sh"
    script.write_text('#!/bin/sh\nsed -i "s/Minimal CRM/Edited outside/" "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)
    store = fill_store(tmp_path / "store")
    app, screen = host(store)
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # no terminal to hand over in tests
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")  # nothing open yet: refused with a hint, no crash
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert 'Name="Edited outside"' in screen.editor.text and screen.dirty
        assert 'Name="Minimal CRM"' in store.path("minimal_crm").read_text()  # saved only on F2
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert 'Name="Minimal CRM"' in screen.editor.text


async def test_text_the_declared_encoding_cannot_hold_is_refused_with_its_position(tmp_path):
    source = tmp_path / "in" / "latin.xml"
    source.parent.mkdir()
    source.write_bytes(MINIMAL.read_text().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
                       .replace("Minimal CRM", "Minimal CRM caf\u00e9").encode("iso-8859-1"))
    store = TemplateStore(tmp_path / "store")
    store.import_path(source)
    on_disk = store.path("minimal_crm").read_bytes()
    app, screen = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert "caf\u00e9" in screen.editor.text and screen.encoding.lower().replace("_", "-") == "iso-8859-1"
        screen.editor.replace("\u20ac", *_span(screen.editor.text, "caf\u00e9"))
        await settle(pilot)
        assert screen.buffer_error is not None and screen.buffer_error.location.line == 2
        await pilot.press("f2")
        await settle(pilot)
        assert store.path("minimal_crm").read_bytes() == on_disk
        assert "\u20ac" in screen.editor.text


async def test_f3_from_the_editor_lists_the_buffer_findings_and_enter_jumps_back(tmp_path):
    app, screen = host(fill_store(tmp_path / "store"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        screen.editor.replace("{{.Phonee}}", *_span(screen.editor.text, "{{.Phone}}"))
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        findings = screen.query_one("#templates-findings", OptionList)
        assert findings.has_focus
        assert "editor buffer of minimal_crm (unsaved)" in text_of(screen, "#findings-source")
        assert findings.option_count == len(screen.buffer_findings) >= 1
        findings.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        loc = screen.buffer_findings[0].location
        assert screen.editor.has_focus and screen.has_class("-editing")
        assert screen.editor.cursor_location == (loc.line - 1, loc.col - 1)
