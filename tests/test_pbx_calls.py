"""The per-call state machine on hand-written 30011/30012 sequences."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.pbx.calls import (
    CallAnswered, CallCompleted, CallEnded, CallMissed, CallRinging, CallTracker, LateCdr,
)
from engine.pbx.events import CallFailed, CallMember, CallStatusChanged, NewCdr, parse_event

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def tracker(clock):
    return CallTracker(clock=clock, cdr_timeout=60, keep_ended=600)


def ext(number, status, path="", channel=None):
    return CallMember("extension", number=number, channel_id=channel or f"PJSIP/{number}", status=status,
                      call_path=path)


def inbound(status, frm="+4930123456", to="2002", path="", trunk="sip-1"):
    return CallMember("inbound", from_number=frm, to_number=to, trunk=trunk, channel_id="PJSIP/trunk-1",
                      status=status, call_path=path)


def outbound(status, frm="2002", to="0049891234"):
    return CallMember("outbound", from_number=frm, to_number=to, trunk="sip-2", channel_id="PJSIP/trunk-2",
                      status=status)


def status(call_id, *members):
    return CallStatusChanged(30011, "SN", call_id, tuple(members))


def cdr(call_id, status="ANSWERED", talk=10, kind="inbound", frm="+4930123456", to="2002"):
    return NewCdr(30012, "SN", call_id, time_start=datetime(2026, 11, 25, 10, 0), call_from=frm, call_to=to,
                  call_duration=talk + 5, talk_duration=talk, status=status, call_type=kind)


def kinds(facts):
    return [type(f).__name__ for f in facts]


def run(tracker, clock, events, step=1.0):
    facts = []
    for event in events:
        facts += tracker.feed(event)
        clock.advance(step)
    return facts


def test_inbound_answered(tracker, clock):
    facts = run(tracker, clock, [
        status("1", inbound("ALERT"), ext("2002", "RING")),
        status("1", inbound("ANSWERED"), ext("2002", "ANSWER")),
        status("1", inbound("BYE"), ext("2002", "BYE")),
        cdr("1"),
    ])
    assert kinds(facts) == ["CallRinging", "CallAnswered", "CallEnded", "CallCompleted"]
    ringing, answered, ended, completed = facts
    assert ringing == CallRinging("1", "inbound", "+4930123456", "2002", ("2002",), "", "sip-1", T0, True)
    assert answered.extension == "2002" and answered.answered_at == T0 + timedelta(seconds=1)
    assert ended.duration == 2.0 and ended.call.answered
    assert completed.cdr.talk_duration == 10 and not completed.cdr_missing
    assert completed.call.answered_by == ("2002",)


def test_inbound_missed(tracker, clock):
    facts = run(tracker, clock, [
        status("2", inbound("ALERT"), ext("2002", "RING")),
        status("2", inbound("BYE"), ext("2002", "BYE")),
        cdr("2", status="NO ANSWER", talk=0),
    ])
    assert kinds(facts) == ["CallRinging", "CallMissed", "CallEnded", "CallCompleted"]
    assert facts[1].call.rang == ("2002",) and not facts[1].call.answered


def test_queue_with_three_members_ringing_in_parallel(tracker, clock):
    facts = run(tracker, clock, [
        status("3", inbound("ALERT", to="6400", path="6400"),
               ext("2001", "RING", "6400"), ext("2002", "RING", "6400"), ext("2003", "RING", "6400")),
        status("3", inbound("ANSWERED", to="6400", path="6400"),
               ext("2001", "BYE", "6400"), ext("2002", "ANSWER", "6400"), ext("2003", "BYE", "6400")),
        status("3", inbound("BYE", to="6400"), ext("2002", "BYE")),
    ])
    assert kinds(facts) == ["CallRinging", "CallAnswered", "CallEnded"]
    assert facts[0].extensions == ("2001", "2002", "2003")
    assert facts[0].via == "6400" and facts[0].callee == "6400"
    assert facts[1].extension == "2002" and facts[1].stopped_ringing == ("2001", "2003")


def test_missed_queue_call_whose_members_never_say_bye(tracker, clock):
    """Members ring one after the other; the caller hangs up while the last one still rings."""
    facts = run(tracker, clock, [
        status("4", inbound("ALERT", to="6400", path="6400"), ext("2001", "RING", "6400")),
        status("4", inbound("ALERT", to="6400", path="6400"), ext("2001", "BYE", "6400"),
               ext("2002", "RING", "6400")),
        status("4", inbound("BYE", to="6400", path="6400")),
    ])
    assert kinds(facts) == ["CallRinging", "CallRinging", "CallMissed", "CallEnded"]
    assert facts[1].extensions == ("2002",) and facts[1].first is False
    assert facts[2].call.rang == ("2001", "2002") and facts[2].call.via == "6400"


def test_transfer_adds_a_member(tracker, clock):
    facts = run(tracker, clock, [
        status("5", inbound("ALERT"), ext("2002", "RING")),
        status("5", inbound("ANSWERED"), ext("2002", "ANSWER")),
        status("5", inbound("ANSWERED"), ext("2002", "ANSWER"), ext("2003", "RING")),
        status("5", inbound("ANSWERED"), ext("2002", "BYE"), ext("2003", "RING")),
        status("5", inbound("ANSWERED"), ext("2002", "BYE"), ext("2003", "ANSWER")),
        status("5", inbound("BYE"), ext("2002", "BYE"), ext("2003", "BYE")),
    ])
    assert kinds(facts) == ["CallRinging", "CallAnswered", "CallRinging", "CallAnswered", "CallEnded"]
    assert facts[2].extensions == ("2003",) and not facts[2].first
    assert facts[3].extension == "2003"
    assert facts[4].call.answered_by == ("2002", "2003")
    assert facts[4].call.answered_at == T0 + timedelta(seconds=1)   # the first answer counts


def test_outbound_call(tracker, clock):
    facts = run(tracker, clock, [
        status("6", ext("2002", "ALERT"), outbound("RING")),
        status("6", ext("2002", "ANSWERED"), outbound("ANSWER")),
        status("6", ext("2002", "BYE"), outbound("BYE")),
        cdr("6", kind="outbound", frm="2002", to="0049891234"),
    ])
    assert kinds(facts) == ["CallRinging", "CallAnswered", "CallEnded", "CallCompleted"]
    ringing = facts[0]
    assert (ringing.direction, ringing.caller, ringing.callee, ringing.extensions) == \
        ("outbound", "2002", "0049891234", ("2002",))
    assert facts[1].extension == "2002"


def test_unanswered_outbound_call_is_not_missed(tracker, clock):
    facts = run(tracker, clock, [
        status("7", ext("2002", "ALERT"), outbound("RING")),
        status("7", ext("2002", "BYE"), outbound("BYE")),
    ])
    assert kinds(facts) == ["CallRinging", "CallEnded"]
    assert not facts[1].call.answered


def test_internal_call(tracker, clock):
    facts = run(tracker, clock, [
        status("8", ext("2005", "ALERT"), ext("2002", "RING")),
        status("8", ext("2005", "ANSWERED"), ext("2002", "ANSWER")),
        status("8", ext("2005", "BYE"), ext("2002", "BYE")),
    ])
    assert kinds(facts) == ["CallRinging", "CallAnswered", "CallEnded"]
    assert (facts[0].direction, facts[0].caller, facts[0].callee, facts[0].extensions) == \
        ("internal", "2005", "2002", ("2002",))


def test_internal_caller_gives_up(tracker, clock):
    facts = run(tracker, clock, [
        status("9", ext("2005", "ALERT"), ext("2002", "RING")),
        status("9", ext("2005", "BYE")),
    ])
    assert kinds(facts) == ["CallRinging", "CallMissed", "CallEnded"]


def test_cdr_before_bye(tracker, clock):
    facts = run(tracker, clock, [
        status("10", inbound("ALERT"), ext("2002", "RING")),
        status("10", inbound("ANSWERED"), ext("2002", "ANSWER")),
        cdr("10"),
        status("10", inbound("BYE"), ext("2002", "BYE")),
    ])
    assert kinds(facts) == ["CallRinging", "CallAnswered", "CallEnded", "CallCompleted"]


def test_duplicated_and_out_of_order_events(tracker, clock):
    ring = status("11", inbound("ALERT"), ext("2002", "RING"))
    answer = status("11", inbound("ANSWERED"), ext("2002", "ANSWER"))
    bye = status("11", inbound("BYE"), ext("2002", "BYE"))
    facts = run(tracker, clock, [ring, ring, answer, ring, answer, bye, bye, cdr("11"), cdr("11"), answer])
    assert kinds(facts) == ["CallRinging", "CallAnswered", "CallEnded", "CallCompleted"]


def test_late_ring_after_answer_does_not_reopen(tracker, clock):
    facts = run(tracker, clock, [
        status("12", inbound("ANSWERED"), ext("2002", "ANSWER")),
        status("12", inbound("ALERT"), ext("2002", "RING")),
    ])
    assert kinds(facts) == ["CallAnswered"]
    assert tracker.get("12").answered_by == ("2002",)


def test_cdr_for_a_call_never_seen(tracker, clock):
    facts = tracker.feed(cdr("13", kind="outbound", frm="2002", to="0049891234"))
    assert kinds(facts) == ["CallCompleted"]
    call = facts[0].call
    assert (call.direction, call.caller, call.callee) == ("outbound", "2002", "0049891234")
    assert tracker.feed(cdr("13")) == []


def test_completed_without_cdr_after_timeout_then_late_cdr(tracker, clock):
    run(tracker, clock, [status("14", inbound("ALERT"), ext("2002", "RING")),
                         status("14", inbound("BYE"), ext("2002", "BYE"))])
    clock.advance(30)
    assert tracker.expire() == []
    clock.advance(31)
    (completed,) = tracker.expire()
    assert isinstance(completed, CallCompleted) and completed.cdr_missing and completed.cdr is None
    assert tracker.expire() == []
    (late,) = tracker.feed(cdr("14", status="NO ANSWER", talk=0))
    assert isinstance(late, LateCdr) and late.cdr.status == "NO ANSWER"
    assert tracker.feed(cdr("14", status="NO ANSWER", talk=0)) == []


def test_finished_calls_are_evicted_but_never_completed_twice(tracker, clock):
    run(tracker, clock, [status("15", inbound("ALERT"), ext("2002", "RING")),
                         status("15", inbound("BYE"), ext("2002", "BYE")), cdr("15", "NO ANSWER", 0)])
    assert len(tracker) == 1
    clock.advance(601)
    tracker.expire()
    assert len(tracker) == 0 and tracker.get("15") is None
    assert tracker.feed(cdr("15", "NO ANSWER", 0)) == []
    assert tracker.feed(status("15", inbound("BYE"), ext("2002", "BYE"))) == []


def test_memory_is_bounded(clock):
    tracker = CallTracker(clock=clock, max_calls=10, max_completed_ids=50)
    for i in range(200):
        tracker.feed(status(str(i), inbound("ALERT"), ext("2002", "RING")))
        if i % 2:
            tracker.feed(cdr(str(i)))
    assert len(tracker) <= 10
    assert len(tracker._completed) <= 50


def test_stale_live_call_ends(clock):
    tracker = CallTracker(clock=clock, max_call_age=3600)
    tracker.feed(status("16", inbound("ANSWERED"), ext("2002", "ANSWER")))
    clock.advance(3601)
    assert kinds(tracker.expire()) == ["CallEnded"]
    assert tracker.active == []


def test_call_failed_ends_the_call(tracker, clock):
    facts = tracker.feed(CallFailed(30015, "SN", "17", "User Busy", (inbound("BYE"), ext("2002", "BYE"))))
    assert kinds(facts) == ["CallMissed", "CallEnded"]
    assert facts[1].call.failure == "User Busy"


def test_parallel_calls_are_kept_apart(tracker, clock):
    facts = run(tracker, clock, [
        status("a", inbound("ALERT", frm="+111"), ext("2001", "RING")),
        status("b", inbound("ALERT", frm="+222"), ext("2002", "RING")),
        status("a", inbound("ANSWERED", frm="+111"), ext("2001", "ANSWER")),
        status("b", inbound("BYE", frm="+222"), ext("2002", "BYE")),
    ])
    assert [(type(f).__name__, f.call_id) for f in facts] == [
        ("CallRinging", "a"), ("CallRinging", "b"), ("CallAnswered", "a"), ("CallMissed", "b"), ("CallEnded", "b")]
    assert [c.call_id for c in tracker.active] == ["a"]


def test_parsed_frames_drive_the_tracker(tracker, clock):
    """End to end from the raw 30011 text the PBX sends (blank call_path as " ")."""
    raw = ('{"type":30011,"sn":"S","msg":"{\\"call_id\\":\\"1.1\\",\\"members\\":['
           '{\\"inbound\\":{\\"from\\":\\"5503301\\",\\"to\\":\\"2002\\",\\"trunk_name\\":\\"t\\",'
           '\\"channel_id\\":\\"c1\\",\\"member_status\\":\\"ALERT\\",\\"call_path\\":\\" \\"}},'
           '{\\"extension\\":{\\"number\\":\\"2002\\",\\"channel_id\\":\\"c2\\",\\"member_status\\":\\"RING\\",'
           '\\"call_path\\":\\" \\"}}]}"}')
    (fact,) = tracker.feed(parse_event(raw))
    assert isinstance(fact, CallRinging) and fact.caller == "5503301" and fact.via == ""
    assert not isinstance(fact, (CallAnswered, CallMissed, CallEnded))


# -- property test: any sequence of events keeps the tracker's promises ---------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

STATUSES = ["ALERT", "RING", "ANSWER", "ANSWERED", "HOLD", "BYE", "WEIRD", ""]
member_strategy = st.one_of(
    st.builds(ext, st.sampled_from(["2001", "2002", "2003"]), st.sampled_from(STATUSES),
              st.sampled_from(["", "6400"])),
    st.builds(inbound, st.sampled_from(STATUSES)),
    st.builds(outbound, st.sampled_from(STATUSES)),
)
step_strategy = st.one_of(
    st.builds(lambda cid, ms: ("event", status(cid, *ms)), st.sampled_from("abc"),
              st.lists(member_strategy, max_size=4)),
    st.builds(lambda cid, s: ("event", cdr(cid, s)), st.sampled_from("abcd"),
              st.sampled_from(["ANSWERED", "NO ANSWER", "BUSY"])),
    st.builds(lambda cid, reason: ("event", CallFailed(30015, "SN", cid, reason, ())), st.sampled_from("abc"),
              st.sampled_from(["", "DND"])),
    st.builds(lambda s: ("wait", s), st.sampled_from([0.5, 30, 61, 700])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step_strategy, max_size=30))
def test_any_event_sequence_keeps_the_promises(steps):
    clock = Clock()
    tracker = CallTracker(clock=clock, cdr_timeout=60, keep_ended=600)
    facts = []
    for kind, value in steps:
        if kind == "wait":
            clock.advance(value)
            facts += tracker.expire()
        else:
            facts += tracker.feed(value)
    for _ in range(3):          # stale calls end, then complete without CDR, then are evicted
        clock.advance(13 * 3600)
        facts += tracker.expire()
    by_call: dict[str, list[str]] = {}
    for fact in facts:
        by_call.setdefault(fact.call_id, []).append(type(fact).__name__)
    for call_id, names in by_call.items():
        assert names.count("CallCompleted") == 1, (call_id, names)    # every call completes exactly once
        assert names.count("CallEnded") <= 1
        assert names.count("LateCdr") <= 1
        if "CallEnded" in names:
            after = names[names.index("CallEnded") + 1:]
            assert not {"CallRinging", "CallAnswered", "CallMissed"} & set(after), names
        if "CallMissed" in names:
            assert names[names.index("CallMissed") + 1] == "CallEnded"
            assert "CallAnswered" not in names
    assert len(tracker) == 0                                          # everything was evicted in the end
