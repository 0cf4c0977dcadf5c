"""The console shell: built by the factory, quits on q, looks right at 80x24."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tui.app import AppOptions, DesklineApp, WelcomeScreen, make_app

APPS = Path(__file__).with_name("snapshot_apps.py")


async def test_factory_builds_the_app_with_pinned_theme():
    app = make_app(AppOptions(theme="deskline-light", animation_level="none"))
    assert isinstance(app, DesklineApp)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "deskline-light"
        assert app.get_css_variables()["call-ringing"] == "#B26B00"
        assert isinstance(app.screen, WelcomeScreen)
        welcome = app.screen.query_one("#welcome", Static)
        assert "deskline demo" in str(welcome.render())
        await pilot.press("q")
    assert app.return_code == 0


def test_shell_snapshot(snap_compare):
    """You should see the header 'deskline', the welcome text naming 'deskline demo' and the d key,
    and a footer with d Start demo, q Quit and F1 Help."""
    assert snap_compare(str(APPS), terminal_size=(80, 24))
