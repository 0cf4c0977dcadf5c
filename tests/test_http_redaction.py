"""Secrets never reach traces or "copy as curl"."""

from __future__ import annotations

import base64
import json
import logging
import shlex

import httpx

from engine.http import MASK, HelpdeskHttp, HttpSettings, Redactor, SecretRegistry, sensitive_name

PASSWORD = "s3cret-P@ss w0rd"
TOKEN = "oF4Otoken1234567890"
CLIENT_SECRET = "console-test-secret"
FIELD_SECRET = "field-value-9f8e7d"  # value of a password-type custom field


def registry() -> SecretRegistry:
    return SecretRegistry([PASSWORD, TOKEN, CLIENT_SECRET, FIELD_SECRET])


def assert_clean(text: str) -> None:
    for secret in (PASSWORD, TOKEN, CLIENT_SECRET, FIELD_SECRET):
        assert secret not in text
        assert httpx.QueryParams({"v": secret}).__str__()[2:] not in text
    assert base64.b64encode(f"agent:{PASSWORD}".encode()).decode() not in text


def test_sensitive_names():
    for name in ("Authorization", "password", "Password", "client_secret", "access_token", "refresh_token",
                 "api_key", "X-API-Key", "apiKey", "code_verifier", "code", "Cookie", "private_token"):
        assert sensitive_name(name), name
    for name in ("Content-Type", "Accept", "phone", "Subject", "ContactId", "email", "country_code"):
        assert not sensitive_name(name), name


async def test_every_secret_kind_is_redacted_in_trace_and_curl():
    basic = base64.b64encode(f"agent:{PASSWORD}".encode()).decode()

    def handler(request):
        return httpx.Response(200, json={"access_token": TOKEN, "refresh_token": "r-" + TOKEN,
                                         "echo": f"you sent {FIELD_SECRET}", "token_type": "Bearer"})

    logged = []
    http = HelpdeskHttp(HttpSettings(), secrets=registry(), transport=httpx.MockTransport(handler),
                        on_trace=logged.append)
    body = json.dumps({"username": "agent", "password": PASSWORD, "client_secret": CLIENT_SECRET,
                       "note": f"key {FIELD_SECRET} inline", "nested": [{"api_key": "plainkey99"}]})
    request = http.build_request(
        "POST", f"https://hd.test/api/{FIELD_SECRET}/x?access_token={TOKEN}&phone=%2B4930&apikey=abcd1234",
        headers={"Authorization": f"Basic {basic}", "X-Api-Key": "another-key-1", "Content-Type": "application/json"},
        content=body,
    )
    async with http:
        ex = await http.send(request, scenario="CallJournal", name="Journal")
    trace = ex.trace
    everything = " ".join([trace.url, trace.request_body, trace.response_body, trace.as_curl(),
                           repr(trace.request_headers), repr(trace.response_headers), repr(trace)])
    assert_clean(everything)
    assert "plainkey99" not in everything and "another-key-1" not in everything and "abcd1234" not in everything
    assert ("Authorization", f"Basic {MASK}") in trace.request_headers
    assert "phone=%2B4930" in trace.url  # non-secret parameters stay readable
    assert json.loads(trace.request_body)["username"] == "agent"
    assert json.loads(trace.response_body)["token_type"] == "Bearer"
    curl = shlex.split(trace.as_curl())
    assert curl[:3] == ["curl", "-X", "POST"] and curl[-1] == trace.url
    assert logged == [trace]


