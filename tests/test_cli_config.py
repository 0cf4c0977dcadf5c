"""``deskline config locate|show|set|init`` through the real parser (conftest points the dirs at tmp_path)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib

import pytest

from engine.config import default_config_text, load_config
from tests.conftest import REPO
from tui.cli import main


@pytest.fixture
def dirs(tmp_path):
    return tmp_path / "config", tmp_path / "data"


def test_locate_prints_every_place(dirs, capsys):
    config, data = dirs
    assert main(["config", "locate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"config file: {config / 'config.toml'}", f"secrets file: {config / 'secrets.toml'}",
        f"config dir: {config}", f"data dir: {data}", f"store: {data / 'deskline.sqlite3'}"]


def test_locate_follows_config_flag_and_store_path(tmp_path, capsys):
    cfg = tmp_path / "elsewhere" / "my.toml"
    cfg.parent.mkdir()
    cfg.write_text(f'[store]\npath = "{tmp_path / "calls.db"}"\n')
    assert main(["--config", str(cfg), "config", "locate"]) == 0
    out = capsys.readouterr().out
    assert f"config file: {cfg}\n" in out and f"secrets file: {cfg.with_name('secrets.toml')}\n" in out
    assert f"store: {tmp_path / 'calls.db'}\n" in out


def test_locate_still_says_where_when_the_file_is_broken(dirs, capsys):
    config, _ = dirs
    config.mkdir()
    (config / "config.toml").write_text("[http]\nread_timeout = 'soon'\n")
    assert main(["config", "locate"]) == 2
    out, err = capsys.readouterr()
    assert f"config file: {config / 'config.toml'}" in out
    assert err.startswith(f"error: {config / 'config.toml'}:2")
    assert "http.read_timeout" in err


def test_init_writes_the_commented_default_and_refuses_to_overwrite(dirs, capsys):
    config, _ = dirs
    assert main(["config", "init"]) == 0
    file = config / "config.toml"
    assert capsys.readouterr().out == f"wrote {file}\n"
    assert file.read_text() == default_config_text()
    assert load_config() == load_config(file)  # every line is a comment or a section: all defaults
    file.write_text("# mine\n")
    assert main(["config", "init"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {file}: a config file is already there")
    assert file.read_text() == "# mine\n"


def test_init_with_config_flag_creates_the_folder(tmp_path, capsys):
    target = tmp_path / "new" / "dir" / "deskline.toml"
    assert main(["--config", str(target), "config", "init"]) == 0
    assert target.is_file()


def test_set_keeps_comments_and_types_values_like_env_vars(dirs, capsys):
    config, _ = dirs
    assert main(["config", "init"]) == 0
    assert main(["config", "set", "http.read_timeout", "8"]) == 0
    assert main(["config", "set", "http.verify_tls", "no"]) == 0
    assert main(["config", "set", "numbers.order", "e164, digits"]) == 0
    assert main(["config", "set", "ui.popup_extensions", '["2001", "2002"]']) == 0
    assert main(["config", "set", "numbers.country_code", "49"]) == 0
    assert main(["config", "set", "keymap.app.quit", "ctrl+q"]) == 0
    out = capsys.readouterr().out
    assert f"http.read_timeout = 8.0 written to {config / 'config.toml'}" in out
    text = (config / "config.toml").read_text()
    assert "# seconds to wait for an answer" in text  # the comments survived
    loaded = load_config()
    assert loaded.http.read_timeout == 8.0 and loaded.http.verify_tls is False
    assert loaded.numbers.order == ["e164", "digits"] and loaded.ui.popup_extensions == ["2001", "2002"]
    assert loaded.numbers.country_code == "49" and loaded.keymap == {"app.quit": "ctrl+q"}


def test_set_a_secret_goes_to_a_private_file_and_is_never_printed(dirs, capsys, monkeypatch):
    config, _ = dirs
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-from-stdin\n"))
    assert main(["config", "set", "pbx.client_secret", "-"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "(hidden)" in out
    secrets = config / "secrets.toml"
    assert tomllib.loads(secrets.read_text()) == {"pbx": {"client_secret": "s3cret-from-stdin"}}
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert not (config / "config.toml").exists()
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out
    assert "pbx.client_secret = (set, hidden)" in out and f"# {secrets}:" in out


@pytest.mark.parametrize(("key", "value", "message"), [
    ("http.retries", "many", "error: http.retries: expected a whole number, got a string ('many')\n"),
    ("http.retries", "0", "error: http.retries: must be at least 1, got 0\n"),
    ("contacts.pick", "best", "error: contacts.pick: expected one of first, unique, last, got 'best'\n"),
    ("foo.bar", "1", "error: foo.bar: unknown section [foo]"),
    ("http", "1", "error: http: a setting is named section.key, not 'http'\n"),
    ("http.nope", "1", "error: http.nope: unknown setting 'nope' in [http]"),
    ("pbx.timezone", "Mars/Base", "error: pbx.timezone: unknown time zone 'Mars/Base'"),
])
def test_set_refuses_bad_keys_and_values_and_writes_nothing(key, value, message, dirs, capsys):
    config, _ = dirs
    assert main(["config", "set", key, value]) == 2
    assert capsys.readouterr().err.startswith(message)
    assert not (config / "config.toml").exists()


def test_set_refuses_to_edit_a_file_that_does_not_parse(dirs, capsys):
    config, _ = dirs
    config.mkdir()
    (config / "config.toml").write_text("[http\nread_timeout = 1\n")
    assert main(["config", "set", "http.read_timeout", "8"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {config / 'config.toml'}:1")
    assert (config / "config.toml").read_text() == "[http\nread_timeout = 1\n"


def test_show_prints_values_with_their_source(dirs, capsys, monkeypatch):
    config, _ = dirs
    config.mkdir()
    (config / "config.toml").write_text('# mine\n[http]\nread_timeout = 7.5\n[keymap]\n"app.quit" = "ctrl+x"\n')
    monkeypatch.setenv("DESKLINE_HTTP__RETRIES", "4")
    assert main(["config", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_key = {ln.split(" = ", 1)[0]: ln for ln in lines}
    assert by_key["http.read_timeout"].split("#")[-1].strip() == f"{config / 'config.toml'}:3"
    assert by_key["http.read_timeout"].startswith("http.read_timeout = 7.5 ")
    assert by_key["http.retries"].endswith("# env DESKLINE_HTTP__RETRIES")
    assert by_key["pbx.mode"].startswith('pbx.mode = "openapi" ') and by_key["pbx.mode"].endswith("# default")
    assert by_key["pbx.client_secret"].startswith("pbx.client_secret = (not set)")
    assert len(by_key) == len(lines) and "numbers.order" in by_key and "outbox.max_delay" in by_key
    assert main(["config", "show", "--changed"]) == 0
    changed = capsys.readouterr().out.splitlines()
    assert [ln.split(" = ")[0] for ln in changed] == ["http.read_timeout", "http.retries", 'keymap."app.quit"']
    assert changed[-1].startswith('keymap."app.quit" = "ctrl+x" ') and changed[-1].endswith("config.toml:5")


def test_show_never_prints_a_secret_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("DESKLINE_PBX__CLIENT_SECRET", "env-secret-value")
    assert main(["config", "show"]) == 0
    out, err = capsys.readouterr()
    assert "env-secret-value" not in out + err
    assert "pbx.client_secret = (set, hidden)" in out and "# env DESKLINE_PBX__CLIENT_SECRET" in out


def test_show_reports_every_problem_located(dirs, capsys):
    config, _ = dirs
    config.mkdir()
    (config / "config.toml").write_text("[http]\nretries = 0\n[nope]\nx = 1\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {config / 'config.toml'}:2")
    assert f"{config / 'config.toml'}:3" in err


def test_config_needs_an_action(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["config"])
    assert exc.value.code == 2


def test_config_subprocess_smoke(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "DESKLINE_CONFIG_DIR": str(tmp_path / "c"),
           "DESKLINE_DATA_DIR": str(tmp_path / "d")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "tui.cli", "config", *a], cwd=REPO, env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    assert run("init").returncode == 0
    assert run("set", "http.read_timeout", "9").returncode == 0
    out = run("show", "--changed")
    assert out.returncode == 0 and out.stdout.startswith("http.read_timeout = 9.0 ")
    bad = run("set", "http.read_timeout", "x")
    assert bad.returncode == 2 and bad.stderr.startswith("error: http.read_timeout: expected a number")
