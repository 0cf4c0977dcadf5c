"""Against the real helpdesks, with every logger at DEBUG: no credential in logs, traces or curl lines.

RT5 with Basic (password and its Base64 header) and with a token; django-helpdesk with OAuth2 over the
loopback callback (client secret, authorization code, PKCE verifier, access and refresh tokens).
"""

from __future__ import annotations

import base64
import time
import pytest

import engine.auth.oauth2 as oauth2
from engine.flows import CallInfo
from engine.integration import Integration
from engine.template import load_template
from tests.conftest import REPO
from tests.integration.test_runtime_dh import connect as dh_connect
from tests.integration.test_runtime_dh import free_registered_redirect, login_via_loopback
from tests.integration.test_runtime_rt import SETTINGS, values_for
from tests.test_secrets_logs import debug_logs  # noqa: F401 - fixture

pytestmark = pytest.mark.realserver


def _shown(hd: Integration, logs) -> str:
    parts = list(logs.lines)
    for trace in hd.traces:
        parts += [trace.as_curl(), trace.summary(), trace.request_body, trace.response_body, trace.error,
                  repr(trace.request_headers), repr(trace.response_headers), *trace.notes]
    parts += [repr(hd.health()), hd.health().error]
    return "\n".join(parts)


@pytest.mark.parametrize("name", ["rt5-basic", "rt5-token"])
async def test_rt_session_leaks_no_credential(name, rt_server, debug_logs):  # noqa: F811
    template = load_template(REPO / "templates" / name / "template.xml")
    async with Integration(template, values_for(template, rt_server), SETTINGS) as hd:
        found = await hd.search_contacts("+15550101")
        assert found.ok, found.errors
        await hd.search("Alice")
        call = hd.new_call(CallInfo("+15550101", "1001", extension="1001", status="Answered",
                                    start_time=time.time() - 100, talk_seconds=90, ring_seconds=5))
        call.variables["ContactId"] = found.chosen.id
        journal = await hd.write_journal(call)
        assert journal.ok, journal.error
        text = _shown(hd, debug_logs)
    assert "HTTP Request" in text and "Authorization" in text
    basic = base64.b64encode(f"{rt_server.user}:{rt_server.password}".encode()).decode()
    secrets = [rt_server.password, rt_server.token, basic]
    assert sorted(s for s in secrets if s in text) == []


async def test_django_helpdesk_oauth2_session_leaks_no_credential(dh_server, tmp_path, debug_logs,  # noqa: F811
                                                                  monkeypatch):
    made: list[str] = []
    original = oauth2.generate_token
    monkeypatch.setattr(oauth2, "generate_token", lambda n=30, *a, **k: made.append(original(n, *a, **k)) or made[-1])
    codes: list[str] = []
    original_code = oauth2.code_from_params

    def remember_code(params, state):
        codes.append(params.get("code", ""))
        return original_code(params, state)

    monkeypatch.setattr(oauth2, "code_from_params", remember_code)
    redirect = free_registered_redirect(dh_server)
    async with dh_connect(dh_server, tmp_path, redirect=redirect) as hd:
        await login_via_loopback(hd, dh_server)
        tokens = hd.auth.tokens
        found = await hd.search_contacts("+15550101")
        assert found.ok, found.errors
        assert await hd.auth.refresh("test")           # a refresh grant, too
        text = _shown(hd, debug_logs)
        secrets = [dh_server.client_secret, tokens.access_token, tokens.refresh_token,
                   hd.auth.tokens.access_token, hd.auth.tokens.refresh_token, *codes,
                   *[m for m in made if len(m) >= 43]]
    assert "o/token" in text
    assert all(secrets) and len(secrets) >= 7
    assert sorted(s for s in secrets if s in text) == []
