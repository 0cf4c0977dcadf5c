"""django-helpdesk + django-oauth-toolkit (scripts/dh-helpdesk.sh): the full OAuth2
authorization-code flow (with and without PKCE), refresh with rotation, token expiry, and the
requests of the shipped django-helpdesk template."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from tests.integration.oauth_browser import BrowserError, authorize, code_from
from tests.integration.shipped import gjson, load, render

pytestmark = pytest.mark.realserver

TEMPLATE = load("django-helpdesk-oauth2")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def template_vars(dh) -> dict:
    return {**TEMPLATE.custom_fields(), "base_url": dh.url, "client_id": dh.client_id,
            "client_secret": dh.client_secret, "queue_id": str(dh.queue_id), "redirect_uri": dh.redirect_uri}


def authorize_url(dh, *, short: bool = False, challenge: str | None = None, state: str = "st-1",
                  redirect_uri: str | None = None) -> str:
    """The URL deskline opens: the template's AuthEndPoint plus the standard OAuth2 parameters."""
    variables = template_vars(dh)
    if short:
        variables["base_url"] = dh.short_url
    params = {"response_type": "code", "client_id": dh.client_id,
              "redirect_uri": redirect_uri or dh.redirect_uri,
              "scope": TEMPLATE.param("AuthMethod", "Scope"), "state": state}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{render(TEMPLATE.param('AuthMethod', 'AuthEndPoint'), variables)}?{urlencode(params)}"


def token_request(dh, form: dict, *, short: bool = False, secret: str | None = None,
                  basic: bool = False) -> httpx.Response:
    """POST to the template's TokenEndPoint; client_secret_post, or client_secret_basic if ``basic``."""
    variables = template_vars(dh)
    if short:
        variables["base_url"] = dh.short_url
    url = render(TEMPLATE.param("AuthMethod", "TokenEndPoint"), variables)
    if basic:
        return httpx.post(url, data=form, auth=(dh.client_id, secret or dh.client_secret), timeout=20)
    form = {**form, "client_id": dh.client_id, "client_secret": secret or dh.client_secret}
    return httpx.post(url, data=form, timeout=20)


def code_flow(dh, *, pkce: bool = True, short: bool = False) -> dict:
    verifier, challenge = pkce_pair() if pkce else (None, None)
    redirect = authorize(authorize_url(dh, short=short, challenge=challenge), dh.login_user, dh.login_password)
    assert redirect.startswith(dh.redirect_uri + "?")
    code, state = code_from(redirect)
    assert state == "st-1"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": dh.redirect_uri}
    if verifier:
        form["code_verifier"] = verifier
    response = token_request(dh, form, short=short)
    assert response.status_code == 200, response.text
    return response.json()


def api_client(dh, access_token: str) -> httpx.Client:
    headers = TEMPLATE.headers(template_vars(dh))
    headers["Authorization"] = f"{TEMPLATE.param('AuthMethod', 'TokenType')} {access_token}"
    return httpx.Client(headers=headers, timeout=20)


@pytest.fixture(scope="module")
def tokens(dh_server) -> dict:
    return code_flow(dh_server)


def test_code_flow_with_pkce_gives_working_tokens(dh_server, tokens):
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "read write"
    assert 3000 < tokens["expires_in"] <= 3600
    with api_client(dh_server, tokens["access_token"]) as client:
        assert client.get(f"{dh_server.api}/tickets/", params={"page_size": 1}).status_code == 200


def test_code_flow_without_pkce(dh_server):
    got = code_flow(dh_server, pkce=False)
    with api_client(dh_server, got["access_token"]) as client:
        assert client.get(f"{dh_server.api}/tickets/").status_code == 200


def test_wrong_pkce_verifier_and_code_reuse_are_rejected(dh_server):
    _, challenge = pkce_pair()
    code, _ = code_from(authorize(authorize_url(dh_server, challenge=challenge),
                                  dh_server.login_user, dh_server.login_password))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": dh_server.redirect_uri}
    wrong = token_request(dh_server, {**form, "code_verifier": pkce_pair()[0]})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"

    verifier, challenge = pkce_pair()
    code, _ = code_from(authorize(authorize_url(dh_server, challenge=challenge),
                                  dh_server.login_user, dh_server.login_password))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": dh_server.redirect_uri,
            "code_verifier": verifier}
    assert token_request(dh_server, form).status_code == 200
    reused = token_request(dh_server, form)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("basic", [False, True])
def test_wrong_client_secret_is_rejected(dh_server, basic):
    response = token_request(dh_server, {"grant_type": "refresh_token", "refresh_token": "x"}, secret="nope",
                             basic=basic)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unregistered_redirect_uri_is_never_used(dh_server):
    evil = "http://127.0.0.1:9/steal"
    with pytest.raises(BrowserError) as caught:
        authorize(authorize_url(dh_server, redirect_uri=evil), dh_server.login_user, dh_server.login_password)
    assert "did not redirect" in str(caught.value)


def test_every_registered_redirect_uri_works(dh_server):
    for uri in dh_server.redirect_uris:
        redirect = authorize(authorize_url(dh_server, redirect_uri=uri), dh_server.login_user,
                             dh_server.login_password)
        assert redirect.startswith(uri + "?code=")


