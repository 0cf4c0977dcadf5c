"""A whole OAuth2 session (authorize over the loopback callback, search, refresh, 401, revoked) leaks nothing.

Every logger runs at DEBUG; the log, every trace, every curl line, the health errors and the token file's
permissions are checked for the client secret, each authorization code, each PKCE verifier and every
access and refresh token the helpdesk handed out.
"""

from __future__ import annotations

import os
import stat

import pytest

import engine.auth.oauth2 as oauth2
from tests.test_flows_oauth import clock, connect, demo, login  # noqa: F401 - fixtures
from tests.test_secrets_logs import debug_logs  # noqa: F401 - fixture


@pytest.fixture
def generated(monkeypatch):
    """Every random token deskline generates (state, PKCE verifier)."""
    made: list[str] = []
    original = oauth2.generate_token

    def record(length: int = 30, *args, **kwargs) -> str:
        value = original(length, *args, **kwargs)
        made.append(value)
        return value

    monkeypatch.setattr(oauth2, "generate_token", record)
    return made


async def test_oauth2_session_leaks_no_secret(demo, tmp_path, clock, debug_logs, generated):  # noqa: F811
    shown: list[str] = []
    async with connect(demo, tmp_path, clock) as hd:
        await login(hd)
        assert (await hd.search_contacts("+15550100", use_cache=False)).ok
        clock.now += 590                                   # refreshed before the next request
        assert (await hd.search_contacts("+15550100", use_cache=False)).ok
        demo.state.access_tokens[hd.auth.tokens.access_token]["revoked"] = True
        assert (await hd.search_contacts("+15550100", use_cache=False)).ok   # 401 -> refresh -> retry
        demo.state.access_tokens[hd.auth.tokens.access_token]["revoked"] = True
        for r in demo.state.refresh_tokens.values():
            r["revoked"] = True
        found = await hd.search_contacts("+15550100", use_cache=False)
        assert not found.ok
        shown += [str(e) + repr(e) for e in found.errors]
        shown += [hd.health().error, repr(hd.health()), repr(hd.auth.tokens), repr(hd.auth.config)]
        for trace in hd.traces:
            shown += [trace.as_curl(), trace.summary(), trace.request_body, trace.response_body, trace.error,
                      repr(trace.request_headers), repr(trace.response_headers), *trace.notes]
        token_file = hd.auth.store.path
    shown += debug_logs.lines
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    secrets = ["deskline-demo-secret", *demo.state.codes, *demo.state.access_tokens, *demo.state.refresh_tokens,
               *[g for g in generated if len(g) >= 43]]             # PKCE verifiers (43+ characters)
    assert len(demo.state.codes) >= 1 and len(demo.state.access_tokens) >= 3
    assert any(len(g) >= 43 for g in generated)
    assert any("oauth/token" in line for line in shown)              # the token requests were traced/logged
    text = "\n".join(shown)
    assert sorted(s for s in secrets if s in text) == []


async def test_callback_server_does_not_echo_the_code_and_forbids_caching(debug_logs):  # noqa: F811
    import httpx

    from engine.auth.callback import CallbackServer

    code = "auth-code-0123456789abcdef"
    async with CallbackServer(port=0) as server:
        async with httpx.AsyncClient(trust_env=False) as browser:
            answer = await browser.get(f"{server.redirect_uri}?code={code}&state=st-1")
            refused = await browser.get(f"{server.redirect_uri}?error=access_denied&error_description=x{code}")
        params = await server.wait(1)
    assert params["code"] == code                               # handed over to deskline ...
    for reply in (answer, refused):
        assert reply.status_code == 200
        assert code not in reply.text                           # ... and never shown back
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["referrer-policy"] == "no-referrer"
    assert f"code={code}" not in "\n".join(debug_logs.lines)     # the test's own httpx client logs the URL
