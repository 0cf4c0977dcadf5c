"""``deskline gjson PATH [FILE]``."""

from __future__ import annotations

import io
import json

from engine.paths import gjson
from tui.cli import main

DOC = '{"name": {"first": "Tom", "last": "O\\"Neil"}, "age": 37.50, "kids": ["Sara", "Alex"]}'


def _run(argv, capsys, monkeypatch, stdin=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_prints_string_from_file(tmp_path, capsys, monkeypatch):
    f = tmp_path / "r.json"
    f.write_text(DOC, encoding="utf-8")
    assert _run(["gjson", "name.last", str(f)], capsys, monkeypatch) == (0, 'O"Neil\n', "")
    assert _run(["gjson", "age", str(f)], capsys, monkeypatch)[1] == "37.5\n"


def test_reads_stdin_and_raw(capsys, monkeypatch):
    assert _run(["gjson", "--raw", "name.last"], capsys, monkeypatch, DOC)[1] == '"O\\"Neil"\n'
    assert _run(["gjson", "--raw", "age"], capsys, monkeypatch, DOC)[1] == "37.50\n"
    assert _run(["gjson", "kids.#"], capsys, monkeypatch, DOC)[1] == "2\n"


def test_json_output(capsys, monkeypatch):
    code, out, _ = _run(["gjson", "--json", "kids"], capsys, monkeypatch, DOC)
    assert code == 0
    assert json.loads(out) == {"string": '["Sara", "Alex"]', "raw": '["Sara", "Alex"]', "exists": True, "type": "JSON"}


def test_missing_path_exits_1(capsys, monkeypatch):
    code, out, _ = _run(["gjson", "--json", "nope"], capsys, monkeypatch, DOC)
    assert code == 1
    assert json.loads(out) == {"string": "", "raw": "", "exists": False, "type": "Null"}


def test_bad_path_is_reported_on_stderr(capsys, monkeypatch):
    path = 'kids.#(=="Sara"'
    code, out, err = _run(["gjson", path], capsys, monkeypatch, DOC)
    assert "col 7" in err and "never closed" in err
    # still answered the way Go answers it
    assert out == gjson.get(DOC, path).string + "\n"
    assert code == (0 if gjson.get(DOC, path).exists else 1)


def test_unreadable_file(tmp_path, capsys, monkeypatch):
    code, out, err = _run(["gjson", "a", str(tmp_path / "none.json")], capsys, monkeypatch)
    assert code == 2 and out == ""
    assert "cannot read" in err and "none.json" in err
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"a":"\xe9"}')
    code, _, err = _run(["gjson", "a", str(bad)], capsys, monkeypatch)
    assert code == 2 and "not UTF-8" in err
