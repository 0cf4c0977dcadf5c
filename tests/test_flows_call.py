"""Call variables, the call scope across scenarios, the contact cache and the pick policy."""

from __future__ import annotations

import datetime as dt

from engine.flows import CallContext, CallInfo, ContactCache, ContactMatch, ContactSearchResult, PickPolicy
from engine.flows.contact_search import looks_like_number, pick
from engine.flows.call import call_variables, talk_duration


def test_talk_duration_is_h_mm_ss():
    assert [talk_duration(s) for s in (0, 59, 61, 3600, 3661, 36000)] == [
        "0:00:00", "0:00:59", "0:01:01", "1:00:00", "1:01:01", "10:00:00"]


def test_call_variables_cover_the_spec_list():
    call = CallInfo("+15550100", "1001", direction="Inbound", caller_display_name="Alice", extension="1001",
                    status="No Answer", start_time=1672531199, talk_seconds=0, ring_seconds=21,
                    record_path="/rec/1.wav")
    v = call_variables(call, tz=dt.timezone.utc)
    assert v["Call_From"] == "+15550100" and v["Call_To"] == "1001"
    assert v["Communication_Type"] == "Inbound"
    assert v["Call_Status"] == v["Call_Log_Status"] == "No Answer"
    assert v["StartTimeUnix"] == "1672531199" and v["Time"] == "2022-12-31 23:59:59"
    assert v["Talk_Duration"] == "0:00:00" and v["Talk_Duration_Sec"] == "0" and v["Ring_Duration_Sec"] == "21"
    assert v["RecordPath"] == "/rec/1.wav" and v["Extension"] == "1001" and v["ContactNumber"] == "+15550100"
    assert v["CallerDisplayName"] == "Alice"


def test_outcome_fields_are_empty_at_ring_time():
    v = call_variables(CallInfo("+1555", "1001", status="Answered", talk_seconds=9), at_ring=True)
    assert v["Call_Status"] == "" and v["Talk_Duration"] == "" and v["Talk_Duration_Sec"] == ""


def test_outbound_contact_number_is_the_callee():
    assert call_variables(CallInfo("1001", "+4930123", direction="Outbound"))["ContactNumber"] == "+4930123"


def test_outputs_stay_in_scope_for_the_rest_of_the_call():
    ctx = CallContext(CallInfo("+1555", "1001"))
    ctx.contact = ContactMatch("Contacts", {"ContactId": "c1", "FirstName": "Ann", "Email": ""})
    ctx.owner = "a3"
    ctx.remember({"TicketId": "77", "Empty": ""})
    scope = ctx.scope()
    assert scope["ContactId"] == "c1" and scope["WhoModule"] == "Contacts" and scope["Owner"] == "a3"
    assert scope["TicketId"] == "77" and "Empty" not in scope and "Email" not in scope
    ctx.remember({"ContactId": "c2"})  # a contact created later wins
    assert ctx.scope()["ContactId"] == "c2" and ctx.scope()["ContactsId"] == "c2"


def test_contact_cache_expires_and_is_bounded():
    now = [0.0]
    cache = ContactCache(ttl=30, size=2, clock=lambda: now[0])
    result = ContactSearchResult("+1555", [ContactMatch("Contacts", {"ContactId": "1"})])
    cache.put("S", "+1555", result)
    now[0] = 29
    assert cache.get("S", "+1555") is result
    now[0] = 31
    assert cache.get("S", "+1555") is None
    for n in ("a", "b", "c"):
        cache.put("S", n, result)
    assert cache.get("S", "a") is None and cache.get("S", "c") is result


def test_failed_searches_are_not_cached():
    from engine.flows import ScenarioError

    cache = ContactCache()
    failed = ContactSearchResult("+1555", errors=[ScenarioError("down")])
    cache.put("S", "+1555", failed)
    assert cache.get("S", "+1555") is None


def test_pick_policies():
    a, b = ContactMatch("C", {"ContactId": "a"}), ContactMatch("C", {"ContactId": "b"})
    assert pick([a, b], PickPolicy.FIRST) is a
    assert pick([a, b], PickPolicy.LAST) is b
    assert pick([a, b], PickPolicy.UNIQUE) is None and pick([a], PickPolicy.UNIQUE) is a
    assert pick([], PickPolicy.FIRST) is None


def test_display_name_falls_back():
    assert ContactMatch("C", {"ContactId": "1", "FirstName": "Ann", "LastName": "Lee"}).display_name == "Ann Lee"
    assert ContactMatch("C", {"ContactId": "1", "Company": "Acme"}).display_name == "Acme"
    assert ContactMatch("C", {"ContactId": "9"}).display_name == "9"


def test_manual_search_value_kind():
    assert looks_like_number("+49 (30) 123-456") and not looks_like_number("Anders") and not looks_like_number("12")
