"""OAuth2 end to end against the demo helpdesk: authorize, exchange, refresh on expiry and on 401, try."""

from __future__ import annotations

import io
import re

import httpx
import pytest

from engine.auth import TokenStore
from engine.demo.helpdesk import DemoHelpdesk, DemoOptions
from engine.http import HttpSettings
from engine.integration import Integration, IntegrationSettings
from engine.template import parse_template
from tests.conftest import REPO

SOURCE = (REPO / "templates" / "demo" / "template.xml").read_text(encoding="utf-8")
OAUTH_PARAMS = """<Parameter Name="AuthMethod" Value="oauth2" />
        <Parameter Name="AuthEndPoint" Value="{{.base_url}}/oauth/authorize" />
        <Parameter Name="TokenEndPoint" Value="{{.base_url}}/oauth/token" />
        <Parameter Name="Scope" Value="read,write" />
        <Parameter Name="Pkce" Value="1" />
        <Parameter Father="TokenErrorMap" Type="TokenInvalid" Name="TokenInvalid" Value="invalid_token" />
        <Parameter Father="CustomFieldList" Name="client_id" Editor="string" Title="Client ID" Key="client_id" />
        <Parameter Father="CustomFieldList" Name="client_secret" Editor="password" Title="Client secret" Key="client_secret" />"""


def oauth_template_xml() -> str:
    xml = SOURCE.replace('AuthType="none"', 'AuthType="oauth2"')
    xml = xml.replace('<Parameter Name="AuthMethod" Value="none" />', OAUTH_PARAMS)
    xml = re.sub(r'\s*<Parameter Father="PopulateTemplateString" Name="Authorization"[^>]*/>', "", xml)
    assert "oauth2" in xml and "Token {{.api_token}}" not in xml
    return xml


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def demo(clock):
    hd = DemoHelpdesk(DemoOptions(token_ttl=600, clock=clock))
    hd.start()
    yield hd
    hd.stop()


def connect(demo, tmp_path, clock) -> Integration:
    template = parse_template(oauth_template_xml().encode(), "demo-oauth.xml")
    values = {"base_url": demo.base_url, "client_id": "deskline-demo", "client_secret": "deskline-demo-secret"}
    settings = IntegrationSettings(http=HttpSettings(trust_env=False), redirect_uri="http://127.0.0.1:0/callback")
    return Integration(template, values, settings, token_store=TokenStore(tmp_path / "t.json"), clock=clock)


async def login(hd: Integration) -> None:
    async with httpx.AsyncClient(trust_env=False) as browser:
        async def open_browser(url: str) -> None:
            answer = await browser.get(url)  # the demo approves at once and redirects
            assert answer.status_code == 302
            await browser.get(answer.headers["location"])  # ... to deskline's loopback callback

        await hd.auth.connect_via_loopback(open_browser, timeout=5)


async def test_authorize_then_search_with_the_bearer_token(demo, tmp_path, clock):
    async with connect(demo, tmp_path, clock) as hd:
        assert hd.health().state == "missing"
        found = await hd.search_contacts("+15550100")
        assert not found.ok and "not connected" in str(found.errors[0])
        await login(hd)
        found = await hd.search_contacts("+15550100", use_cache=False)
        assert found.ok and found.chosen.fields["FirstName"] == "Alice"
        assert demo.requests[-1].auth == "bearer"
        assert "deskline-demo-secret" not in " ".join(t.as_curl() + t.request_body for t in hd.traces)
        assert hd.auth.tokens.access_token not in " ".join(t.as_curl() + t.response_body for t in hd.traces)


async def test_refresh_before_expiry_and_once_after_a_401(demo, tmp_path, clock):
    async with connect(demo, tmp_path, clock) as hd:
        await login(hd)
        first = hd.auth.tokens
        clock.now += 590  # 10 s left: refreshed before the request
        assert hd.health().state == "expiring"
        assert (await hd.search_contacts("+15550100", use_cache=False)).ok
        second = hd.auth.tokens
        assert second.access_token != first.access_token and hd.health().state == "connected"
        # the helpdesk revokes the access token early: 401 -> one refresh -> the retry succeeds
        demo.state.access_tokens[second.access_token]["revoked"] = True
        found = await hd.search_contacts("+15550100", use_cache=False)
        assert found.ok, found.errors
        assert hd.auth.tokens.access_token != second.access_token
        assert [t.status for t in found.traces] == [401, 200]
        # refresh token revoked as well: the error says to authorize again
        demo.state.access_tokens[hd.auth.tokens.access_token]["revoked"] = True
        for r in demo.state.refresh_tokens.values():
            r["revoked"] = True
        found = await hd.search_contacts("+15550100", use_cache=False)
        assert not found.ok
        assert hd.health().state == "error" and "authorize deskline again" in hd.health().error


def test_try_authmethod_with_a_pasted_redirect(demo, tmp_path, monkeypatch, clock):
    """``deskline try AuthMethod``: shows the PBX information and takes a pasted redirect URL."""
    from tui.cli import main

    path = tmp_path / "demo-oauth.xml"
    path.write_text(oauth_template_xml(), encoding="utf-8")
    monkeypatch.setenv("DESKLINE_FIELD_BASE_URL", demo.base_url)
    monkeypatch.setenv("DESKLINE_FIELD_CLIENT_ID", "deskline-demo")
    monkeypatch.setenv("DESKLINE_FIELD_CLIENT_SECRET", "deskline-demo-secret")
    monkeypatch.setenv("DESKLINE_OAUTH_REDIRECT_URI", "http://127.0.0.1:1/callback")  # a port we cannot bind
    out = io.StringIO()

    class Operator:
        """Reads the printed authorization URL, 'approves' it and pastes the redirect."""

        def isatty(self):
            return False

        def readline(self):
            url = re.search(r"^  (http://\S+/oauth/authorize\S+)$", out.getvalue(), re.M).group(1)
            return httpx.get(url, follow_redirects=False, trust_env=False).headers["location"] + "\n"

    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stdin", Operator())
    assert main(["try", "AuthMethod", "--template", str(path)]) == 0
    text = out.getvalue()
    assert "Redirect URI (callback URL): http://127.0.0.1:1/callback" in text
    assert "PKCE: S256" in text and "connected; access token expires in" in text
    assert "deskline-demo-secret" not in text
    # the token is stored where the next `deskline try` finds it
    out.truncate(0)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["try", "SyncContactAuto", "--template", str(path), "--phone", "+15550100"]) == 0
    assert "Alice Anders" in out.getvalue() and "Authorization: Bearer ***" in out.getvalue()
