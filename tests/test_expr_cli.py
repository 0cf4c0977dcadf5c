"""``deskline render``: prints the result or the located error."""

from __future__ import annotations

import json

from tui.cli import main


def test_render_text_with_vars(tmp_path, capsys):
    v = tmp_path / "vars.json"
    v.write_text(json.dumps({"name": "ann", "ts": 1672531199}))
    rc = main(["render", "{{Capitalize .name}} {{TimeFormat .ts 'yyyy-MM-dd' '1'}}", "--vars", str(v)])
    assert rc == 0
    assert capsys.readouterr().out == "Ann 2022-12-31\n"


def test_render_template_file_in_json_context(tmp_path, capsys):
    t = tmp_path / "body.tpl"
    t.write_text('{"from": "{{.CallerNumber}}", "d": {{.Talk_Duration_Sec}}}')
    v = tmp_path / "vars.json"
    v.write_text(json.dumps({"CallerNumber": 'O"Brien\n', "Talk_Duration_Sec": 12}))
    assert main(["render", str(t), "--vars", str(v), "--context", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"from": 'O"Brien\n', "d": 12}


def test_render_url_context(tmp_path, capsys):
    v = tmp_path / "vars.json"
    v.write_text(json.dumps({"domain": "desk.example.com", "Phone": "+49 30"}))
    assert main(["render", "https://{{.domain}}/s/{{.Phone}}?phone={{.Phone}}", "--vars", str(v),
                 "--context", "url"]) == 0
    assert capsys.readouterr().out == "https://desk.example.com/s/%2B49%2030?phone=%2B49%2030\n"


def test_render_reports_located_syntax_error(tmp_path, capsys):
    t = tmp_path / "bad.tpl"
    t.write_text("line one\n{{if .x}}never closed")
    assert main(["render", str(t)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {t}:2:")
    assert "{{if}} at 2:1 has no {{end}}" in err
    assert "^" in err


def test_render_reports_bad_vars_json_with_position(tmp_path, capsys):
    v = tmp_path / "vars.json"
    v.write_text('{"a": 1,\n "b": }')
    assert main(["render", "{{.a}}", "--vars", str(v)]) == 2
    assert f"{v}:2:7: invalid JSON" in capsys.readouterr().err


def test_render_vars_must_be_an_object(tmp_path, capsys):
    v = tmp_path / "vars.json"
    v.write_text("[1]")
    assert main(["render", "x", "--vars", str(v)]) == 2
    assert "JSON object" in capsys.readouterr().err


def test_render_exec_error(capsys):
    assert main(["render", "{{ToMillis 'soon'}}"]) == 1
    assert "error calling ToMillis" in capsys.readouterr().err


def test_render_files_that_are_not_utf8_get_a_located_error(tmp_path, capsys):
    t = tmp_path / "latin1.tpl"
    t.write_bytes(b"ok line\nCaf\xe9 {{.a}}")
    assert main(["render", str(t)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {t}:2:4: not UTF-8 text: byte 0xe9")
    v = tmp_path / "vars.json"
    v.write_bytes(b'{"a": "\xff"}')
    assert main(["render", "{{.a}}", "--vars", str(v)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {v}:1:8: not UTF-8 text: byte 0xff")


def test_render_vars_nested_absurdly_deep_is_an_error_not_a_crash(tmp_path, capsys):
    v = tmp_path / "deep.json"
    v.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["render", "x", "--vars", str(v)]) == 2
    assert "nests too deeply" in capsys.readouterr().err