def test_refresh_rotates_both_tokens(dh_server):
    first = code_flow(dh_server)
    url_vars = template_vars(dh_server)
    assert render(TEMPLATE.param("AuthMethod", "RefreshTokenEndPoint"), url_vars) == f"{dh_server.url}/o/token/"
    response = token_request(dh_server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                             basic=True)
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    with api_client(dh_server, second["access_token"]) as client:
        assert client.get(f"{dh_server.api}/tickets/").status_code == 200
    with api_client(dh_server, first["access_token"]) as client:
        assert client.get(f"{dh_server.api}/tickets/").status_code == 401
    old = token_request(dh_server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert old.status_code == 400
    assert old.json()["error"] == "invalid_grant"


def test_expired_access_token_gets_401_and_refresh_recovers(dh_server):
    got = code_flow(dh_server, short=True)
    assert got["expires_in"] <= dh_server.short_ttl
    with api_client(dh_server, got["access_token"]) as client:
        assert client.get(f"{dh_server.api}/tickets/").status_code == 200
        time.sleep(dh_server.short_ttl + 1)
        expired = client.get(f"{dh_server.api}/tickets/")
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    # the text the template's TokenErrorMap looks for, so deskline refreshes and retries
    assert TEMPLATE.params("AuthMethod", "TokenErrorMap")["TokenInvalid"] in expired.text
    refreshed = token_request(dh_server, {"grant_type": "refresh_token", "refresh_token": got["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    with api_client(dh_server, refreshed.json()["access_token"]) as client:
        assert client.get(f"{dh_server.api}/tickets/").status_code == 200


def send(client: httpx.Client, sid: str, variables: dict, index: int = 0):
    spec = TEMPLATE.request(sid, index)
    variables = TEMPLATE.scenario_variables(sid, variables)
    url = render(spec.url_format, variables)
    if not url:
        return None, {}
    content = render(spec.body_format, variables).encode() if spec.body_format else None
    if content is not None:
        json.loads(content)
    response = client.request(spec.method, url, content=content)
    outputs = {}
    if response.headers.get("content-type", "").startswith("application/json"):
        outputs = {name: gjson(response.json(), render(path, variables)) for name, path in spec.outputs.items()}
    return response, outputs


def test_ticket_assignment_follow_up_and_caller_match(dh_server, tokens):
    number = "+1777" + "".join(secrets.choice("0123456789") for _ in range(7))
    email = f"caller-{number[1:]}@example.com"
    call = {**template_vars(dh_server), "Communication_Type": "Inbound", "Call_From": number, "Call_To": "1001",
            "CallerNumber": number, "Time": "2026-11-25 14:05:00", "ContactId": email, "AssignTo": "2"}
    with api_client(dh_server, tokens["access_token"]) as client:
        before, out = send(client, "SyncContactAuto", {**call, "Phone": number})
        assert before.status_code == 200 and out["ContactId"] is None and out["BusinessNumber"] is None

        created, out = send(client, "CreateNewTicket", call)
        assert created.status_code == 201, created.text
        ticket_id = out["TicketId"]
        assigned, _ = send(client, "CreateNewTicket", {**call, "TicketId": ticket_id}, index=1)
        assert assigned.status_code == 200, assigned.text

        ended = {**call, "TicketId": ticket_id, "Call_Status": "Answered", "StartTimeUnix": 1795615500,
                 "Talk_Duration": "0:03:12", "Talk_Duration_Sec": 192}
        logged, _ = send(client, "CallJournal", ended)
        assert logged.status_code == 201, logged.text

        ticket = client.get(f"{dh_server.api}/tickets/{ticket_id}/").json()
        assert ticket["title"] == f"Inbound call from {number} to 1001"   # a follow-up must not rename it
        assert ticket["submitter_email"] == email
        assert ticket["assigned_to"] == 2
        assert ticket["queue"] == dh_server.queue_id
        notes = [f for f in ticket["followup_set"] if not f["public"]]
        assert len(notes) == 1
        assert notes[0]["comment"].startswith("Call log: Inbound call, Answered. 2026-11-25 14:05:00 UTC")
        assert "talk time 0:03:12 (192 s)" in notes[0]["comment"]

        matched, out = send(client, "SyncContactAuto", {**call, "Phone": number})
        assert out["ContactId"] == email
        assert out["BusinessNumber"] == number


def test_assignment_skipped_without_agent_and_journal_without_ticket(dh_server, tokens):
    call = {**template_vars(dh_server), "Communication_Type": "Outbound", "Call_From": "1001",
            "Call_To": "+15550300", "ContactId": "", "TicketId": "5"}
    with api_client(dh_server, tokens["access_token"]) as client:
        assert send(client, "CreateNewTicket", call, index=1) == (None, {})
        assert send(client, "CallJournal", {**call, "TicketId": ""}) == (None, {})
        created, out = send(client, "CreateNewTicket", {k: v for k, v in call.items() if k != "TicketId"})
        assert created.status_code == 201, created.text
        assert client.get(f"{dh_server.api}/tickets/{out['TicketId']}/").json()["submitter_email"] in ("", None)


def test_drf_token_and_missing_credentials(dh_server):
    ok = httpx.get(f"{dh_server.api}/tickets/", headers={"Authorization": f"Token {dh_server.token}"})
    assert ok.status_code == 200
    missing = httpx.get(f"{dh_server.api}/tickets/")
    assert missing.status_code == 401
    assert urlsplit(dh_server.api).path == "/helpdesk/api"


def test_users_cannot_be_listed(dh_server):
    """Why the template has no user association."""
    response = httpx.get(f"{dh_server.api}/users/", headers={"Authorization": f"Token {dh_server.token}"})
    assert response.status_code == 405
