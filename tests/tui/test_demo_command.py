"""``deskline demo --headless``: the scripted demo calls as text, exit 0 (CI and SSH demos)."""

from __future__ import annotations

import io
import subprocess
import sys

from tests.conftest import REPO
from tui.commands.console import FactPrinter, describe_card, headless_demo


async def test_headless_demo_prints_cards_and_journal_lines():
    out = io.StringIO()
    code = await headless_demo(out, speed=0)
    text = out.getvalue()
    assert code == 0, text
    assert "pbx      subscribed" in text
    assert "call 1   card     Alice Anders (Acme), matched +15550100 (as_received)" in text
    assert "call 2   card     Dan Diaz (Globex), 2 matches" in text
    assert "call 2   ended    missed" in text
    assert "call 2   outbox   CallJournal written" in text and "call 2   ticket   #" in text
    assert "call 3   card     +15559999: unknown caller" in text
    assert "call 4   ringing  outbound 1002 -> +15550101" in text
    assert text.rstrip().endswith("done: 4 calls, 4 journal/ticket entries written, 0 need attention, 0 problems")
    assert "demo-api-token" not in text


def test_deskline_demo_headless_command_exits_0():
    result = subprocess.run([sys.executable, "-m", "tui", "demo", "--headless", "--speed", "50"], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "done: 4 calls" in result.stdout


def test_problems_are_printed_and_counted():
    from engine.console import EngineProblem

    printer = FactPrinter(io.StringIO())
    printer(EngineProblem("outbox", "boom"))
    assert printer.problems == 1 and "problem  outbox: boom" in printer.out.getvalue()


def test_describe_card_for_a_failed_search():
    from engine.console import ContactCard

    assert describe_card(ContactCard("+1", error="HTTP 500")) == "+1: search failed: HTTP 500"


async def test_console_without_a_config_offers_the_demo_and_names_a_broken_one(tmp_path, monkeypatch):
    import argparse

    from textual.widgets import Static

    from tui.app import WelcomeScreen
    from tui.commands.console import console_app

    monkeypatch.setenv("DESKLINE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path / "data"))
    for env in [k for k in __import__("os").environ if k.startswith("DESKLINE_") and "__" in k]:
        monkeypatch.delenv(env)
    app = console_app(argparse.Namespace(config=None))
    assert app.engine is None and app.options.problem == ""

    (tmp_path / "broken.toml").write_text('[helpdesk]\ntemplate = "no-such-template"\n')
    app = console_app(argparse.Namespace(config=str(tmp_path / "broken.toml")))
    assert app.engine is None and "no-such-template" in app.options.problem
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        assert "did not start" in str(app.screen.query_one("#welcome", Static).render())

    (tmp_path / "bad.toml").write_text('[helpdesk]\nnope = 1\n')
    assert console_app(argparse.Namespace(config=str(tmp_path / "bad.toml"))) == 2
