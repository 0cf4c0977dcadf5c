"""``deskline try``: one scenario against the demo helpdesk, trace printed, secrets masked."""

from __future__ import annotations

import io

import pytest

from engine.demo.helpdesk import DemoHelpdesk, DemoOptions
from tests.conftest import REPO
from tui.cli import main

DEMO_TEMPLATE = str(REPO / "templates" / "demo" / "template.xml")


@pytest.fixture
def demo(monkeypatch):
    hd = DemoHelpdesk(DemoOptions())
    hd.start()
    monkeypatch.setenv("DESKLINE_FIELD_BASE_URL", hd.base_url)
    monkeypatch.setenv("DESKLINE_FIELD_API_TOKEN", "demo-api-token")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    yield hd
    hd.stop()


def test_try_contact_search_prints_what_was_sent_received_and_mapped(demo, capsys):
    code = main(["try", "SyncContactAuto", "--template", DEMO_TEMPLATE, "--phone", "+15550100"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"> GET {demo.base_url}/api/v1/contacts?phone=%2B15550100" in out
    assert "< 200 OK" in out
    assert "map ContactId" in out and "matched" in out and "EMPTY" in out
    assert "matched with as_received: +15550100" in out
    assert "* [Contacts] Alice Anders" in out
    assert "curl -X GET" in out
    assert "demo-api-token" not in out and "Authorization: Token ***" in out


def test_try_users_and_journal(demo, capsys):
    assert main(["try", "users", "--template", DEMO_TEMPLATE]) == 0
    out = capsys.readouterr().out
    assert "5 user(s) in 3 page(s)" in out
    assert main(["try", "CallJournal", "--template", DEMO_TEMPLATE, "--phone", "+15550100"]) == 0
    out = capsys.readouterr().out
    assert "POST" in out and "/journal" in out and "201" in out
    assert demo.journal[-1]["from"] == "+15550100"


def test_try_dry_run_sends_nothing(demo, capsys):
    assert main(["try", "SyncContactAuto", "--template", DEMO_TEMPLATE, "--phone", "+15550100", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and demo.requests == []


def test_try_reports_errors_with_exit_codes(demo, capsys, tmp_path):
    assert main(["try", "nonsense", "--template", DEMO_TEMPLATE]) == 2
    assert "unknown scenario" in capsys.readouterr().out
    assert main(["try", "SyncContactAuto", "--template", DEMO_TEMPLATE]) == 2
    assert "needs --phone" in capsys.readouterr().out
    assert main(["try", "users", "--template", str(tmp_path / "missing.xml")]) == 2
    assert "missing.xml" in capsys.readouterr().out
    demo.fail_next(3, 503)
    assert main(["try", "SyncContactAuto", "--template", DEMO_TEMPLATE, "--phone", "+15550100"]) == 1
    out = capsys.readouterr().out
    assert "error: " in out and "503" in out and "attempt 1: HTTP 503" in out


def test_try_a_stored_template_by_name(demo, capsys):
    from engine.template.store import TemplateStore

    TemplateStore().import_path(str(REPO / "templates" / "demo"), "my-demo")
    assert main(["try", "SearchContact", "--template", "my-demo", "--phone", "Globex"]) == 0
    out = capsys.readouterr().out
    assert "2 contact(s) found" in out


def test_try_journal_dry_run_renders_with_a_placeholder_contact(demo, capsys):
    assert main(["try", "journal", "--template", DEMO_TEMPLATE, "--phone", "+15550100", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "/api/v1/contacts/CONTACT-ID/journal" in out and demo.requests == [] and demo.journal == []
