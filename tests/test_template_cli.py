"""``deskline template ...`` end to end through the real argument parser."""

from __future__ import annotations

import json
import shutil

from tests.conftest import DATA
from tui.cli import main

TEMPLATES = DATA / "templates"
FULL = TEMPLATES / "full-oauth2.xml"


def test_lint_clean_file_exits_0(capsys):
    assert main(["template", "lint", str(FULL), str(TEMPLATES / "minimal-basic.xml")]) == 0
    out, err = capsys.readouterr()
    assert "error:" not in out and "warning:" not in out
    assert "2 file(s): 0 error(s), 0 warning(s)" in err


def test_lint_errors_exit_2_with_located_lines(capsys, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(FULL.read_bytes().replace(b'AuthType="oauth2"', b'AuthType="nope"'))
    assert main(["template", "lint", str(bad)]) == 2
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "(invalid-value)" in ln)
    assert line.startswith(f"{bad}:4:") and ": error: AuthType is 'nope'" in line
    assert line.endswith("[Information@AuthType] (invalid-value)")


def test_lint_strict_and_json(capsys, tmp_path):
    warn = tmp_path / "warn.xml"
    shutil.copy(TEMPLATES / "logo.png", tmp_path / "logo.png")
    warn.write_bytes(FULL.read_bytes().replace(b'<Parameter Name="Scope"', b'<Parameter Name="Odd" />\n<Parameter Name="Scope"'))
    assert main(["template", "lint", str(warn)]) == 0
    capsys.readouterr()
    assert main(["template", "lint", "--strict", "--json", str(warn)]) == 1
    data = json.loads(capsys.readouterr().out)
    [w] = [d for d in data if d["severity"] == "warning"]
    assert (w["code"], w["file"], w["line"]) == ("unknown-parameter", str(warn), 17)


def test_lint_hostile_file(capsys, tmp_path):
    evil = tmp_path / "evil.xml"
    evil.write_text('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<Information>&e;</Information>')
    assert main(["template", "lint", str(evil)]) == 2
    out = capsys.readouterr().out
    assert f"{evil}:1:1: error: DOCTYPE" in out and "root:" not in out


def test_show_prints_every_section_without_secrets(capsys, tmp_path):
    secret = tmp_path / "s.xml"
    secret.write_bytes(FULL.read_bytes().replace(b'Key="client_secret" />', b'Key="client_secret" Value="hunter2" />'))
    assert main(["template", "show", str(secret)]) == 0
    out = capsys.readouterr().out
    for heading in ("General", "Authentication: oauth2", "Custom fields (4)", "User Association",
                    "Contact search (on calls)", "Contact search (manual)", "Create contact", "Call journal",
                    "Create ticket", "Common requests"):
        assert heading in out
    assert "region (dropdown) \"Region\"  options: eu, us, apac" in out
    assert "Pagination: page page size 50" in out
    assert "Created: at ring" in out and "then update:" in out
    assert "hunter2" not in out


def test_show_broken_file_exits_2(capsys, tmp_path):
    bad = tmp_path / "b.xml"
    bad.write_text("<Information")
    assert main(["template", "show", str(bad)]) == 2
    assert f"{bad}:1" in capsys.readouterr().err


def test_store_commands(capsys, tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    shutil.copy(FULL, pkg / "desk.xml")
    shutil.copy(TEMPLATES / "logo.png", pkg / "logo.png")
    assert main(["template", "list"]) == 0
    assert "no custom templates" in capsys.readouterr().out
    assert main(["template", "import", str(pkg)]) == 0
    assert "imported 'Full Desk' as full_desk, logo PNG 150x150" in capsys.readouterr().out
    assert main(["template", "duplicate", "full_desk", "copy1"]) == 0
    assert main(["template", "list"]) == 0
    out, err = capsys.readouterr()
    assert "full_desk" in out and "copy1" in out and "logo 150x150" in out and "2 of 10" in err
    assert main(["template", "show", "copy1"]) == 0
    assert "Name: Full Desk (copy)" in capsys.readouterr().out
    assert main(["template", "export", "copy1", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "copy1.xml").exists()
    assert main(["template", "delete", "copy1"]) == 0
    assert main(["template", "delete", "copy1"]) == 2
    assert "no stored template called 'copy1'" in capsys.readouterr().err


def test_import_refuses_the_eleventh(capsys):
    for i in range(10):
        assert main(["template", "import", str(TEMPLATES / "minimal-basic.xml"), "--name", f"n{i}"]) == 0
    assert main(["template", "import", str(TEMPLATES / "minimal-basic.xml"), "--name", "n10"]) == 2
    assert "the limit is 10" in capsys.readouterr().err


def test_lint_missing_file_is_a_located_error(capsys, tmp_path):
    missing = tmp_path / "nope.xml"
    assert main(["template", "lint", "--json", str(missing)]) == 2
    [f] = json.loads(capsys.readouterr().out)
    assert (f["file"], f["severity"], f["code"]) == (str(missing), "error", "file")
    assert "cannot read" in f["message"]
