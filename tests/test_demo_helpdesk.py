"""The built-in demo helpdesk behaves like a real HTTP API (driven with httpx over loopback)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from engine.demo import DemoHelpdesk, DemoOptions
from engine.demo.helpdesk import phone_matches

TOKEN = {"Authorization": "Token demo-api-token"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def hd(clock):
    with DemoHelpdesk(DemoOptions(clock=clock)) as server:
        yield server


@pytest.fixture
def api(hd):
    with httpx.Client(base_url=hd.api_url, headers=TOKEN, timeout=5) as client:
        yield client


# -- life cycle ---------------------------------------------------------------------------------
def test_start_picks_a_free_loopback_port_and_stop_frees_it():
    first, second = DemoHelpdesk(), DemoHelpdesk()
    a, b = first.start(), second.start()
    try:
        assert a.startswith("http://127.0.0.1:") and b.startswith("http://127.0.0.1:") and a != b
        assert httpx.get(a + "/api/v1/health").json() == {"status": "ok"}
    finally:
        first.stop()
        second.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(a + "/api/v1/health", timeout=2)
    with pytest.raises(RuntimeError):
        first.base_url


def test_stop_returns_promptly_with_an_open_keep_alive_connection():
    server = DemoHelpdesk()
    server.start()
    client = httpx.Client(base_url=server.api_url, headers=TOKEN)
    assert client.get("/agents").status_code == 200   # connection stays open (HTTP/1.1 keep-alive)
    done = threading.Event()
    threading.Thread(target=lambda: (server.stop(), done.set()), daemon=True).start()
    assert done.wait(3)
    client.close()


async def test_async_context_manager():
    async with DemoHelpdesk() as server:
        async with httpx.AsyncClient(headers=TOKEN) as client:
            replies = await asyncio.gather(*(client.get(f"{server.api_url}/contacts/c{i}") for i in range(1, 5)))
    assert [r.json()["id"] for r in replies] == ["c1", "c2", "c3", "c4"]


# -- auth ---------------------------------------------------------------------------------------
def test_api_needs_credentials(hd):
    plain = httpx.get(f"{hd.api_url}/agents")
    assert plain.status_code == 401
    assert plain.json()["error"] == "unauthorized"
    assert "Bearer" in plain.headers["www-authenticate"]
    assert httpx.get(f"{hd.api_url}/agents", headers={"Authorization": "Token nope"}).status_code == 401
    assert httpx.get(f"{hd.api_url}/agents", auth=("demo", "demo-password")).status_code == 200
    assert httpx.get(f"{hd.api_url}/agents", auth=("demo", "wrong")).status_code == 401
    assert httpx.get(f"{hd.api_url}/agents", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert httpx.get(f"{hd.api_url}/health").status_code == 200


def test_request_log_keeps_no_credentials(hd, api):
    api.get("/agents")
    httpx.get(f"{hd.api_url}/agents", auth=("demo", "demo-password"))
    record = hd.requests[-1]
    assert (record.method, record.path, record.status, record.auth) == ("GET", "/api/v1/agents", 200, "basic")
    assert "demo-password" not in repr(hd.requests) and "demo-api-token" not in repr(hd.requests)
    assert "demo-password" not in repr(hd.options) and "deskline-demo-secret" not in repr(hd.options)


# -- paging -------------------------------------------------------------------------------------
def test_agents_page_by_page_following_next_links(api):
    url, ids, pages = "/agents?per_page=2", [], 0
    while url:
        body = api.get(url).json()
        ids += [a["id"] for a in body["data"]]
        assert body["meta"]["per_page"] == 2 and body["meta"]["total"] == 5
        url, pages = body["links"]["next"], pages + 1
    assert ids == ["a1", "a2", "a3", "a4", "a5"] and pages == 3


def test_page_past_the_end_is_empty_and_bad_paging_is_400(api):
    body = api.get("/agents", params={"page": 9, "per_page": 2}).json()
    assert body["data"] == [] and body["links"]["next"] is None
    for params in ({"page": 0}, {"per_page": "x"}, {"per_page": 1000}):
        bad = api.get("/agents", params=params)
        assert bad.status_code == 400
        assert bad.json()["error"] == "invalid_parameter"


# -- contacts -----------------------------------------------------------------------------------
def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


def test_phone_search_exact_digits_and_suffix(api):
    assert ids(api.get("/contacts", params={"phone": "+15550101"})) == ["c1"]
    assert ids(api.get("/contacts", params={"phone": "+1 555 0101"})) == []            # not exact
    assert ids(api.get("/contacts", params={"phone": "+1 555 0101", "match": "digits"})) == ["c1"]
    assert ids(api.get("/contacts", params={"phone": "+15550300", "match": "digits"})) == ["c3"]
    # national format stored, E.164 dialled: only the trailing digits agree
    assert ids(api.get("/contacts", params={"phone": "+442079460018", "match": "digits"})) == []
    assert ids(api.get("/contacts", params={"phone": "+442079460018", "match": "suffix", "suffix": 9})) == ["c2"]
    assert ids(api.get("/contacts", params={"phone": "+19990000000", "match": "suffix"})) == []


def test_switchboard_number_finds_two_contacts(api):
    assert ids(api.get("/contacts", params={"phone": "+15557000"})) == ["c4", "c5"]


def test_phone_search_rejects_bad_input(api):
    assert api.get("/contacts", params={"phone": "+1555", "match": "fuzzy"}).status_code == 400
    assert api.get("/contacts", params={"phone": ""}).status_code == 400


def test_suffix_matching_never_matches_short_extensions():
    assert not phone_matches("1001", "+15551001", "suffix", 9)
    assert phone_matches("+15550100", "15550100", "suffix", 9)
    assert not phone_matches("+15550100", "+15550101", "suffix", 9)


def test_text_search_and_get_contact(api):
    assert ids(api.get("/contacts", params={"q": "globex"})) == ["c4", "c5"]
    assert api.get("/contacts/c6").json()["business_fax"] == "+49 30 1234568"
    missing = api.get("/contacts/c99")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_create_contact_validation_and_duplicates(hd, api):
    created = api.post("/contacts", json={"first_name": "Nina", "mobile_phone": "+15550900",
                                          "email": "nina@example.com"})
    assert created.status_code == 201
    assert created.headers["location"].endswith("/contacts/" + created.json()["id"])
    assert ids(api.get("/contacts", params={"phone": "+15550900"})) == [created.json()["id"]]
    duplicate = api.post("/contacts", json={"first_name": "Other", "email": "NINA@example.com"})
    assert duplicate.status_code == 409
    assert duplicate.json()["existing_id"] == created.json()["id"]
    for body in ({}, {"last_name": 5}, {"first_name": "X", "shoe_size": "9"}, ["not", "an", "object"],
                 {"first_name": "X", "email": "no-at-sign"}):
        bad = api.post("/contacts", json=body)
        assert bad.status_code == 400, body
        assert bad.json()["message"]
    assert len(hd.contacts) == 7


def test_malformed_and_non_json_bodies(api):
    broken = api.post("/contacts", content=b"{oops", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
    form = api.post("/contacts", content=b"first_name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert api.post("/contacts", content=b"", headers={"Content-Type": "application/json"}).status_code == 400


def test_update_contact(api):
    changed = api.patch("/contacts/c3", json={"company": "Chen Ltd"})
    assert changed.status_code == 200 and changed.json()["company"] == "Chen Ltd"
    assert api.patch("/contacts/c3", json={"email": "alice@acme.example"}).status_code == 409


# -- tickets and journal ------------------------------------------------------------------------
def test_ticket_create_get_update(hd, api):
    created = api.post("/tickets", json={"subject": "Call from +15550101", "contact_id": "c1", "assignee_id": "a2"})
    assert created.status_code == 201
    ticket = created.json()
    assert ticket["status"] == "new" and ticket["id"] > 1001
    updated = api.patch(f"/tickets/{ticket['id']}", json={"status": "open", "priority": "high"})
    assert updated.json()["status"] == "open" and updated.json()["priority"] == "high"
    assert api.get(f"/tickets/{ticket['id']}").json()["assignee_id"] == "a2"
    assert [t["id"] for t in hd.tickets if t["contact_id"] == "c1"] == [1001, ticket["id"]]
    assert ids(api.get("/tickets", params={"contact_id": "c1", "status": "open"})) == [1001, ticket["id"]]


def test_ticket_errors(api):
    assert api.post("/tickets", json={"subject": ""}).status_code == 400
    assert api.post("/tickets", json={"subject": "x", "contact_id": "c99"}).json()["field"] == "contact_id"
    assert api.patch("/tickets/1001", json={"status": "archived"}).status_code == 400
    assert api.get("/tickets/999").status_code == 404
    assert api.get("/tickets/abc").status_code == 404
    empty_ids = api.post("/tickets", json={"subject": "x", "contact_id": "", "assignee_id": ""})
    assert empty_ids.status_code == 201 and empty_ids.json()["contact_id"] is None


def test_call_journal_on_ticket_and_contact(hd, api):
    entry = api.post("/tickets/1001/journal", json={"subject": "Inbound call, Answered", "body": "3 min",
                                                    "duration_seconds": 192, "direction": "Inbound"})
    assert entry.status_code == 201
    assert entry.json()["ticket_id"] == 1001 and entry.json()["contact_id"] == "c1"
    assert api.post("/contacts/c2/journal", json={"body": "missed call"}).status_code == 201
    assert [e["body"] for e in hd.journal] == ["3 min", "missed call"]
    assert ids(api.get("/tickets/1001/journal")) == [entry.json()["id"]]
    assert api.post("/contacts/c2/journal", json={"body": "x", "duration_seconds": -1}).status_code == 400
    assert api.post("/contacts/c2/journal", json={"body": "x", "duration_seconds": True}).status_code == 400
    assert api.post("/contacts/c2/journal", json={}).status_code == 400
    assert api.post("/contacts/c99/journal", json={"body": "x"}).status_code == 404


def test_unknown_path_and_wrong_method(api):
    assert api.get("/nothing").status_code == 404
    wrong = api.delete("/contacts/c1")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, PATCH"


# -- behaviour options ------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after():
    with DemoHelpdesk(DemoOptions(rate_limit=3, rate_window=30)) as server, \
            httpx.Client(base_url=server.api_url, headers=TOKEN) as client:
        codes = [client.get("/agents").status_code for _ in range(4)]
        limited = client.get("/agents")
    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 30


def test_injected_faults(hd, api):
    hd.fail_next(2, status=502)
    assert [api.get("/agents").status_code for _ in range(3)] == [502, 502, 200]
    with DemoHelpdesk(DemoOptions(fail_rate=1.0, fail_status=500)) as broken:
        assert httpx.get(f"{broken.api_url}/agents", headers=TOKEN).status_code == 500


def test_latency_option():
    with DemoHelpdesk(DemoOptions(latency=0.2)) as server:
        response = httpx.get(f"{server.api_url}/health")
    assert response.elapsed.total_seconds() >= 0.2


# -- OAuth2 -------------------------------------------------------------------------------------
REDIRECT = "http://127.0.0.1:8765/callback"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize(hd, **params) -> dict[str, str]:
    query = {"response_type": "code", "client_id": "deskline-demo", "redirect_uri": REDIRECT, "state": "s1", **params}
    response = httpx.get(f"{hd.base_url}/oauth/authorize", params=query)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()} | {"_to": location.split("?")[0]}


def token(hd, **form) -> httpx.Response:
    return httpx.post(f"{hd.base_url}/oauth/token", data=form, auth=("deskline-demo", "deskline-demo-secret"))


def test_authorization_code_flow_with_pkce_and_refresh_rotation(hd, clock):
    verifier = "v" * 50
    got = authorize(hd, code_challenge=s256(verifier), code_challenge_method="S256")
    assert got["_to"] == REDIRECT and got["state"] == "s1"
    issued = token(hd, grant_type="authorization_code", code=got["code"], redirect_uri=REDIRECT, code_verifier=verifier)
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    first = issued.json()
    assert first["token_type"] == "Bearer" and first["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    assert httpx.get(f"{hd.api_url}/me", headers=bearer).json()["id"] == "a1"

    second = token(hd, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert httpx.get(f"{hd.api_url}/me", headers=bearer).status_code == 401   # old access token revoked
    reuse = token(hd, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"

    clock.now += 3601
    expired = httpx.get(f"{hd.api_url}/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    third = token(hd, grant_type="refresh_token", refresh_token=second["refresh_token"]).json()
    assert httpx.get(f"{hd.api_url}/me", headers={"Authorization": f"Bearer {third['access_token']}"}).status_code == 200


def test_pkce_is_checked_when_sent(hd):
    got = authorize(hd, code_challenge=s256("right" * 10), code_challenge_method="S256")
    wrong = token(hd, grant_type="authorization_code", code=got["code"], redirect_uri=REDIRECT, code_verifier="wrong" * 10)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    got = authorize(hd, code_challenge=s256("right" * 10))
    missing = token(hd, grant_type="authorization_code", code=got["code"], redirect_uri=REDIRECT)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert authorize(hd, code_challenge="abc", code_challenge_method="plain")["error"] == "invalid_request"


def test_pkce_required_option():
    with DemoHelpdesk(DemoOptions(pkce_required=True)) as server:
        assert authorize(server)["error"] == "invalid_request"


def test_code_without_pkce_single_use_and_bound_to_redirect(hd):
    got = authorize(hd)
    bad_redirect = token(hd, grant_type="authorization_code", code=got["code"], redirect_uri="http://127.0.0.1:1/x")
    assert bad_redirect.json()["error"] == "invalid_grant"
    first = token(hd, grant_type="authorization_code", code=got["code"], redirect_uri=REDIRECT)
    assert first.status_code == 200
    again = token(hd, grant_type="authorization_code", code=got["code"], redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # replaying a code revokes what it gave (RFC 6749 4.1.2)
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert httpx.get(f"{hd.api_url}/me", headers=bearer).status_code == 401


def test_code_expires(hd, clock):
    got = authorize(hd)
    clock.now += 61
    late = token(hd, grant_type="authorization_code", code=got["code"], redirect_uri=REDIRECT)
    assert late.json()["error"] == "invalid_grant"


def test_authorize_errors(hd):
    unknown = httpx.get(f"{hd.base_url}/oauth/authorize", params={"client_id": "x", "response_type": "code"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client"
    evil = httpx.get(f"{hd.base_url}/oauth/authorize",
                     params={"client_id": "deskline-demo", "response_type": "code", "redirect_uri": "http://evil.test/cb"})
    assert evil.status_code == 400 and "location" not in evil.headers
    assert authorize(hd, response_type="token")["error"] == "unsupported_response_type"
    assert authorize(hd, scope="admin")["error"] == "invalid_scope"
    other_port = authorize(hd, redirect_uri="http://127.0.0.1:9999/callback")   # RFC 8252 loopback
    assert other_port["_to"] == "http://127.0.0.1:9999/callback" and "code" in other_port


def test_token_endpoint_errors(hd):
    wrong_secret = httpx.post(f"{hd.base_url}/oauth/token", data={"grant_type": "refresh_token"},
                              auth=("deskline-demo", "nope"))
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    post_auth = httpx.post(f"{hd.base_url}/oauth/token", data={
        "grant_type": "password", "client_id": "deskline-demo", "client_secret": "deskline-demo-secret"})
    assert post_auth.status_code == 400 and post_auth.json()["error"] == "unsupported_grant_type"
    assert token(hd).json()["error"] == "invalid_request"
    as_json = httpx.post(f"{hd.base_url}/oauth/token", json={"grant_type": "x"})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    assert httpx.get(f"{hd.base_url}/oauth/token").status_code == 405


def test_revoke(hd):
    access = hd.issue_token()
    bearer = {"Authorization": f"Bearer {access}"}
    assert httpx.get(f"{hd.api_url}/me", headers=bearer).status_code == 200
    revoked = httpx.post(f"{hd.base_url}/oauth/revoke", data={"token": access},
                         auth=("deskline-demo", "deskline-demo-secret"))
    assert revoked.status_code == 200
    assert httpx.get(f"{hd.api_url}/me", headers=bearer).status_code == 401


def test_short_token_ttl(clock):
    with DemoHelpdesk(DemoOptions(token_ttl=2, clock=clock)) as server:
        access = server.issue_token()
        bearer = {"Authorization": f"Bearer {access}"}
        assert httpx.get(f"{server.api_url}/me", headers=bearer).status_code == 200
        clock.now += 2
        assert httpx.get(f"{server.api_url}/me", headers=bearer).status_code == 401


def test_runs_as_a_standalone_process():
    import subprocess
    import sys

    from tests.conftest import REPO

    proc = subprocess.Popen([sys.executable, "-m", "engine.demo", "--latency", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert "demo-password" not in proc.stdout.readline()
        assert httpx.get(f"{url}/api/v1/agents", headers=TOKEN).json()["meta"]["total"] == 5
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
