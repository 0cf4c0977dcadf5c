"""parse_event: the documented frames, the PBX's sloppiness, located errors, fuzzing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import LocatedError
from engine.pbx.events import (
    CallFailed, CallForwarded, CallStatusChanged, ExtensionStatusChanged, FrameError, InboundCallInvitation,
    NewCdr, UaCstaCall, UnknownEvent, is_subscription_ack, parse_event,
)

# Documented examples, copied from /work/shared/spec/yeastar-openapi.md §c.4 (Yeastar P-Series Open API
# developer guide, as quoted there). The 30012 example is abridged in the docs ("…"); the fields shown
# are kept verbatim.
DOC_30016 = (
    '{"type":30016,"sn":"3631A2124XXX",'
    '"msg":"{\\"call_id\\":\\"1648861726.280\\",\\"members\\":[{\\"inbound\\":{\\"from\\":\\"5503301\\",'
    '\\"to\\":\\"2002\\",\\"trunk_name\\":\\"peer-to-41\\",'
    '\\"channel_id\\":\\"PJSIP/trunk-peer-to-41-endpoint-000000b5\\",'
    '\\"member_status\\":\\"ALERT\\",\\"call_path\\":\\" \\"}}]}"}'
)
DOC_30012 = (
    '{"type":30012,"sn":"3631A2124XXX","msg":"{\\"call_id\\":\\"1651057476.362\\",'
    '\\"time_start\\":\\"2022-04-27 19:04:36\\",\\"call_from\\":\\"2005\\",\\"call_to\\":\\"2002\\",'
    '\\"call_duration\\":24,\\"talk_duration\\":21,\\"status\\":\\"ANSWERED\\",\\"type\\":\\"Internal\\",'
    '\\"recording\\":\\"20220427190445-1651057476.362-2005-2002-Internal.wav\\"}"}'
)


def frame(event: int, msg, **extra) -> str:
    return json.dumps({"type": event, "sn": "SN1", "msg": json.dumps(msg) if not isinstance(msg, str) else msg,
                       **extra})


def test_documented_30016_inbound_call_invitation():
    event = parse_event(DOC_30016)
    assert isinstance(event, InboundCallInvitation)
    assert (event.type, event.sn, event.call_id) == (30016, "3631A2124XXX", "1648861726.280")
    (member,) = event.members
    assert member.kind == "inbound"
    assert (member.from_number, member.to_number, member.trunk) == ("5503301", "2002", "peer-to-41")
    assert member.channel_id == "PJSIP/trunk-peer-to-41-endpoint-000000b5"
    assert member.status == "ALERT"
    assert member.call_path == ""          # " " is a blank


def test_documented_30012_cdr_fields_are_typed():
    berlin = timezone(timedelta(hours=2))
    cdr = parse_event(DOC_30012, tz=berlin)
    assert isinstance(cdr, NewCdr)
    assert cdr.call_id == "1651057476.362"
    assert cdr.time_start == datetime(2022, 4, 27, 19, 4, 36, tzinfo=berlin)
    assert (cdr.call_from, cdr.call_to) == ("2005", "2002")
    assert (cdr.call_duration, cdr.talk_duration) == (24, 21)
    assert cdr.status == "ANSWERED" and cdr.answered
    assert cdr.call_type == "internal"
    assert cdr.recording == "20220427190445-1651057476.362-2005-2002-Internal.wav"


def test_cdr_without_tz_is_naive_and_oem_fields_are_read():
    cdr = parse_event(frame(30012, {"call_id": "1.2", "time_start": "2022-04-27 19:04:36", "status": "ANSWERD",
                                    "type": "Inbound", "did_number": "0301234", "did_name": "Sales",
                                    "uid": "77", "agent_ring_time": "4", "call_note_id": 5,
                                    "enb_call_note": "yes"}))
    assert cdr.time_start == datetime(2022, 4, 27, 19, 4, 36) and cdr.time_start.tzinfo is None
    assert cdr.status == "ANSWERED"        # the doc table's typo is read as the real value
    assert cdr.call_type == "inbound"
    assert (cdr.did_number, cdr.did_name, cdr.uid, cdr.agent_ring_time) == ("0301234", "Sales", "77", 4)
    assert cdr.extra == {"call_note_id": 5, "enb_call_note": "yes"}


def test_call_status_changed_with_all_member_kinds():
    msg = {"call_id": "9.1", "members": [
        {"extension": {"number": "2002", "channel_id": "PJSIP/2002-1", "member_status": "ring",
                       "call_path": "6400"}},
        {"inbound": {"from": "+4930123456", "to": "6400", "trunk_name": "sip-1", "channel_id": "c2",
                     "member_status": "ALERT", "call_path": " "}},
        {"outbound": {"from": "2003", "to": "0049891234", "trunk_name": "sip-2", "channel_id": "c3",
                      "member_status": "ANSWER", "call_path": ""}},
    ]}
    event = parse_event(frame(30011, msg))
    assert isinstance(event, CallStatusChanged)
    ext, inbound, outbound = event.members
    assert (ext.kind, ext.number, ext.status, ext.call_path) == ("extension", "2002", "RING", "6400")
    assert (inbound.kind, inbound.from_number, inbound.to_number, inbound.trunk) == \
        ("inbound", "+4930123456", "6400", "sip-1")
    assert (outbound.kind, outbound.to_number, outbound.status) == ("outbound", "0049891234", "ANSWER")


def test_other_event_kinds():
    assert parse_event(frame(30008, {"extension": "2002", "status": "Ringing"})) == \
        ExtensionStatusChanged(30008, "SN1", "2002", "Ringing")
    failed = parse_event(frame(30015, {"call_id": "3.3", "reason": "486 Busy here", "members": []}))
    assert isinstance(failed, CallFailed) and failed.reason == "486 Busy here"
    assert isinstance(parse_event(frame(30014, {"call_id": "3.4", "members": []})), CallForwarded)
    ua = parse_event(frame(30020, {"operation": "call_start", "extension": "2002", "call_id": "5.5",
                                   "ip_address": "10.0.0.9"}))
    assert ua == UaCstaCall(30020, "SN1", "call_start", "2002", "5.5", "10.0.0.9")


def test_unknown_event_is_kept_raw():
    event = parse_event(frame(30099, {"anything": [1, 2]}))
    assert isinstance(event, UnknownEvent) and event.msg == {"anything": [1, 2]}


def test_lenient_type_as_string_msg_as_object_unknown_fields_bytes():
    raw = json.dumps({"type": " 30011 ", "sn": "SN", "extra_top": 1,
                      "msg": {"call_id": " 7.7 ", "new_field": {"x": 1},
                              "members": [{"extension": {"number": "2002", "member_status": "RING",
                                                         "future": True}}]}}).encode()
    event = parse_event(raw)
    assert isinstance(event, CallStatusChanged)
    assert event.call_id == "7.7"
    assert event.members[0].number == "2002"


def test_numbers_as_strings_floats_and_blanks_in_cdr():
    cdr = parse_event(frame(30012, {"call_id": "1", "call_duration": "24", "talk_duration": 20.6,
                                    "agent_ring_time": " ", "time_start": " ", "recording": " "}))
    assert (cdr.call_duration, cdr.talk_duration, cdr.agent_ring_time) == (24, 21, 0)
    assert cdr.time_start is None and cdr.recording == ""


def test_single_member_object_instead_of_list():
    event = parse_event(frame(30011, {"call_id": "1", "members": {"extension": {"number": "2002"}}}))
    assert event.members[0].number == "2002"


@pytest.mark.parametrize("raw, field, words", [
    ('{"type": 30011, "msg": "{\\"call_id\\": 1,"}', "msg", "invalid JSON"),
    ('{"type": 30011,', "frame", "invalid JSON"),
    ('[1, 2]', "frame", "JSON object"),
    ('{"msg": "{}"}', "type", "no event type"),
    ('{"type": "call", "msg": "{}"}', "type", "event id"),
    ('{"type": 30011, "msg": "{\\"members\\": []}"}', "msg.call_id", "no call_id"),
    ('{"type": 30011, "msg": "[1]"}', "msg", "expected an object"),
    ('{"type": 30011, "msg": {"call_id": "1", "members": 5}}', "msg.members", "list of members"),
    ('{"type": 30011, "msg": {"call_id": "1", "members": [{"extension": {"number": "1"}}, {"phone": 1}]}}',
     "msg.members[1]", "none of extension"),
    ('{"type": 30011, "msg": {"call_id": "1", "members": [{"inbound": {"from": ["x"]}}]}}',
     "msg.members[0].inbound.from", "expected a string"),
    ('{"type": 30012, "msg": {"call_id": "1", "call_duration": "long"}}', "msg.call_duration", "whole number"),
    ('{"type": 30012, "msg": {"call_id": "1", "time_start": "yesterday"}}', "msg.time_start", "2022-04-27"),
    ('{"type": 30008, "msg": {"status": "Idle"}}', "msg.extension", "no extension"),
])
def test_malformed_frames_give_located_errors(raw, field, words):
    with pytest.raises(FrameError) as info:
        parse_event(raw, source="pbx.example", line=7)
    err = info.value
    assert isinstance(err, LocatedError)
    assert err.location.field.startswith(field)
    assert words in err.message
    assert str(err).startswith("pbx.example:7")


def test_json_syntax_error_points_at_the_column():
    with pytest.raises(FrameError) as info:
        parse_event('{"type": 30011, "sn": x}', source="rec.jsonl", line=3)
    assert info.value.location.line == 3
    assert info.value.location.col == 23
    assert "^" in info.value.excerpt


def test_invalid_utf8_bytes():
    with pytest.raises(FrameError, match="not UTF-8"):
        parse_event(b'{"type": 30011, "msg": "\xff"}')


def test_subscription_ack_forms():
    assert is_subscription_ack({"errcode": 0, "errmsg": "SUCCESS"})
    assert is_subscription_ack({"type": 10000, "msg": "ok"})
    assert is_subscription_ack({"type": "10000"})
    assert not is_subscription_ack({"type": 30011, "msg": "{}"})
    assert not is_subscription_ack("heartbeat response")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
member_bodies = st.dictionaries(
    st.sampled_from(["number", "from", "to", "trunk_name", "channel_id", "member_status", "call_path", "x"]),
    json_values, max_size=5)
members = st.lists(st.dictionaries(st.sampled_from(["extension", "inbound", "outbound", "other"]),
                                   member_bodies | json_values, min_size=0, max_size=2), max_size=3)
msgs = st.fixed_dictionaries({}, optional={
    "call_id": json_values, "members": members | json_values, "time_start": json_values,
    "call_duration": json_values, "status": json_values, "type": json_values, "extension": json_values,
    "reason": json_values, "agent_ring_time": json_values})
envelopes = st.fixed_dictionaries(
    {"type": st.sampled_from([30008, 30011, 30012, 30014, 30015, 30016, 30020, 1, "30011", " 30012", None])},
    optional={"sn": json_values, "msg": msgs | json_values | msgs.map(json.dumps)})


@settings(max_examples=400, deadline=None)
@given(envelopes, st.sampled_from(["obj", "text", "bytes"]))
def test_fuzz_structured_frames_never_crash(envelope, form):
    raw = envelope if form == "obj" else json.dumps(envelope)
    if form == "bytes":
        raw = raw.encode()
    try:
        event = parse_event(raw, source="fuzz", line=1)
    except FrameError as err:
        assert err.location.file == "fuzz" and err.location.line == 1
        assert err.location.field
        assert err.message
    else:
        assert event.type in (30008, 30011, 30012, 30014, 30015, 30016, 30020, 1)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.binary(max_size=60))
def test_fuzz_arbitrary_text_never_crashes(raw):
    try:
        parse_event(raw)
    except FrameError as err:
        assert err.location.field or "UTF-8" in err.message
