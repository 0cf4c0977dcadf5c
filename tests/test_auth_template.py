"""The authentication method a template declares, built from the operator's values."""

from __future__ import annotations

import base64

import httpx
import pytest

from engine.auth import AuthError, BasicAuth, BearerAuth, NoAuth, OAuth2Auth
from engine.http import HelpdeskHttp
from engine.integration import make_authenticator, secret_values
from engine.template import parse_template
from tests.conftest import REPO


def tpl(auth_type: str, params: str) -> object:
    xml = f"""<?xml version="1.0"?>
<Information Provider="helpdesk" Name="T" Key="t" Version="1" AuthType="{auth_type}">
  <Scenarios><Scenario Id="AuthMethod" Type="AUTH"><Parameters>{params}</Parameters></Scenario></Scenarios>
</Information>"""
    return parse_template(xml.encode(), "t.xml")


FIELD = '<Parameter Father="CustomFieldList" Name="{0}" Editor="{1}" Title="{0}" Key="{0}" />'


def test_none():
    assert isinstance(make_authenticator(tpl("none", ""), {}, HelpdeskHttp()), NoAuth)


async def test_basic_username_password_and_api_key():
    http = HelpdeskHttp()
    auth = make_authenticator(tpl("basic", '<Parameter Name="Base64EncodedCredential" Value="{{.username:.password}}" />'),
                              {"username": "alice", "password": "pa:ss word"}, http)
    assert isinstance(auth, BasicAuth)
    assert base64.b64decode(auth.credential) == b"alice:pa:ss word"
    assert http.secrets.redact(f"Basic {auth.credential}") == "Basic ***"
    auth = make_authenticator(tpl("basic", '<Parameter Name="CredentialType" Value="api_key" />'), {"api_key": "KEY123"},
                              HelpdeskHttp())
    assert base64.b64decode(auth.credential) == b"KEY123:"


def test_basic_without_a_format_is_a_located_error():
    with pytest.raises(AuthError, match="Base64EncodedCredential") as err:
        make_authenticator(tpl("basic", ""), {}, HelpdeskHttp())
    assert err.value.location.file == "t.xml" and err.value.location.line > 0


async def test_bearer_static_token_with_the_template_scheme():
    http = HelpdeskHttp()
    params = '<Parameter Name="TokenType" Value="token" />' + FIELD.format("api_token", "password")
    auth = make_authenticator(tpl("bearer", params), {"api_token": "1-14-abcdef"}, http)
    assert isinstance(auth, BearerAuth)
    request = httpx.Request("GET", "https://hd.test/")
    await auth.authorize(request)
    assert request.headers["Authorization"] == "token 1-14-abcdef"
    assert http.secrets.redact("1-14-abcdef") == "***"
    with pytest.raises(AuthError, match="needs a token"):
        make_authenticator(tpl("bearer", params), {}, HelpdeskHttp())


def test_oauth2_from_the_shipped_template_renders_endpoints_and_reads_client_fields():
    from engine.template import load_template

    template = load_template(REPO / "templates" / "django-helpdesk-oauth2" / "template.xml")
    values = {"base_url": "https://help.example.com", "client_id": "cid", "client_secret": "csecret-123"}
    http = HelpdeskHttp()
    auth = make_authenticator(template, values, http, redirect_uri="http://127.0.0.1:9999/callback")
    assert isinstance(auth, OAuth2Auth)
    c = auth.config
    assert c.authorization_endpoint == "https://help.example.com/o/authorize/"
    assert c.token_endpoint == "https://help.example.com/o/token/"
    assert c.client_id == "cid" and c.pkce and c.scopes == ["read", "write"] and c.refresh_tokens
    assert c.redirect_uri == "http://127.0.0.1:9999/callback"
    assert http.secrets.redact("csecret-123") == "***"
    assert "csecret-123" in secret_values(template, values)


def test_oauth2_without_endpoints_says_what_is_missing():
    with pytest.raises(AuthError, match="AuthEndPoint, TokenEndPoint, client id"):
        make_authenticator(tpl("oauth2", ""), {}, HelpdeskHttp())


def test_unknown_auth_type():
    with pytest.raises(AuthError, match="unknown authentication type 'kerberos'"):
        make_authenticator(tpl("kerberos", ""), {}, HelpdeskHttp())
