"""Call scripts, replay files (JSON Lines), ReplaySource and the replay command."""

from __future__ import annotations

import json

import pytest

from engine.pbx.calls import CallTracker
from engine.pbx.events import CallStatusChanged, ExtensionStatusChanged, NewCdr, parse_event
from engine.pbx.replay import main as replay_main
from engine.pbx.script import PbxModel, ScriptError, expand_script, parse_duration
from engine.pbx.source import FINISHED, FRAME_ERROR, SUBSCRIBED, ReplaySource, SourceStatus, load_replay
from tests.conftest import DATA

PBX_DATA = DATA / "pbx"


def facts_of(script: str) -> list[tuple[float, str, object]]:
    """Run a script through parse_event and the tracker; (time, fact name, fact)."""
    tracker = CallTracker()
    out = []
    for item in expand_script(script):
        event = parse_event(item.text())
        out += [(item.at, type(f).__name__, f) for f in tracker.feed(event)]
    return out


def test_ring_answer_hangup_expands_to_realistic_frames():
    frames = expand_script("ring +4930123456 -> 2002\nwait 2s\nanswer\nwait 10s\nhangup\n")
    events = [parse_event(f.text()) for f in frames]
    status = [e for e in events if isinstance(e, CallStatusChanged)]
    assert [[m.status for m in e.members] for e in status] == [["ALERT", "RING"], ["ANSWERED", "ANSWER"],
                                                               ["BYE", "BYE"]]
    assert all(isinstance(json.loads(f.text())["msg"], str) for f in frames)   # msg is JSON in a string
    assert {e.extension: e.status for e in events if isinstance(e, ExtensionStatusChanged)} == {"2002": "Idle"}
    (cdr,) = [e for e in events if isinstance(e, NewCdr)]
    assert (cdr.call_duration, cdr.talk_duration, cdr.status, cdr.call_type) == (12, 10, "ANSWERED", "inbound")
    assert cdr.call_id == status[0].call_id and cdr.recording.endswith("-Inbound.wav")
    assert [f.at for f in frames][-1] == 12.0


def test_missed_queue_call_shorthand():
    facts = facts_of("missed +4930123 -> 6400 (queue 2001 2002) after 8s\n")
    assert [(at, name) for at, name, _ in facts] == [(0, "CallRinging"), (8, "CallMissed"), (8, "CallEnded"),
                                                    (8, "CallCompleted")]
    ringing, missed, completed = facts[0][2], facts[1][2], facts[3][2]
    assert ringing.extensions == ("2001", "2002") and ringing.via == "6400"
    assert missed.call.rang == ("2001", "2002")
    assert completed.cdr.status == "NO ANSWER" and completed.cdr.call_duration == 8


def test_queue_without_members_is_still_a_missed_call():
    facts = facts_of("missed +4930123 -> 6400 (queue)\n")
    assert [name for _, name, _ in facts] == ["CallMissed", "CallEnded", "CallCompleted"]
    assert facts[0][2].call.via == "6400"


def test_transfer_internal_outbound_and_busy():
    facts = facts_of("""
        ring 0049301234 -> 2002
        answer 2002
        transfer 2002 -> 2003
        wait 1s
        answer 2003
        hangup
        call 2005 -> 2002
        answer
        hangup 2005
        dial 2002 -> +4989123456 trunk sip-9
        answer
        hangup
        busy +4930999 -> 2002 reason DND
    """)
    names = [name for _, name, _ in facts]
    assert names == ["CallRinging", "CallAnswered", "CallRinging", "CallAnswered", "CallEnded", "CallCompleted",
                     "CallRinging", "CallAnswered", "CallEnded", "CallCompleted",
                     "CallRinging", "CallAnswered", "CallEnded", "CallCompleted",
                     "CallMissed", "CallEnded", "CallCompleted"]
    assert facts[5][2].call.answered_by == ("2002", "2003")
    assert facts[6][2].direction == "internal"
    outbound = facts[10][2]
    assert (outbound.direction, outbound.callee, outbound.trunk) == ("outbound", "+4989123456", "sip-9")
    assert facts[-2][2].call.failure == "DND" and facts[-1][2].cdr.status == "BUSY"


def test_two_calls_at_once_are_told_apart_by_extension():
    facts = facts_of("ring +111 -> 2001\nring +222 -> 2002\nanswer 2002\nhangup 2001\nhangup 2002\n")
    by_call = {}
    for _, name, fact in facts:
        by_call.setdefault(fact.call_id, []).append(name)
    assert sorted(by_call.values()) == [
        ["CallRinging", "CallAnswered", "CallEnded", "CallCompleted"],
        ["CallRinging", "CallMissed", "CallEnded", "CallCompleted"]]


def test_arrow_variants_and_comments():
    a = expand_script("ring 0049301234 → 2002  # unicode arrow\n", model=PbxModel())
    b = expand_script("# header\n\nring 0049301234->2002\n", model=PbxModel())
    assert [f.frame for f in a] == [f.frame for f in b]
    assert b[0].line == 3


