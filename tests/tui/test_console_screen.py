"""The console screen's behaviour, driven with Pilot against a fake engine (no network, fixed clock)."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Input, Static

from engine.console import CallRang
from tests.tui.fake_engine import FakeEngine, fixed_clock
from tui.app import AppOptions, EngineFact, WelcomeScreen, make_app
from tui.screens.console import ConsoleScreen
from tui.screens.dialogs import CreateContactDialog, HelpScreen, SearchDialog
from tui.widgets.calls import CallList, ContactCardView


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def console_app(engine=None, **options):
    return make_app(AppOptions(animation_level="none", **options), engine=engine or FakeEngine(), clock=fixed_clock)


def card_text(app) -> str:
    return str(app.screen.query_one(ContactCardView).render())


async def test_facts_fill_the_call_list_and_the_ringing_call_pops_its_card():
    engine = FakeEngine()
    messages = []
    app = console_app(engine)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        assert engine.started and isinstance(app.screen, ConsoleScreen)
        facts = [m.fact for m in messages if isinstance(m, EngineFact)]
        assert [type(f).__name__ for f in facts[:3]] == ["ConnectionChanged", "TokenHealthChanged", "CallRang"]
        calls = app.screen.query_one(CallList)
        assert [str(k.value) for k in calls.rows] == ["call-3", "call-2", "call-1"]   # newest first
        assert calls.selected_id == "call-3"
        card = app.screen.query_one(ContactCardView)
        assert card.has_class("-ringing")
        assert "Unknown caller" in card_text(app) and "Press a to create a contact" in card_text(app)
        status = str(app.screen.query_one("#status", Static).render())
        assert "PBX: ● subscribed" in status and "outbox: 1 waiting" in status


async def test_moving_to_a_missed_call_shows_its_card_and_1_9_pick_the_match():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        assert app.screen.query_one(CallList).selected_id == "call-2"
        card = app.screen.query_one(ContactCardView)
        assert card.has_class("-missed") and "Dan Diaz" in card_text(app)
        assert "2 matches, press 1-2" in card_text(app)
        await pilot.press("2")
        await settle(pilot)
        assert engine.cards["call-2"].chosen == 1
        assert card_text(app).startswith("Erin Evans")
        await pilot.press("c")
        assert app.clipboard == "http://127.0.0.1:8790/api/v1/contacts/c5"


async def test_a_new_ringing_call_takes_the_card_unless_the_operator_is_on_another_ringing_call():
    engine = FakeEngine(facts=[])
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "No call selected" in card_text(app)
        engine.publish(CallRang("a", "Inbound", "+1555", ("1001",)))
        await settle(pilot)
        assert app.screen.query_one(CallList).selected_id == "a"
        engine.publish(CallRang("b", "Inbound", "+1666", ("1001",)))
        await settle(pilot)
        assert app.screen.query_one(CallList).selected_id == "a"   # "a" still rings: do not steal the card
        assert "Searching the helpdesk for +1555" in card_text(app)


async def test_search_dialog_runs_the_search_in_a_worker_and_shows_the_result():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, SearchDialog)
        await pilot.press(*"Globex", "enter")
        await settle(pilot)
        assert engine.searches == ["Globex"]
        card = app.screen.query_one(ContactCardView)
        assert card.border_title == "search: Globex" and "Dan Diaz" in card_text(app)
        await pilot.press("c")
        assert app.clipboard.endswith("/contacts/c4")


async def test_create_contact_for_an_unknown_caller_and_errors_become_one_toast():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, CreateContactDialog)
        await pilot.press(*"Zed", "enter", *"Zulu", "enter")
        await settle(pilot)
        assert engine.created == [("call-3", "Zed", "Zulu")]
        assert card_text(app).startswith("Zed Zulu (created)")
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"fail", "enter", "enter")
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "HTTP 422" in errors[0].message
        assert isinstance(app.screen, ConsoleScreen)       # the app survived the failed worker


async def test_history_shows_calls_and_outbox_and_r_retries_the_selected_entry():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        calls = app.screen.query_one("#history-calls", DataTable)
        outbox = app.screen.query_one("#outbox", DataTable)
        assert calls.row_count == 2 and outbox.row_count == 2
        outbox.focus()
        await pilot.press("down")
        await pilot.press("r")
        await settle(pilot)
        assert engine.retried == [2]


async def test_inspector_lists_every_trace_and_copies_curl_without_secrets():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        traces = app.screen.query_one("#traces", DataTable)
        assert traces.row_count == 2
        detail = str(app.screen.query_one("#trace-detail", Static).render())
        assert "SyncContactAuto / Contacts" in detail and "✓ ContactId" in detail and "(no value)" in detail
        traces.focus()
        await pilot.press("down")
        await settle(pilot)
        assert "CallJournal / Journal" in str(app.screen.query_one("#trace-detail", Static).render())
        await pilot.press("y")
        assert app.clipboard.startswith("curl -X POST") and "Token ***" in app.clipboard


async def test_setup_masks_secrets_and_sends_manual_associations():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        info = str(app.screen.query_one("#setup-info", Static).render())
        assert "api_token: ********" in info and "Demo Helpdesk" in info
        assert app.screen.query_one("#associations", DataTable).row_count == 2
        assert not app.screen.query_one("#oauth-row").display      # no OAuth2 in this template
        manual = app.screen.query_one("#manual", Input)
        manual.focus()
        await pilot.press(*"1003=a5", "enter")
        await settle(pilot)
        assert engine.associated == [{"1003": "a5"}]


async def test_oauth2_shows_and_copies_the_authorize_url():
    engine = FakeEngine(oauth2=True)
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert app.screen.query_one("TabbedContent").active == "setup"
        assert app.clipboard.startswith("http://127.0.0.1:8790/oauth/authorize")
        info = str(app.screen.query_one("#setup-info", Static).render())
        assert "Redirect URI (callback URL): http://127.0.0.1:8765/callback" in info


async def test_f1_help_names_the_keys_of_the_screen():
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.plain_text()
        assert "Search the helpdesk" in text and "1-9" in text and "Live calls, newest first" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)


async def test_bindings_have_ids_descriptions_and_tooltips_and_avoid_multiplexer_keys():
    for binding in ConsoleScreen.BINDINGS:
        assert binding.id and binding.description and binding.tooltip
        assert binding.key not in ("ctrl+s", "ctrl+j", "ctrl+o")


async def test_quit_stops_the_engine():
    engine = FakeEngine()
    app = console_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
    assert engine.stopped and app.return_code == 0


async def test_without_an_engine_the_welcome_screen_offers_the_demo_and_names_the_problem():
    app = make_app(AppOptions(animation_level="none", problem="no PBX address is configured (pbx.url)"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        text = str(app.screen.query_one("#welcome", Static).render())
        assert "Press d" in text and "no PBX address is configured" in text


async def test_palette_commands_are_namespaced():
    from tui.palette import COMMANDS

    assert all(name.split(":")[0] in ("call", "view", "journal", "inspector", "setup") for name, _, _ in COMMANDS)
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"view: history", "enter")
        await settle(pilot)
        assert app.screen.query_one("TabbedContent").active == "history"


async def test_the_demo_in_the_console_shows_real_cards(tmp_path, monkeypatch):
    """The real engine: demo helpdesk and PBX simulator on loopback, played fast."""
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path))
    app = make_app(AppOptions(animation_level="none", demo=True, demo_speed=0))
    async with app.run_test(size=(80, 24)) as pilot:
        async with asyncio.timeout(20):
            while True:
                await pilot.pause(0.05)
                screen = app.screen
                if isinstance(screen, ConsoleScreen) and any(
                        r.card is not None and r.card.found for r in screen.calls.values()):
                    break
        names = {r.card.name for r in app.screen.calls.values() if r.card is not None and r.card.found}
        assert names & {"Alice Anders", "Dan Diaz"}
        await pilot.press("q")
    assert app.engine is not None and not app.engine._started


async def test_t_and_g_open_the_template_browser_and_the_playground(tmp_path, monkeypatch):
    from tui.screens.playground import PlaygroundScreen
    from tui.screens.templates import TemplatesScreen

    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path))
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TemplatesScreen)
        app.pop_screen()
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, PlaygroundScreen)
