"""What an operator over SSH trips over: keys in text fields, keys terminals eat, toasts over the card,
live durations, the connection indicator, ANSI themes. Pilot against the fake engine, clock injected."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from rich.style import Style
from textual.widgets import Input, Static

from engine.console import CallAnswered, CallRang, ConnectionChanged, TraceRecorded
from tests.tui.fake_engine import (
    FIXED_NOW,
    FakeEngine,
    journal_trace,
    search_trace,
)
from tests.tui.test_console_screen import console_app, settle
from themes import theme_style
from tui.app import AppOptions, make_app
from tui.screens.console import ConsoleScreen
from tui.screens.dialogs import HelpScreen
from tui.widgets.calls import CallList, CallRow, format_duration


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def test_q_typed_into_a_text_field_is_text_and_ctrl_q_still_quits():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        manual = app.screen.query_one("#manual", Input)
        manual.focus()
        await pilot.press(*"1001=q")
        await settle(pilot)
        assert manual.value == "1001=q" and app.is_running and not engine.stopped
        await pilot.press("ctrl+q")
    assert engine.stopped and app.return_code == 0


async def test_panes_and_help_have_keys_that_multiplexers_leave_alone():
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one("TabbedContent")
        seen = []
        for _ in range(4):
            await pilot.press("right_square_bracket")
            await settle(pilot)
            seen.append(tabs.active)
        assert seen == ["history", "inspector", "setup", "calls"]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert tabs.active == "setup"
        await pilot.press("f2", "i")
        await settle(pilot)
        assert tabs.active == "inspector"
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.plain_text()
        assert "]  Next pane: Calls, History, Inspector, Setup in turn (for terminals that eat F2-F5)" in text
        assert "f4 i  Inspector" in text and "^q q  Quit" in text


async def test_a_ringing_call_toasts_only_when_the_call_list_is_not_on_screen():
    engine = FakeEngine(facts=[])
    app = console_app(engine)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        engine.publish(CallRang("c1", "Inbound", "+15550100", ("1001",)))
        await settle(pilot)
        assert not [n for n in app._notifications if n.title == "ringing"]   # the card pops up instead
        await pilot.press("f3")
        await settle(pilot)
        engine.publish(CallRang("c2", "Inbound", "+15557000", ("1002",)))
        await settle(pilot)
        assert [n.message for n in app._notifications if n.title == "ringing"] == ["+15557000 is calling 1002"]


async def test_live_calls_show_a_duration_that_ticks_with_the_injected_clock():
    now = [FIXED_NOW]
    engine = FakeEngine(facts=[])
    app = make_app(AppOptions(animation_level="none"), engine=engine, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        calls = app.screen.query_one(CallList)
        engine.publish(CallRang("c1", "Inbound", "+15550100", ("1001",)))
        await settle(pilot)
        assert calls.get_cell("c1", "dur") == "0:00"
        now[0] = FIXED_NOW + timedelta(seconds=12)
        calls.tick()
        assert calls.get_cell("c1", "dur") == "0:12"           # ringing time
        engine.publish(CallAnswered("c1", "1001"))
        await settle(pilot)
        now[0] = FIXED_NOW + timedelta(seconds=12 + 65)
        calls.tick()
        assert calls.get_cell("c1", "dur") == "1:05"           # talk time since the answer
        assert calls.get_column_index("dur") == 6


def test_durations_fit_their_column_and_ended_calls_keep_the_pbx_figure():
    assert [format_duration(s) for s in (-3, 0, 59.9, 61, 3599, 3600, 3725, 400_000)] == [
        "0:00", "0:00", "0:59", "1:01", "59:59", "1h00m", "1h02m", "99h+"]
    row = CallRow("c", "Inbound", "1", ("1001",), FIXED_NOW, state="ended", answered_at=FIXED_NOW,
                  ended_at=FIXED_NOW + timedelta(seconds=30), talk_seconds=28.0)
    assert row.elapsed(FIXED_NOW + timedelta(hours=1)) == 28.0
    row.talk_seconds = None
    assert row.elapsed(FIXED_NOW + timedelta(hours=1)) == 30.0


async def test_the_status_line_shows_pbx_and_helpdesk_state_and_outbox_problems():
    engine = FakeEngine(facts=[])
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "helpdesk: ○ no request yet" in status(app)
        engine.publish(TraceRecorded(journal_trace(503)))
        await settle(pilot)
        assert "helpdesk: ● HTTP 503 (i)" in status(app)
        engine.publish(TraceRecorded(search_trace()))
        engine.publish(ConnectionChanged("lost", "closed by peer", retry_in=5))
        await settle(pilot)
        line = app.screen.status_text()
        assert "PBX: ● lost, retrying in 5 s" in str(line) and "helpdesk: ● ok" in str(line)
        missed = theme_style(app, "call-missed")
        assert any(span.style == missed and "lost" in str(line)[span.start:span.end] for span in line.spans)


async def test_the_ansi_themes_render_call_states_in_terminal_colours():
    """The default app variables are Textual colour names (ansi_bright_red), turned into ANSI colours."""
    for theme in ("ansi-dark", "ansi-light"):
        app = console_app(theme=theme)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, ConsoleScreen)
            style = theme_style(app, "call-missed")
            # ANSI bright red on the dark theme, plain red on the light one (bright red is faint on white)
            assert style.color is not None and style.color.number == (9 if theme == "ansi-dark" else 1)
            assert "ringing" in app.export_screenshot()     # the call list rendered (Rich parsed its colours)
            assert app.screen.query_one(CallList).row_count == 3
    assert theme_style(app, "") == Style()


async def test_f1_on_the_template_browser_and_the_playground_explains_them_and_scrolls_at_80x24(
        tmp_path, monkeypatch):
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path))
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("t")                  # t in the browser's list opens no second browser
        await settle(pilot)
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["ConsoleScreen", "TemplatesScreen"]
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "lints as you type" in app.screen.plain_text() and "Import" in app.screen.plain_text()
        scroll = app.screen.query_one("#help-scroll")
        assert scroll.has_focus and scroll.max_scroll_y > 0      # more keys than 24 rows: it scrolls
        await pilot.press("end")
        await settle(pilot)
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert "Tab moves between fields" in app.screen.plain_text()
        assert "f9  Copy" in app.screen.plain_text()


async def test_switching_the_theme_repaints_the_state_colours_of_calls_and_requests():
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dark_missed = theme_style(app, "call-missed")
        app.theme = "ansi-light"
        await settle(pilot)
        ansi_missed = theme_style(app, "call-missed")
        assert ansi_missed != dark_missed
        calls = app.screen.query_one(CallList)
        assert calls.get_cell("call-2", "state").style == ansi_missed
        traces = app.screen.query_one("#traces")
        assert traces.get_cell("1", "status").style == ansi_missed


async def test_the_outbox_label_names_its_empty_state_and_failed_entries():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        label = str(app.screen.query_one("#outbox-label", Static).render())
        assert label == "Journal and ticket outbox: 2 entries, 1 failed: r retries the selected one"
        engine.items = []
        app.screen.refresh_history()
        await settle(pilot)
        label = str(app.screen.query_one("#outbox-label", Static).render())
        assert "empty" in label and "queued here" in label


async def test_hidden_panes_are_lazy_and_keep_what_they_were_shown_before_they_mounted():
    from textual.app import App

    from tests.tui.fake_engine import the_day
    from tui.widgets.panes import HistoryPane, InspectorPane, SetupPane

    engine = FakeEngine()
    history, inspector, setup = HistoryPane(), InspectorPane(), SetupPane()
    inspector.add(search_trace())
    inspector.add(journal_trace())
    history.show_items(engine.items)
    history.show_calls(await engine.history())
    setup.show(engine.setup_info())
    assert inspector.selected is None and history.selected_item is None    # not mounted: no table yet

    class Panes(App):
        def compose(self):
            yield history
            yield inspector
            yield setup

    async with Panes().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert inspector.query_one("#traces").row_count == 2 and inspector.selected.scenario == "SyncContactAuto"
        assert history.query_one("#outbox").row_count == 2 and history.selected_item == 1
        assert history.query_one("#history-calls").row_count == 2
        assert "api_token: ********" in str(setup.query_one("#setup-info", Static).render())

    app = console_app(FakeEngine(the_day()))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert type(screen.inspector_pane.parent).__name__ == "TabPane"        # the Lazy placeholder is gone
        assert screen.inspector_pane.query_one("#traces").row_count == 2


async def test_the_palette_offers_the_playground_and_template_keys_so_no_function_key_is_needed(
        tmp_path, monkeypatch):
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path))
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"playground: template", "enter")
        await settle(pilot)
        assert app.screen.query_one("TabbedContent").active == "template"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        from tui.palette import DesklineCommands

        provider = DesklineCommands(app.screen)
        names = [name for name, _, _ in provider._available()]
        assert "template: import" in names and "template: summary" in names
        assert "template: save" not in names           # nothing open in the editor: the palette hides it


async def test_the_whole_error_of_the_highlighted_outbox_entry_shows_below_the_table_at_80x24():
    engine = FakeEngine()
    engine.items[1] = dataclasses.replace(
        engine.items[1], last_error="HTTP 503 Service Unavailable; the helpdesk said: maintenance until 10:00 UTC")
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        outbox = app.screen.query_one("#outbox")
        outbox.focus()
        outbox.move_cursor(row=1)
        await settle(pilot)
        detail = str(app.screen.query_one("#outbox-detail", Static).render())
        assert detail == "#2 CallJournal " + engine.items[1].last_error
        region = app.screen.query_one("#outbox-detail").region
        assert region.height == 2 and region.bottom <= 23          # on screen, wrapped, above the footer


async def test_a_long_status_line_wraps_at_80_columns_instead_of_losing_the_outbox_note():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status_bar = app.screen.query_one("#status")
        assert status_bar.region.height == 1
        engine.publish(ConnectionChanged("auth_failed", "401 from the PBX", retry_in=30))
        engine.publish(TraceRecorded(journal_trace(502)))
        app.screen.outbox_note = "3 waiting, 2 need you (F3)"
        app.screen._status()
        await settle(pilot)
        assert len(str(status_bar.render())) > 80 and status_bar.region.height == 2
