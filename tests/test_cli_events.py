"""``deskline events`` and ``deskline render --context``: in process and one subprocess smoke test each."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from engine.expr import CONTEXTS
from tests.conftest import DATA, REPO
from tui.cli import RENDER_CONTEXTS, build_parser, main

PBX = DATA / "pbx"


def _cli(*argv: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)}, **kw)


# -- render --context ---------------------------------------------------------------------------------
def test_render_offers_every_engine_context():
    assert sorted(RENDER_CONTEXTS) == sorted(CONTEXTS)
    for context in CONTEXTS:
        assert build_parser().parse_args(["render", "x", "--context", context]).context == context


@pytest.mark.parametrize(("context", "expected"), [
    ("text", 'https://h/?x=a&b="c'), ("url", "https://h/?x=a%26b%3D%22c"), ("form", "https://h/?x=a%26b%3D%22c"),
    ("json", 'https://h/?x="a&b=\\"c"'), ("header", 'https://h/?x=a&b="c'), ("gjson", 'https://h/?x=a&b=\\"c'),
])
def test_render_escapes_for_the_context(context, expected, tmp_path, capsys):
    v = tmp_path / "v.json"
    v.write_text(json.dumps({"q": 'a&b="c'}))
    assert main(["render", "https://h/?x={{.q}}", "--vars", str(v), "--context", context]) == 0
    assert capsys.readouterr().out == expected + "\n"


def test_render_header_context_refuses_a_line_break(tmp_path, capsys):
    v = tmp_path / "v.json"
    v.write_text(json.dumps({"q": "a\r\nX-Evil: 1"}))
    assert main(["render", "{{.q}}", "--vars", str(v), "--context", "header"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: <template>:1:3: ") and "CR or LF" in err


def test_render_gjson_context_keeps_a_quoted_query_value_closed(tmp_path, capsys):
    v = tmp_path / "v.json"
    v.write_text(json.dumps({"q": 'Ann") || #(x=="'}))
    assert main(["render", 'users.#(name=="{{.q}}")', "--vars", str(v), "--context", "gjson"]) == 0
    assert capsys.readouterr().out == 'users.#(name=="Ann\\") || #(x==\\"")\n'


def test_render_unknown_context_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "x", "--context", "xml"])
    assert exc.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_render_context_subprocess_smoke():
    out = _cli("render", "{{.q}}", "--vars", "-", "--context", "form", input='{"q": "x y"}')
    assert (out.returncode, out.stdout) == (0, "x%20y\n")


# -- events -------------------------------------------------------------------------------------------
def test_events_replays_a_recording_with_events_and_facts(capsys):
    assert main(["events", str(PBX / "inbound_answered.jsonl")]) == 0
    lines = capsys.readouterr().out.splitlines()
    events = [ln for ln in lines if "  event   " in ln]
    facts = [ln.split("  call    ", 1)[1] for ln in lines if "  call    " in ln]
    assert events and events[-1].split("event   ", 1)[1].startswith("30012 CDR 1651057476.362")
    assert facts == ["1651057476.362  ringing inbound 0049301234 -> 2002 on 2002",
                     "1651057476.362  answered by 2002",
                     "1651057476.362  ended after 24s",
                     "1651057476.362  completed: CDR ANSWERED, talk 21s"]
    assert lines[-1].endswith(f"finished: end of {PBX / 'inbound_answered.jsonl'}")


def test_events_facts_only_from_a_call_script(capsys):
    assert main(["events", str(PBX / "queue_transfer.script"), "--facts"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all("  call    " in ln for ln in lines)
    assert any(ln.endswith("answered by 2003") for ln in lines)
    assert lines[-2].endswith("ended after 12s") and lines[-3].endswith("missed +4930123456 -> 2002 (rang 2002)")
    assert lines[-1].endswith("completed: CDR NO ANSWER, talk 0s")


def test_events_only(capsys):
    assert main(["events", str(PBX / "queue_transfer.script"), "--events"]) == 0
    out = capsys.readouterr().out
    assert "  event   30011 " in out and "  call    " not in out


def test_events_and_facts_flags_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["events", "x", "--facts", "--events"])
    assert exc.value.code == 2


def test_events_script_error_is_located_and_nothing_printed(tmp_path, capsys):
    bad = tmp_path / "calls.script"
    bad.write_text("ring +4930123456 -> 2002\nanswer 2009\n")
    assert main(["events", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {bad}:2:1: answer: extension 2009 is not ringing\n  answer 2009\n  ^")


def test_events_bad_json_line_is_located(tmp_path, capsys):
    bad = tmp_path / "rec.jsonl"
    bad.write_text('{"at": 0, "event": {"type": 30011}}\n{"at": 1, "event": \n')
    assert main(["events", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}:2:")


def test_events_frame_it_cannot_read_is_reported_and_replay_goes_on(tmp_path, capsys):
    rec = tmp_path / "rec.jsonl"
    good = (PBX / "inbound_answered.jsonl").read_text().splitlines()[1]
    rec.write_text('{"at": 0, "event": "not a frame"}\n' + good + "\n")
    assert main(["events", str(rec)]) == 1
    out, err = capsys.readouterr()
    assert "  error   " in out and "ringing inbound 0049301234 -> 2002" in out
    assert "1 frame(s) could not be read" in err


def test_events_missing_file_and_negative_speed(tmp_path, capsys):
    assert main(["events", str(tmp_path / "nope.jsonl")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope.jsonl'}: cannot read the file: No such file or directory\n"
    assert main(["events", str(PBX / "queue_transfer.script"), "--speed", "-1"]) == 2
    assert capsys.readouterr().err == "error: --speed: the speed is a number, 0 (no waiting) or more, not -1\n"
    assert main(["events", str(PBX / "queue_transfer.script"), "--speed", "inf"]) == 2
    assert capsys.readouterr().err == "error: --speed: the speed is a number, 0 (no waiting) or more, not inf\n"


def test_events_speed_keeps_the_recorded_timing(tmp_path, capsys):
    import time

    script = tmp_path / "s.script"
    script.write_text("ring +4930123456 -> 2002\nwait 2s\nhangup\n")
    t0 = time.monotonic()
    assert main(["events", str(script), "--speed", "10", "--facts"]) == 0
    assert time.monotonic() - t0 >= 0.19  # 2 s at 10x
    assert capsys.readouterr().out.splitlines()[-2].lstrip().startswith("2.00s")


def test_events_subprocess_smoke():
    out = _cli("events", str(PBX / "inbound_answered.jsonl"), "--facts")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].endswith("completed: CDR ANSWERED, talk 21s")
