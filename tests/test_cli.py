"""The command line: version, help and start-up speed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine import __version__
from tests.conftest import REPO
from tui.cli import build_parser, main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"deskline {__version__}"


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("console", "demo", "template", "gjson", "render", "try", "events", "simulate", "config", "history",
                "outbox"):
        assert cmd in out


def test_template_needs_an_action(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["template"])
    assert exc.value.code == 2


def test_help_imports_nothing_heavy():
    """--help must not import textual, httpx or lxml (that is what keeps it fast)."""
    probe = (
        "import sys\nfrom tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'httpx', 'lxml', 'rich', 'authlib') if m in sys.modules]\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stderr == "[]"


@pytest.mark.parametrize("command", ["events", "simulate", "config", "history", "outbox"])
def test_subcommand_help_imports_nothing_heavy(command):
    """The help of the newer subcommands is as light as the top-level one (the parser only)."""
    probe = (
        "import sys\nfrom tui.cli import main\n"
        f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'httpx', 'lxml', 'rich', 'authlib', 'sqlite3', 'engine.pbx', 'tomlkit')"
        " if m in sys.modules]\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stderr == "[]"
    assert command in out.stdout


def test_an_unexpected_error_is_a_redacted_bug_report(monkeypatch, capsys):
    """A crash in a command prints a traceback without the live secrets and exits 1, never a raw dump."""
    import tui.cli as cli
    from engine.http.redaction import SecretRegistry, register_secrets

    registry = register_secrets(SecretRegistry(["s3cr3t-token-value"]))

    def crashing(args):
        raise RuntimeError("helpdesk said: bad token s3cr3t-token-value")

    monkeypatch.setattr(cli, "_resolve", lambda spec: crashing)
    assert main(["gjson", "a"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError" in err and "internal error in 'gjson'" in err
    assert "s3cr3t-token-value" not in err
    del registry


def test_an_uncaught_located_error_is_reported_as_input_error(monkeypatch, capsys):
    import tui.cli as cli
    from engine.errors import LocatedError, Location

    def failing(args):
        raise LocatedError("not a template", Location("x.xml", 3, 7, "Information"))

    monkeypatch.setattr(cli, "_resolve", lambda spec: failing)
    assert main(["gjson", "a"]) == 2
    assert capsys.readouterr().err == "error: x.xml:3:7: Information: not a template\n"
