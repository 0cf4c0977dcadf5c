"""The real engine runs the shipped django-helpdesk template: OAuth2 (loopback callback and pasted
redirect, PKCE), refresh before expiry and after a 401, tickets and call journals."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import stat
import time
from urllib.parse import urlsplit

import pytest

from engine.auth import TokenStore
from engine.flows import CallInfo
from engine.http import HttpSettings
from engine.integration import Integration, IntegrationSettings
from engine.template import load_template
from tests.conftest import REPO
from tests.integration.oauth_browser import authorize

pytestmark = pytest.mark.realserver

TEMPLATE = REPO / "templates" / "django-helpdesk-oauth2" / "template.xml"


def free_registered_redirect(dh) -> str:
    """A registered 127.0.0.1 redirect URI whose port is free right now."""
    for uri in dh.redirect_uris:
        parts = urlsplit(uri)
        if parts.hostname != "127.0.0.1":
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", parts.port))
            except OSError:
                continue
        return uri
    pytest.fail(f"every registered redirect port is busy: {dh.redirect_uris}")


def connect(dh, tmp_path, *, short: bool = False, redirect: str | None = None) -> Integration:
    template = load_template(TEMPLATE)
    values = {f.name: f.value for f in template.custom_fields}
    values.update(base_url=dh.short_url if short else dh.url, client_id=dh.client_id,
                  client_secret=dh.client_secret, queue_id=str(dh.queue_id))
    settings = IntegrationSettings(http=HttpSettings(trust_env=False, read_timeout=20, deadline=40),
                                   redirect_uri=redirect or dh.redirect_uri)
    return Integration(template, values, settings, token_store=TokenStore(tmp_path / "tokens.json"))


async def login_via_loopback(hd: Integration, dh) -> None:
    opened = []

    async def browser(url: str) -> None:
        # the operator's browser: log in, approve, follow the redirect to deskline's callback
        opened.append(asyncio.get_running_loop().run_in_executor(
            None, lambda: authorize(url, dh.login_user, dh.login_password, follow=True)))

    login = asyncio.ensure_future(hd.auth.connect_via_loopback(browser, timeout=30))
    while not opened and not login.done():
        await asyncio.sleep(0.01)
    if not opened:
        await login  # failed before opening the browser (e.g. the port is taken): raises why
    await asyncio.wait([login, opened[0]], return_when=asyncio.FIRST_EXCEPTION)
    if opened[0].done() and opened[0].exception() is not None:
        login.cancel()
        raise opened[0].exception()  # the browser step failed: say why, not "no redirect arrived"
    await login


async def test_loopback_login_then_ticket_journal_and_caller_match(dh_server, tmp_path):
    redirect = free_registered_redirect(dh_server)
    async with connect(dh_server, tmp_path, redirect=redirect) as hd:
        assert hd.health().state == "missing"
        info = dict(hd.authentication_info())
        assert info["Redirect URI (callback URL)"] == redirect and info["PKCE"] == "S256"
        await login_via_loopback(hd, dh_server)
        assert hd.health().state == "connected"
        assert stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600

        number = "+1777" + "".join(secrets.choice("0123456789") for _ in range(7))
        email = f"caller-{number[1:]}@example.com"
        assert not (await hd.search_contacts(number, use_cache=False)).found
        call = hd.new_call(CallInfo(number, "1001", extension="1001", status="Answered",
                                    start_time=1_795_615_500, talk_seconds=192))
        call.variables["ContactId"] = email
        ticket = await hd.ticket_after_call(call, custom={"AssignTo": "2"})
        assert ticket.ok, ticket.error
        assert [o.request.name for o in ticket.outcomes] == ["CreateNewTicket", "AssignTicket"]
        journal = await hd.write_journal(call)
        assert journal.ok, journal.error
        found = await hd.search_contacts(number, use_cache=False)
        assert found.chosen is not None and found.chosen.id == email
        assert found.chosen.fields["BusinessNumber"] == number
        secrets_seen = " ".join(t.as_curl() + t.response_body for t in hd.traces)
        assert dh_server.client_secret not in secrets_seen
        assert hd.auth.tokens.access_token not in secrets_seen
        assert hd.auth.tokens.refresh_token not in secrets_seen


async def test_pasted_redirect_and_refresh_after_expiry(dh_server, tmp_path):
    """The short-lived instance: access tokens expire after a few seconds."""
    async with connect(dh_server, tmp_path, short=True) as hd:
        request = hd.auth.authorization_request()
        pasted = await asyncio.to_thread(authorize, request.url, dh_server.login_user, dh_server.login_password)
        await hd.auth.complete(pasted, request)
        first = hd.auth.tokens
        # 1. a request after the token expired on the server but not in deskline's books: 401 -> refresh -> retry
        first.expires_at = time.time() + 3600
        await asyncio.sleep(dh_server.short_ttl + 1)
        found = await hd.search_contacts("+15550000", use_cache=False)
        assert found.ok, found.errors
        assert hd.auth.tokens.access_token != first.access_token
        assert any("credentials refreshed" in n for t in found.traces for n in t.notes)
        # 2. the refreshed token is about to expire: it is refreshed before the request
        second = hd.auth.tokens
        assert hd.health().state in ("expiring", "expired")
        found = await hd.search_contacts("+15550001", use_cache=False)
        assert found.ok, found.errors
        assert hd.auth.tokens.access_token != second.access_token
        assert hd.health().last_refresh is not None and hd.health().error == ""
    # a restart keeps the rotated tokens
    async with connect(dh_server, tmp_path, short=True) as again:
        assert again.auth.tokens.refresh_token == hd.auth.tokens.refresh_token
