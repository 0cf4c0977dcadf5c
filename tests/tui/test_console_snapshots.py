"""How the console looks: a few named snapshots at 80x24 (and one wide), fake engine, fixed clock."""

from __future__ import annotations

import pytest

from tests.tui.snapshot_apps import console


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _clear_toasts(pilot) -> None:
    pilot.app.clear_notifications()


def test_calls_with_an_unknown_caller_ringing(snap_compare):
    """You should see the status line (PBX: ● subscribed in green, helpdesk: ● HTTP 503 (i) in red, outbox:
    1 waiting in yellow), three calls newest first with a 'dur' column from the fixed clock (+15559999
    ringing in yellow, +15557000 missed in red, +15550100 ended), no 'ringing' toast over the card (the
    call list is on screen), and the card of the ringing unknown caller with a yellow border saying 'Press
    a to create a contact'."""

    async def run_before(pilot):
        await _settle(pilot)
        _clear_toasts(pilot)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=(80, 24), run_before=run_before)


def test_missed_switchboard_call_with_two_matches(snap_compare):
    """You should see the missed +15557000 call selected and its card with a red border: Erin Evans
    (picked with 2), Globex, the link, and '2 matches, press 1-2' with ▸2 Erin Evans marked."""

    async def run_before(pilot):
        await _settle(pilot)
        _clear_toasts(pilot)
        await pilot.press("down", "2")
        await _settle(pilot)

    assert snap_compare(console(), terminal_size=(80, 24), run_before=run_before)


def test_history_and_outbox(snap_compare):
    """You should see the History tab: two past calls (Dan Diaz No Answer, Alice Anders Answered) and the
    outbox (label '2 entries, 1 failed: r retries the selected one') with entry 1 done and entry 2 failed (red)
    and selected, its whole error under the table: '#2 CallJournal HTTP 503 Service Unavailable'."""

    async def run_before(pilot):
        await _settle(pilot)
        _clear_toasts(pilot)
        await pilot.press("f3")
        await _settle(pilot)
        outbox = pilot.app.screen.query_one("#outbox")
        outbox.focus()
        outbox.move_cursor(row=1)
        await _settle(pilot)

    assert snap_compare(console(), terminal_size=(80, 24), run_before=run_before)


def test_inspector_wide(snap_compare):
    """You should see, at 120x30, the Inspector tab with two requests (SyncContactAuto 200, CallJournal 503
    in red) on the left and the details of the first on the right: URL, 'Authorization: Token ***',
    the pretty-printed response and the mapping (✓ ContactId, · HomeFaxNumber (no value))."""

    async def run_before(pilot):
        await _settle(pilot)
        _clear_toasts(pilot)
        await pilot.press("f4")
        await _settle(pilot)

    assert snap_compare(console(), terminal_size=(120, 30), run_before=run_before)


def test_setup_with_oauth2(snap_compare):
    """You should see the Setup tab: template Demo Helpdesk with auth oauth2, token health, the field values
    with api_token masked as ********, the redirect URI to register, the 'Authorize (o)' button with the
    paste field, and the user association table (1001 Ada Lovelace, 1002 Grace Hopper)."""
    from tests.tui.fake_engine import FakeEngine

    async def run_before(pilot):
        await _settle(pilot)
        _clear_toasts(pilot)
        await pilot.press("f5")
        await _settle(pilot)

    assert snap_compare(console(FakeEngine(oauth2=True)), terminal_size=(80, 24), run_before=run_before)


def test_help_at_80x24(snap_compare):
    """You should see the F1 help over the console at 80x24: the Calls paragraph, then one row per action
    with all its keys in a bold column ('f4 i' Inspector, ']' Next pane, '^q q' Quit in the last visible
    row; t, g, ? and 1-9 are below it) and the descriptions wrapped beside the keys, in a box that fills
    the height and scrolls."""

    async def run_before(pilot):
        await _settle(pilot)
        _clear_toasts(pilot)
        await pilot.press("f1")
        await _settle(pilot)

    assert snap_compare(console(), terminal_size=(80, 24), run_before=run_before)
