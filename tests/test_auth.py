"""Authentication: none, Basic, Bearer and the OAuth2 authorization code flow."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import stat
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from engine.auth import (
    AuthError,
    BasicAuth,
    BearerAuth,
    CallbackServer,
    NoAuth,
    OAuth2Auth,
    OAuth2Config,
    TokenSet,
    TokenStore,
    build_authorization_request,
    parse_redirect,
    pbx_authentication_info,
    split_scopes,
)
from engine.http import HelpdeskHttp, HttpSettings

CLIENT_SECRET = "console-test-secret"


class FakeProvider:
    """A django-oauth-toolkit-like token endpoint: codes, PKCE, rotation, invalid_grant."""

    def __init__(self, ttl=3600):
        self.ttl = ttl
        self.codes = {}  # code -> (redirect_uri, challenge)
        self.refresh_tokens = set()
        self.access_tokens = set()
        self.token_calls = []
        self.n = 0

    def issue_code(self, redirect_uri, challenge=None):
        self.n += 1
        code = f"code{self.n}"
        self.codes[code] = (redirect_uri, challenge)
        return code

    def _tokens(self):
        self.n += 1
        access, refresh = f"access-{self.n:04d}", f"refresh-{self.n:04d}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return httpx.Response(200, json={"access_token": access, "expires_in": self.ttl, "token_type": "Bearer",
                                         "scope": "read write", "refresh_token": refresh})

    def handler(self, request: httpx.Request):
        if request.url.path == "/o/token/":
            form = dict(parse_qsl(request.content.decode()))
            self.token_calls.append(form)
            if form.get("client_id") != "console-test-client" or form.get("client_secret") != CLIENT_SECRET:
                auth = request.headers.get("authorization", "")
                if auth != "Basic " + base64.b64encode(f"console-test-client:{CLIENT_SECRET}".encode()).decode():
                    return httpx.Response(401, json={"error": "invalid_client"})
            if form["grant_type"] == "authorization_code":
                entry = self.codes.pop(form.get("code"), None)
                if entry is None or entry[0] != form.get("redirect_uri"):
                    return httpx.Response(400, json={"error": "invalid_grant"})
                if entry[1] is not None:
                    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                    if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != entry[1]:
                        return httpx.Response(400, json={"error": "invalid_grant"})
                return self._tokens()
            if form["grant_type"] == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                self.refresh_tokens.discard(form["refresh_token"])  # rotation
                self.access_tokens.clear()
                return self._tokens()
        if request.url.path == "/api/tickets/":
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token in self.access_tokens:
                return httpx.Response(200, json={"count": 0})
            return httpx.Response(401, json={"detail": "Authentication credentials were not provided."})
        return httpx.Response(404)


def config(**kw):
    base = dict(authorization_endpoint="https://hd.test/o/authorize/", token_endpoint="https://hd.test/o/token/",
                client_id="console-test-client", client_secret=CLIENT_SECRET, scope="read,write")
    base.update(kw)
    return OAuth2Config(**base)


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def oauth(provider, tmp_path, clock=None, **kw):
    http = HelpdeskHttp(HttpSettings(), transport=httpx.MockTransport(provider.handler))
    store = TokenStore(tmp_path / "tokens" / "hd.json")
    return OAuth2Auth(config(**kw), http, store, clock=clock or Clock()), store


# --- none, basic, bearer -------------------------------------------------------


async def test_none_adds_nothing():
    request = httpx.Request("GET", "https://hd.test/")
    await NoAuth().authorize(request)
    assert "authorization" not in request.headers
    assert await NoAuth().refresh("401") is False


async def test_basic_sends_the_credential_on_every_request():
    cred = base64.b64encode(b"root:rootpass123").decode()
    auth = BasicAuth(cred)
    for _ in range(2):
        request = httpx.Request("GET", "https://hd.test/")
        await auth.authorize(request)
        assert request.headers["Authorization"] == f"Basic {cred}"
    assert await auth.refresh("401") is False
    assert auth.health().state == "static"


async def test_bearer_and_api_token_schemes():
    request = httpx.Request("GET", "https://hd.test/")
    await BearerAuth("1-14-abc").authorize(request)
    assert request.headers["Authorization"] == "Bearer 1-14-abc"
    await BearerAuth("1-14-abc", scheme="token").authorize(request)
    assert request.headers["Authorization"] == "token 1-14-abc"
    assert BearerAuth("").health().state == "missing"


# --- authorization URL, redirect parsing ------------------------------------------------


def test_scope_is_a_comma_list():
    assert split_scopes("read,write") == ["read", "write"]
    assert split_scopes(" read, write  admin ") == ["read", "write", "admin"]
    assert split_scopes("") == []


def test_authorization_url_has_standard_params_state_pkce_and_extra_query():
    req = build_authorization_request(config(pkce=True, additional_query="prompt=consent&access_type=offline"))
    parts = urlsplit(req.url)
    q = parse_qs(parts.query)
    assert parts.path == "/o/authorize/"
    assert q["response_type"] == ["code"] and q["client_id"] == ["console-test-client"]
    assert q["redirect_uri"] == ["http://127.0.0.1:8765/callback"]
    assert q["scope"] == ["read write"]
    assert q["state"] == [req.state] and len(req.state) >= 20
    assert q["code_challenge_method"] == ["S256"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(req.code_verifier.encode()).digest()).rstrip(b"=").decode()
    assert q["code_challenge"] == [expected]
    assert q["prompt"] == ["consent"] and q["access_type"] == ["offline"]
    assert CLIENT_SECRET not in req.url


def test_authorization_url_without_pkce_and_with_params_already_in_the_endpoint():
    req = build_authorization_request(config(authorization_endpoint="https://hd.test/auth?client_id=own&x=1"),
                                      state="fixed")
    q = parse_qs(urlsplit(req.url).query)
    assert q["client_id"] == ["own"] and q["x"] == ["1"] and q["state"] == ["fixed"]
    assert "code_challenge" not in q and req.code_verifier == ""


def test_states_differ_between_requests():
    assert build_authorization_request(config()).state != build_authorization_request(config()).state


def test_parse_pasted_redirect():
    assert parse_redirect("http://127.0.0.1:8765/callback?code=abc&state=s1", "s1") == "abc"
    assert parse_redirect("  ?code=abc&state=s1 ", "s1") == "abc"
    assert parse_redirect("code=abc&state=s1", "s1") == "abc"
    with pytest.raises(AuthError, match="state"):
        parse_redirect("http://127.0.0.1:8765/callback?code=abc&state=other", "s1")
    with pytest.raises(AuthError, match="access_denied \\(user said no\\)"):
        parse_redirect("http://x/callback?error=access_denied&error_description=user+said+no&state=s1", "s1")
    with pytest.raises(AuthError, match="no code"):
        parse_redirect("http://x/callback?state=s1", "s1")
    with pytest.raises(AuthError, match="paste"):
        parse_redirect("", "s1")


def test_pbx_authentication_info_names_the_redirect_uri():
    info = dict(pbx_authentication_info(config(pkce=True)))
    assert info["Redirect URI (callback URL)"] == "http://127.0.0.1:8765/callback"
    assert info["PKCE"] == "S256" and info["Scopes"] == "read write"
    assert CLIENT_SECRET not in repr(info)


# --- callback server ------------------------------------------------------------


async def test_callback_server_receives_the_code_on_loopback():
    async with CallbackServer(port=0) as server:
        assert server.redirect_uri.startswith("http://127.0.0.1:") and server.redirect_uri.endswith("/callback")
        async with httpx.AsyncClient(trust_env=False) as client:
            miss = await client.get(server.redirect_uri.replace("/callback", "/favicon.ico"))
            hit = await client.get(server.redirect_uri, params={"code": "c1", "state": "s"})
        params = await server.wait(1)
    assert miss.status_code == 404 and hit.status_code == 200 and "close this window" in hit.text
    assert params == {"code": "c1", "state": "s"}


async def test_callback_server_times_out_with_advice():
    async with CallbackServer(port=0) as server:
        with pytest.raises(AuthError, match="paste the redirect URL"):
            await server.wait(0.05)


async def test_callback_server_refuses_non_loopback_and_busy_ports():
    with pytest.raises(AuthError, match="loopback"):
        CallbackServer(host="0.0.0.0")
    async with CallbackServer(port=0) as first:
        with pytest.raises(AuthError, match="cannot listen"):
            async with CallbackServer(port=first.port):
                pass


# --- token store -----------------------------------------------------------------


def test_token_store_is_owner_only_and_round_trips(tmp_path):
    store = TokenStore(tmp_path / "sub" / "t.json")
    assert store.load() is None
    tokens = TokenSet("a" * 10, refresh_token="r" * 10, expires_at=123.0, obtained_at=100.0)
    os.umask(0o022)
    store.save(tokens)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert store.load() == tokens
    store.path.write_text("not json")
    assert store.load() is None
    store.clear()
    assert not store.path.exists()


# --- the flow -----------------------------------------------------------------------


async def test_full_flow_via_pasted_redirect_with_pkce(tmp_path):
    provider = FakeProvider()
    auth, store = oauth(provider, tmp_path, pkce=True)
    assert auth.health().state == "missing"
    req = auth.authorization_request()
    q = parse_qs(urlsplit(req.url).query)
    code = provider.issue_code(q["redirect_uri"][0], q["code_challenge"][0])
    tokens = await auth.complete(f"{req.redirect_uri}?code={code}&state={req.state}", req)
    assert tokens.access_token.startswith("access-") and store.load() == tokens
    assert provider.token_calls[0]["code_verifier"] == req.code_verifier
    request = httpx.Request("GET", "https://hd.test/api/tickets/")
    await auth.authorize(request)
    assert request.headers["Authorization"] == f"Bearer {tokens.access_token}"
    health = auth.health()
    assert health.state == "connected" and health.expires_in == pytest.approx(3600)
    # tokens are secrets now
    assert auth.http.secrets.redact(tokens.access_token) == "***"
    assert auth.http.secrets.redact(tokens.refresh_token) == "***"


async def test_loopback_flow_end_to_end(tmp_path):
    provider = FakeProvider()
    auth, _ = oauth(provider, tmp_path)
    client = httpx.AsyncClient(trust_env=False)
    followed = []

    async def browser(url):
        # the helpdesk's consent page redirects to redirect_uri with a code and the state
        q = parse_qs(urlsplit(url).query)
        code = provider.issue_code(q["redirect_uri"][0])
        followed.append(await client.get(q["redirect_uri"][0], params={"code": code, "state": q["state"][0]}))

    tokens = await auth.connect_via_loopback(browser, timeout=5, port=0)
    await client.aclose()
    assert tokens.access_token in provider.access_tokens
    assert followed[0].status_code == 200


async def test_code_exchange_errors_are_reported_without_secrets(tmp_path):
    provider = FakeProvider()
    auth, _ = oauth(provider, tmp_path)
    req = auth.authorization_request()
    with pytest.raises(AuthError, match="invalid_grant; authorize deskline again") as err:
        await auth.exchange_code("nonsense", req)
    assert CLIENT_SECRET not in str(err.value)
    assert auth.health().state == "missing" and "invalid_grant" in auth.health().error


async def test_wrong_client_secret_is_invalid_client(tmp_path):
    provider = FakeProvider()
    auth, _ = oauth(provider, tmp_path, client_secret="wrong-secret")
    code = provider.issue_code("http://127.0.0.1:8765/callback")
    with pytest.raises(AuthError, match="401 invalid_client"):
        await auth.exchange_code(code, auth.authorization_request())


async def test_client_secret_basic(tmp_path):
    provider = FakeProvider()
    auth, _ = oauth(provider, tmp_path, client_auth="client_secret_basic")
    code = provider.issue_code("http://127.0.0.1:8765/callback")
    await auth.exchange_code(code, auth.authorization_request())
    assert "client_secret" not in provider.token_calls[0]


async def connected(provider, tmp_path, clock, **kw):
    auth, store = oauth(provider, tmp_path, clock=clock, **kw)
    code = provider.issue_code("http://127.0.0.1:8765/callback")
    await auth.exchange_code(code, auth.authorization_request())
    return auth, store


async def test_refresh_before_expiry(tmp_path):
    provider = FakeProvider(ttl=300)
    clock = Clock()
    auth, store = await connected(provider, tmp_path, clock)
    first = auth.tokens
    clock.now += 250  # 50 s left < 60 s margin
    assert auth.health().state == "expiring"
    request = httpx.Request("GET", "https://hd.test/api/tickets/")
    await auth.authorize(request)
    assert auth.tokens.access_token != first.access_token
    assert request.headers["Authorization"] == f"Bearer {auth.tokens.access_token}"
    assert auth.tokens.refreshed_at == clock.now and auth.health().last_refresh == clock.now
    assert store.load() == auth.tokens  # rotated refresh token persisted
    assert provider.token_calls[-1]["grant_type"] == "refresh_token"


async def test_no_refresh_when_template_says_so(tmp_path):
    provider = FakeProvider(ttl=300)
    clock = Clock()
    auth, _ = await connected(provider, tmp_path, clock, refresh_tokens=False)
    clock.now += 400
    assert auth.health().state == "expired"
    assert await auth.refresh("401") is False


async def test_concurrent_401s_refresh_once(tmp_path):
    provider = FakeProvider()
    clock = Clock()
    auth, _ = await connected(provider, tmp_path, clock)
    requests = []
    for _ in range(5):
        r = httpx.Request("GET", "https://hd.test/api/tickets/")
        await auth.authorize(r)
        requests.append(r)
    provider.access_tokens.clear()  # server forgot them: every request gets 401
    results = await asyncio.gather(*(auth.refresh("401", r) for r in requests))
    assert results == [True] * 5
    assert sum(1 for c in provider.token_calls if c["grant_type"] == "refresh_token") == 1


async def test_failed_refresh_reports_health_error(tmp_path):
    provider = FakeProvider()
    clock = Clock()
    auth, _ = await connected(provider, tmp_path, clock)
    provider.refresh_tokens.clear()  # revoked
    assert await auth.refresh("401") is False
    health = auth.health()
    assert health.state == "error" and "invalid_grant" in health.error
    assert "authorize deskline again" in health.describe()


async def test_tokens_survive_a_restart(tmp_path):
    provider = FakeProvider()
    clock = Clock()
    auth, store = await connected(provider, tmp_path, clock)
    again = OAuth2Auth(config(), HelpdeskHttp(transport=httpx.MockTransport(provider.handler)), store, clock=clock)
    assert again.tokens == auth.tokens and again.health().state == "connected"
    assert again.http.secrets.redact(auth.tokens.refresh_token) == "***"


async def test_authorize_without_tokens_says_what_to_do(tmp_path):
    auth, _ = oauth(FakeProvider(), tmp_path)
    with pytest.raises(AuthError, match="not connected"):
        await auth.authorize(httpx.Request("GET", "https://hd.test/"))


async def test_a_failed_early_refresh_keeps_using_the_still_valid_token(tmp_path):
    provider = FakeProvider(ttl=300)
    clock = Clock()
    auth, _ = await connected(provider, tmp_path, clock)
    token = auth.tokens.access_token
    provider.refresh_tokens.clear()  # the refresh will fail
    clock.now += 270  # 30 s left
    request = httpx.Request("GET", "https://hd.test/api/tickets/")
    await auth.authorize(request)
    assert request.headers["Authorization"] == f"Bearer {token}"
    assert auth.health().state == "error" and "invalid_grant" in auth.health().error
    calls = len(provider.token_calls)
    for _ in range(3):  # no token-endpoint storm while the token is still good
        await auth.authorize(httpx.Request("GET", "https://hd.test/api/tickets/"))
    assert len(provider.token_calls) == calls
    clock.now += 60  # now expired: the failure is reported
    with pytest.raises(AuthError, match="invalid_grant"):
        await auth.authorize(httpx.Request("GET", "https://hd.test/api/tickets/"))
