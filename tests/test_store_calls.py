"""CallRecord built from the PBX's call snapshots and the contact a call matched."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.flows import ContactMatch
from engine.pbx.calls import Call
from engine.store import CallRecord, Store

T0 = datetime(2026, 11, 25, 9, 0, 0, tzinfo=timezone.utc)


def test_a_ringing_inbound_call_has_no_status_yet():
    record = CallRecord.from_pbx(Call("1764061200.1", direction="inbound", caller="+4930123456", callee="5550",
                                      started_at=T0, rang=("2001", "2002")))
    assert (record.direction, record.caller_number, record.callee_number) == ("Inbound", "+4930123456", "5550")
    assert record.status is None and record.extension == "2001" and record.started_at == T0.timestamp()
    assert record.ring_seconds is None and record.ended_at is None


def test_answered_missed_failed_and_outbound_calls():
    answered = CallRecord.from_pbx(Call("a", direction="inbound", caller="+4930123456", started_at=T0,
                                        answered_at=T0 + timedelta(seconds=7), ended_at=T0 + timedelta(seconds=67),
                                        rang=("2001", "2002"), answered_by=("2002", "2005")))
    assert (answered.status, answered.extension, answered.ring_seconds, answered.talk_seconds) == \
           ("Answered", "2005", 7, 60)
    missed = CallRecord.from_pbx(Call("m", direction="inbound", caller="123", started_at=T0,
                                      ended_at=T0 + timedelta(seconds=25), rang=("2001",)))
    assert (missed.status, missed.ring_seconds, missed.talk_seconds, missed.missed) == ("No Answer", 25, 0, True)
    failed = CallRecord.from_pbx(Call("f", direction="outbound", caller="2003", callee="+15550100",
                                      started_at=T0, ended_at=T0, failure="busy"))
    assert (failed.status, failed.extension, failed.external_number) == ("Failed", "2003", "+15550100")


async def test_events_and_the_contact_make_one_history_row(tmp_path):
    ringing = Call("c1", direction="inbound", caller="+4930123456", started_at=T0, rang=("2001",))
    match = ContactMatch("Contact", {"ContactId": "77", "FirstName": "Ada", "LastName": "Lovelace"},
                         popup_url="https://hd.example/contacts/77")
    ended = Call("c1", direction="inbound", caller="+4930123456", started_at=T0,
                 answered_at=T0 + timedelta(seconds=5), ended_at=T0 + timedelta(seconds=65),
                 rang=("2001",), answered_by=("2001",))
    async with Store(tmp_path / "d.sqlite3") as store:
        await store.record_call(CallRecord.from_pbx(ringing))
        await store.record_call(CallRecord.matched("c1", match))
        row = await store.record_call(CallRecord.from_pbx(ended))
        assert (row.contact_id, row.contact_name, row.contact_type, row.popup_url) == \
               ("77", "Ada Lovelace", "Contact", "https://hd.example/contacts/77")
        assert (row.status, row.talk_seconds, row.extension) == ("Answered", 60, "2001")
        assert await store.search("lovelace") == [row]
