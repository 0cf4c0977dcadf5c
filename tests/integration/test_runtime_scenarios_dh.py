"""The shipped django-helpdesk template through the real engine, checked on the server's side:
a ticket created while the phone rings and updated after the call, the follow-up as the call
journal, the caller matched with its popup URL, and a broken refresh token reported clearly."""

from __future__ import annotations

import asyncio
import secrets
import time

import httpx
import pytest

from engine.flows import CallInfo
from tests.integration.oauth_browser import authorize
from tests.integration.test_runtime_dh import connect
from tests.integration.test_runtime_scenarios_rt import variant_of

pytestmark = pytest.mark.realserver

RING = ('<Parameter Name="NeedSyncContact" Value="0" />\n        <Parameter Father="CustomScenarioParameter" '
        'Name="AssignTo"',
        '<Parameter Name="NeedSyncContact" Value="0" />\n        <Parameter Name="CreateTicketAt" Value="ring" />\n'
        '        <Parameter Father="CustomScenarioParameter" Name="AssignTo"')


async def log_in(hd, dh) -> None:
    """The operator pastes the redirect URL (no browser on the PBX host)."""
    request = hd.auth.authorization_request()
    pasted = await asyncio.to_thread(authorize, request.url, dh.login_user, dh.login_password)
    await hd.auth.complete(pasted, request)
    assert hd.health().state in ("connected", "expiring")  # the short-TTL server issues 2 s tokens


async def test_ticket_at_ring_update_and_follow_up_after_the_call(dh_server, tmp_path, monkeypatch):
    import tests.integration.test_runtime_dh as runtime_dh

    monkeypatch.setattr(runtime_dh, "TEMPLATE", variant_of("django-helpdesk-oauth2", tmp_path, RING))
    number = "+1778" + "".join(secrets.choice("0123456789") for _ in range(7))
    email = f"ringing-{number[1:]}@example.com"
    async with connect(dh_server, tmp_path) as hd:
        await log_in(hd, dh_server)
        call = hd.new_call(CallInfo(number, "1001", extension="1001", start_time=time.time()))
        call.variables["ContactId"] = email
        at_ring = await hd.ticket_at_ring(call)
        assert at_ring is not None and at_ring.ok, at_ring.error
        assert [o.request.name for o in at_ring.outcomes] == ["CreateNewTicket"]
        ticket_id = call.variables["TicketId"]
        api = httpx.Client(headers={"Authorization": f"Token {dh_server.token}"}, timeout=20, trust_env=False)
        with api:
            ringing = api.get(f"{dh_server.api}/tickets/{ticket_id}/").json()
            assert ringing["title"] == f"Inbound call from {number} to 1001" and ringing["assigned_to"] is None
            # the call ends: the same ticket is assigned (update request), the journal is a private follow-up
            call.call.status, call.call.talk_seconds = "Answered", 192
            after = await hd.ticket_after_call(call, custom={"AssignTo": "2"})
            assert after.ok, after.error
            assert [o.request.name for o in after.outcomes] == ["AssignTicket"]
            assert after.traces[0].method == "PATCH" and after.traces[0].url.endswith(f"/tickets/{ticket_id}/")
            journal = await hd.write_journal(call)
            assert journal.ok, journal.error
            ticket = api.get(f"{dh_server.api}/tickets/{ticket_id}/").json()
        found = await hd.search_contacts(number, use_cache=False)
    assert ticket["assigned_to"] == 2 and ticket["submitter_email"] == email
    notes = [f["comment"] for f in ticket["followup_set"] if not f["public"]]
    assert len(notes) == 1 and notes[0].startswith("Call log: Inbound call, Answered. ")
    assert "talk time 0:03:12 (192 s)" in notes[0]
    assert found.chosen is not None and found.chosen.id == email
    assert found.chosen.popup_url == f"{dh_server.url}/helpdesk/tickets/?q={email.replace('@', '%40')}"


async def test_a_rejected_refresh_token_is_reported_without_secrets(dh_server, tmp_path):
    async with connect(dh_server, tmp_path, short=True) as hd:
        await log_in(hd, dh_server)
        tokens = hd.auth.tokens
        tokens.refresh_token = "not-a-valid-refresh-" + secrets.token_hex(8)
        tokens.expires_at = time.time() - 1  # deskline knows the token expired: it must refresh first
        found = await hd.search_contacts("+15550000", use_cache=False)
        assert not found.ok
        message = str(found.errors[0])
        health = hd.health()
    assert health.state == "error" and "invalid_grant" in health.error
    assert "'Callers'" in message and "authorize deskline again" in message and "/o/token/" in message
    everything = message + health.error + repr(found.traces) + " ".join(t.as_curl() for t in found.traces)
    assert tokens.refresh_token not in everything and dh_server.client_secret not in everything
    assert tokens.access_token not in everything


async def test_concurrent_requests_at_expiry_refresh_once(dh_server, tmp_path):
    """django-oauth-toolkit rotates refresh tokens: a second refresh with the old one would fail."""
    async with connect(dh_server, tmp_path, short=True) as hd:
        await log_in(hd, dh_server)
        first = hd.auth.tokens
        first.expires_at = time.time() + 3600  # deskline does not know: the server's 401s trigger the refresh
        await asyncio.sleep(dh_server.short_ttl + 1)
        found = await asyncio.gather(*(hd.search_contacts(f"+1555000{i}", use_cache=False) for i in range(8)))
        assert all(f.ok for f in found), [f.errors for f in found if not f.ok]
        refreshed = [n for f in found for t in f.traces for n in t.notes if "credentials refreshed" in n]
        assert hd.auth.tokens.access_token != first.access_token and hd.auth.tokens.refreshed_at is not None
        assert len(refreshed) >= 1 and hd.health().error == ""
        refreshes = [t for t in hd.traces
                     if t.url.endswith("/o/token/") and "grant_type=refresh_token" in t.request_body]
        # eight requests share each refresh; with 2 s tokens a later request may legitimately refresh again, but a
        # rotated refresh token is never sent twice (django-oauth-toolkit would answer 400 invalid_grant)
        assert 1 <= len(refreshes) < 8 and all(t.status == 200 for t in refreshes)
        with httpx.Client(timeout=20, trust_env=False) as client:
            old = client.post(dh_server.token_endpoint(short=True), data={
                "grant_type": "refresh_token", "refresh_token": first.refresh_token,
                "client_id": dh_server.client_id, "client_secret": dh_server.client_secret})
            assert old.status_code == 400  # rotated: the old refresh token was used exactly once