async def test_form_encoded_token_request_is_redacted():
    def handler(request):
        return httpx.Response(400, json={"error": "invalid_grant"})

    http = HelpdeskHttp(HttpSettings(), secrets=registry(), transport=httpx.MockTransport(handler))
    form = httpx.QueryParams({"grant_type": "authorization_code", "code": "abc123code", "client_id": "cli",
                              "client_secret": CLIENT_SECRET, "code_verifier": "verifier-xyz-123"})
    request = http.build_request("POST", "https://hd.test/o/token/", content=str(form),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    async with http:
        ex = await http.send(request)
    text = ex.trace.request_body + ex.trace.as_curl()
    assert_clean(text)
    assert "abc123code" not in text and "verifier-xyz-123" not in text
    assert "grant_type=authorization_code" in text and "client_id=cli" in text


async def test_secrets_in_transport_errors_are_redacted():
    def handler(request):
        raise httpx.ConnectError(f"cannot reach https://user:{PASSWORD}@hd.test?token={TOKEN}", request=request)

    from engine.http import RetryPolicy
    http = HelpdeskHttp(HttpSettings(retry=RetryPolicy(max_attempts=1)), secrets=registry(),
                        transport=httpx.MockTransport(handler))
    async with http:
        ex = await http.send(http.build_request("GET", "https://hd.test/"))
    assert ex.error and ex.trace.error
    assert_clean(ex.error + repr(ex.trace))


def test_userinfo_in_url_is_masked():
    r = Redactor(SecretRegistry())
    assert r.url("https://bob:pw@hd.test/x") == f"https://{MASK}@hd.test/x"


def test_registry_ignores_too_short_values_and_matches_longest_first():
    reg = SecretRegistry(["ab", "secret", "secret-longer"])
    assert reg.redact("ab secret-longer secret") == f"ab {MASK} {MASK}"
    assert reg.redact("") == ""
    assert "secret" in reg


def test_registry_catches_encoded_forms():
    reg = SecretRegistry(['p"w d+/x'])
    assert reg.redact("p%22w%20d%2B%2Fx") == MASK
    assert reg.redact("p%22w+d%2B%2Fx") == MASK
    assert reg.redact('p\\"w d+/x') == MASK


async def test_no_secret_reaches_the_log(caplog):
    """httpx logs each request URL at INFO; the trace sink is our only log and it is redacted."""
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("deskline.http")

    def handler(request):
        return httpx.Response(200, json={"ok": 1})

    http = HelpdeskHttp(HttpSettings(), secrets=registry(), transport=httpx.MockTransport(handler),
                        on_trace=lambda t: log.info("%s", t.summary()))
    async with http:
        await http.send(http.build_request("GET", f"https://hd.test/x?key={FIELD_SECRET}&token={TOKEN}",
                                           headers={"Authorization": f"Bearer {TOKEN}"}))
    assert_clean(caplog.text)
    assert "deskline.http" in caplog.text and "token=***" in caplog.text  # our own debug line, redacted


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SECRET_TEXT = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_characters="\x7f"),
                      min_size=4, max_size=24)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=SECRET_TEXT, where=st.sampled_from(["path", "query", "header", "json", "form", "response"]))
def test_a_registered_secret_never_survives_anywhere(secret, where):
    """Whatever the secret's characters and wherever it is put, the trace and the curl line hide it."""
    import asyncio
    from urllib.parse import quote

    registry = SecretRegistry([secret])

    def handler(request):
        if where == "response":
            return httpx.Response(200, json={"echo": secret, "note": f"x{secret}y"})
        return httpx.Response(200, text="ok")

    async def go():
        http = HelpdeskHttp(HttpSettings(), secrets=registry, transport=httpx.MockTransport(handler))
        url, headers, content = "https://hd.test/api", {}, None
        if where == "path":
            url += "/" + quote(secret, safe="")
        elif where == "query":
            url += "?q=" + quote(secret, safe="")
        elif where == "header":
            headers["X-Custom"] = secret.encode("utf-8")
        elif where == "json":
            content = json.dumps({"field": secret, "nested": {"v": [secret]}})
            headers["Content-Type"] = "application/json"
        elif where == "form":
            content = str(httpx.QueryParams({"v": secret}))
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with http:
            ex = await http.send(http.build_request("POST", url, headers=headers, content=content))
        return ex.trace

    trace = asyncio.run(go())
    text = " ".join([trace.url, trace.request_body, trace.response_body, trace.as_curl(),
                     repr(trace.request_headers)])
    assert secret not in text
    assert quote(secret, safe="") not in text
    assert json.dumps(secret)[1:-1] not in text