@pytest.mark.parametrize("script, line, words", [
    ("ring +4930\n", 1, "expected 'ring FROM -> TO'"),
    ("wait 2s\nanswer\n", 2, "no call"),
    ("ring +49 -> 2002\nanswer 2003\n", 2, "not ringing"),
    ("ring +49 -> 2002\nwait soon\n", 2, "duration"),
    ("ring +49 -> 2002\n  dance\n", 2, "unknown command"),
    ("ring +49 -> 2002 (queue 20 01!)\n", 1, "not an extension"),
    ("hangup\n", 1, "no call"),
])
def test_script_errors_name_the_line(script, line, words):
    with pytest.raises(ScriptError) as info:
        expand_script(script, source="calls.txt")
    err = info.value
    assert err.location.file == "calls.txt" and err.location.line == line
    assert words in err.message
    assert "^" in err.excerpt


def test_durations():
    assert [parse_duration(t) for t in ("2s", "500ms", "1.5", "1m")] == [2.0, 0.5, 1.5, 60.0]
    with pytest.raises(ValueError):
        parse_duration("2h")


def test_jsonl_replay_file_from_tests_data():
    frames = load_replay((PBX_DATA / "inbound_answered.jsonl").read_text(), source="x.jsonl")
    assert [f.at for f in frames] == [0, 3.5, 24.5, 24.6]
    assert [f.line for f in frames] == [2, 3, 4, 5]
    assert isinstance(frames[-1].frame, str)          # a raw frame text is accepted too


@pytest.mark.parametrize("text, line, field, words", [
    ('{"at": 0, "event": {}}\n{"at": 1, "event": \n', 2, "", "invalid JSON"),
    ('{"at": 0, "event": {}}\n{"at": -1, "event": {}}\n', 2, "at", "seconds"),
    ('{"at": 0, "event": {}}\n{"at": "soon", "event": {}}\n', 2, "at", "seconds"),
    ('{"at": 0}\n', 1, "event", '"event"'),
])
def test_jsonl_errors_are_located(text, line, field, words):
    with pytest.raises(Exception) as info:
        load_replay(text, source="bad.jsonl")
    err = info.value
    assert err.location.file == "bad.jsonl" and err.location.line == line and err.location.field == field
    assert words in err.message


async def test_replay_source_keeps_timing_scaled_by_speed():
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    source = ReplaySource(PBX_DATA / "inbound_answered.jsonl", speed=2.0, sleep=sleep)
    items = [i async for i in source]
    assert slept == pytest.approx([1.75, 10.5, 0.05])
    assert isinstance(items[0], SourceStatus) and items[0].state == SUBSCRIBED
    assert items[-1].state == FINISHED
    assert sum(1 for i in items if not isinstance(i, SourceStatus)) == 4


async def test_replay_source_reports_bad_events_with_their_line_and_goes_on():
    text = ('{"at": 0, "event": {"type": 30011, "msg": {"members": []}}}\n'
            '{"at": 0, "event": {"type": 30008, "msg": {"extension": "2002", "status": "Idle"}}}\n')
    items = [i async for i in ReplaySource(text=text, speed=0)]
    bad = next(i for i in items if isinstance(i, SourceStatus) and i.state == FRAME_ERROR)
    assert (bad.error.location.line, bad.error.location.field) == (1, "msg.call_id")
    assert any(isinstance(i, ExtensionStatusChanged) for i in items)


async def test_replay_source_plays_a_script():
    items = [i async for i in ReplaySource(PBX_DATA / "queue_transfer.script", speed=0)]
    assert sum(isinstance(i, NewCdr) for i in items) == 2


def test_replay_command_prints_events_and_facts(capsys):
    assert replay_main([str(PBX_DATA / "queue_transfer.script"), "--facts"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "ringing inbound 0049301234 -> 6400 via 6400 on 2001,2002,2003" in out[0]
    assert "answered by 2002 (stopped ringing: 2001,2003)" in out[1]
    assert out[1].lstrip().startswith("3.00s")
    assert any("missed +4930123456 -> 2002 (rang 2002)" in line for line in out)
    assert not any(" event " in line for line in out)


def test_replay_command_reports_errors(tmp_path, capsys):
    bad = tmp_path / "bad.script"
    bad.write_text("ring +49 -> 2002\nanswer 2009\n")
    assert replay_main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:1: answer: extension 2009 is not ringing" in err
    assert replay_main([str(tmp_path / "missing.jsonl")]) == 2


def test_hold_and_unhold_change_nothing_for_the_console():
    frames = expand_script("ring +49 -> 2002\nanswer\nhold\nunhold 2002\nhangup\n")
    statuses = [[m.status for m in e.members] for e in map(parse_event, (f.text() for f in frames))
                if isinstance(e, CallStatusChanged)]
    assert ["ANSWERED", "HOLD"] in statuses and statuses.count(["ANSWERED", "ANSWER"]) == 2
    assert [name for _, name, _ in facts_of("ring +49 -> 2002\nanswer\nhold\nunhold\nhangup\n")] == \
        ["CallRinging", "CallAnswered", "CallEnded", "CallCompleted"]


def test_sources_satisfy_the_protocol(tmp_path):
    from engine.pbx.source import OpenApiSource, PbxEventSource, RecordingSource
    replay = ReplaySource(text="ring +49 -> 2002\n")
    for source in (replay, OpenApiSource("http://127.0.0.1:9", "i", "s"), RecordingSource(replay, tmp_path / "r")):
        assert isinstance(source, PbxEventSource)
