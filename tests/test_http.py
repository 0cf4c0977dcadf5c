"""HTTP runtime: concurrency limit, timeouts, retries, traces."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import pytest

from engine.http import USER_AGENT, HelpdeskHttp, HttpSettings, RetryPolicy, idempotent, parse_retry_after


class Sleeps:
    """A fake ``sleep`` that records the delays asked for."""

    def __init__(self):
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def http_with(handler, *, sleep=None, **settings) -> HelpdeskHttp:
    return HelpdeskHttp(HttpSettings(**settings), transport=httpx.MockTransport(handler),
                        sleep=sleep or Sleeps(), rng=random.Random(7))


async def test_at_most_max_concurrent_requests_are_in_flight():
    active = 0
    peak = 0

    async def handler(request):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return httpx.Response(200, json={"ok": True})

    async with http_with(handler, max_concurrent=3) as http:
        results = await asyncio.gather(*(http.send(http.build_request("GET", f"https://hd.test/{i}"))
                                         for i in range(20)))
    assert all(r.ok for r in results)
    assert peak == 3  # the limit is reached and never exceeded
    assert http.peak_in_flight == 3


async def test_limit_of_one_serialises_requests():
    active = 0
    overlaps = 0

    async def handler(request):
        nonlocal active, overlaps
        active += 1
        overlaps += active > 1
        await asyncio.sleep(0.005)
        active -= 1
        return httpx.Response(204)

    async with http_with(handler, max_concurrent=1) as http:
        await asyncio.gather(*(http.send(http.build_request("GET", "https://hd.test/")) for _ in range(6)))
    assert overlaps == 0


async def test_user_agent_and_tls_verification_defaults():
    seen = {}

    def handler(request):
        seen["ua"] = request.headers["user-agent"]
        return httpx.Response(200)

    async with http_with(handler) as http:
        await http.send(http.build_request("GET", "https://hd.test/"))
        assert seen["ua"] == USER_AGENT
        assert USER_AGENT.startswith("deskline/")
    assert HttpSettings().verify is True
    assert HttpSettings().trust_env is True


def test_default_timeouts_fit_a_ring():
    s = HttpSettings()
    assert s.connect_timeout <= 3 and s.read_timeout <= 10 and s.deadline <= 20
    t = s.timeout()
    assert t.connect == s.connect_timeout and t.read == s.read_timeout


async def test_retry_after_is_honoured_on_429_even_for_post():
    calls = []

    def handler(request):
        calls.append(request.method)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "2"})
        return httpx.Response(201, json={"id": 5})

    sleeps = Sleeps()
    async with http_with(handler, sleep=sleeps) as http:
        ex = await http.send(http.build_request("POST", "https://hd.test/ticket", content=b"{}"))
    assert ex.ok and ex.status == 201
    assert calls == ["POST", "POST"]
    assert sleeps.delays == [2.0]
    assert [a.status for a in ex.trace.attempts] == [429, 201]
    assert "Retry-After" in ex.trace.attempts[0].retry_reason


async def test_too_long_retry_after_gives_up_instead_of_waiting_past_the_ring():
    def handler(request):
        return httpx.Response(429, headers={"Retry-After": "120"})

    sleeps = Sleeps()
    async with http_with(handler, sleep=sleeps) as http:
        ex = await http.send(http.build_request("GET", "https://hd.test/"))
    assert ex.status == 429 and not ex.ok
    assert sleeps.delays == []


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_are_retried_with_exponential_backoff_for_get(status):
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        return httpx.Response(status if calls < 3 else 200)

    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=5, jitter=0.5)
    async with http_with(handler, sleep=sleeps, retry=policy) as http:
        ex = await http.send(http.build_request("GET", "https://hd.test/users"))
    assert ex.ok and calls == 3
    first, second = sleeps.delays
    assert 0.1 <= first <= 0.2 and 0.2 <= second <= 0.4  # doubled, minus up to 50 % jitter


def test_backoff_grows_is_capped_and_jittered():
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0, jitter=0.5)
    rng = random.Random(1)
    delays = [policy.backoff(n, rng) for n in range(1, 10)]
    assert all(d <= 1.0 for d in delays)
    assert delays[-1] >= 0.5  # capped at max_delay minus at most half
    no_jitter = RetryPolicy(base_delay=0.1, max_delay=1.0, jitter=0)
    assert [no_jitter.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert len({round(policy.backoff(2, rng), 6) for _ in range(20)}) > 1  # jitter varies


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_post_with_unknown_outcome_is_not_retried(status):
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        return httpx.Response(status)

    async with http_with(handler) as http:
        ex = await http.send(http.build_request("POST", "https://hd.test/journal", content=b"{}"))
    assert calls == 1 and ex.status == status
    assert "not repeated" in ex.trace.attempts[0].retry_reason


async def test_post_read_timeout_is_not_retried_but_retry_safe_post_is():
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(201)

    async with http_with(handler) as http:
        ex = await http.send(http.build_request("POST", "https://hd.test/journal", content=b"{}"))
    assert calls == 1 and not ex.ok and ex.error.startswith("read timeout")

    calls = 0
    async with http_with(handler) as http:
        ex = await http.send(http.build_request("POST", "https://hd.test/journal", content=b"{}"), retry_safe=True)
    assert calls == 2 and ex.ok


async def test_connection_errors_are_retried_for_any_method():
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        if calls < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(201)

    async with http_with(handler) as http:
        ex = await http.send(http.build_request("POST", "https://hd.test/contact", content=b"{}"))
    assert ex.ok and calls == 3
    assert [a.error.split(":")[0] for a in ex.trace.attempts[:2]] == ["cannot connect", "cannot connect"]


async def test_gives_up_after_max_attempts_with_the_last_response():
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        return httpx.Response(503, text="busy")

    async with http_with(handler, retry=RetryPolicy(max_attempts=4)) as http:
        ex = await http.send(http.build_request("GET", "https://hd.test/"))
    assert calls == 4 and ex.status == 503 and ex.trace.response_body == "busy"


async def test_no_retry_for_client_errors():
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        return httpx.Response(404, json={"message": "Not Found"})

    async with http_with(handler) as http:
        ex = await http.send(http.build_request("GET", "https://hd.test/user/x"))
    assert calls == 1 and ex.status == 404 and not ex.ok


async def test_deadline_stops_retrying():
    def handler(request):
        return httpx.Response(503)

    async def real_sleep(delay):
        await asyncio.sleep(delay)

    policy = RetryPolicy(max_attempts=10, base_delay=0.05, max_delay=0.05, jitter=0)
    async with http_with(handler, sleep=real_sleep, retry=policy, deadline=0.12) as http:
        ex = await http.send(http.build_request("GET", "https://hd.test/"))
    assert ex.status == 503
    assert len(ex.trace.attempts) <= 3
    assert "deadline" in ex.trace.attempts[-1].retry_reason


async def test_read_timeout_against_a_silent_server_is_enforced():
    """A real socket that accepts and never answers: the read timeout fires, fast."""
    async def silent(reader, writer):
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with HelpdeskHttp(HttpSettings(read_timeout=0.2, trust_env=False,
                                             retry=RetryPolicy(max_attempts=2, base_delay=0.01))) as http:
            began = time.monotonic()
            ex = await http.send(http.build_request("GET", f"http://127.0.0.1:{port}/"))
            took = time.monotonic() - began
    finally:
        server.close()
    assert ex.error.startswith("read timeout")
    assert len(ex.trace.attempts) == 2  # GET is retried once
    assert took < 2


async def test_connect_error_against_a_closed_port():
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with HelpdeskHttp(HttpSettings(trust_env=False, retry=RetryPolicy(max_attempts=1))) as http:
        ex = await http.send(http.build_request("GET", f"http://127.0.0.1:{port}/"))
    assert ex.error.startswith("cannot connect") and ex.response is None


def test_idempotent_methods():
    assert all(idempotent(m) for m in ("GET", "get", "PUT", "DELETE", "HEAD"))
    assert not any(idempotent(m) for m in ("POST", "PATCH"))


def test_parse_retry_after_seconds_and_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:10 GMT", now=1795608000.0) == pytest.approx(10.0)


async def test_trace_records_timings_status_and_capped_response():
    def handler(request):
        return httpx.Response(200, text="x" * 5000)

    traces = []
    http = HelpdeskHttp(HttpSettings(response_cap=100), transport=httpx.MockTransport(handler),
                        on_trace=traces.append)
    async with http:
        ex = await http.send(http.build_request("GET", "https://hd.test/a?b=1"), scenario="SyncContactAuto",
                             name="Contacts")
    trace = traces[0]
    assert trace is ex.trace
    assert trace.status == 200 and trace.response_size == 5000
    assert len(trace.response_body) == 100 and trace.response_truncated
    assert trace.elapsed_ms >= 0 and trace.started_at > 0
    assert trace.summary().startswith("SyncContactAuto/Contacts GET https://hd.test/a?b=1 -> 200")


async def test_proxies_come_from_the_environment(monkeypatch):
    """With HTTP_PROXY set, the request goes to the proxy (absolute-form request line)."""
    seen = []

    async def proxy(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b"\r\n", 1)[0].decode())
        body = b'{"via":"proxy"}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        async with HelpdeskHttp(HttpSettings()) as http:
            ex = await http.send(http.build_request("GET", "http://helpdesk.invalid/api/x"))
    finally:
        server.close()
    assert ex.ok and ex.response.json() == {"via": "proxy"}
    assert seen == ["GET http://helpdesk.invalid/api/x HTTP/1.1"]


async def test_oversized_answers_are_refused_not_buffered():
    def handler(request):
        if request.url.path == "/declared":
            return httpx.Response(200, content=b"x" * 2000)
        if request.url.path == "/small":
            return httpx.Response(200, content=b"{}")

        async def chunks():
            for _ in range(10):
                yield b"y" * 500

        return httpx.Response(200, content=chunks())  # streamed, no length

    async with http_with(handler, max_response_bytes=1000) as http:
        declared = await http.send(http.build_request("GET", "https://hd.test/declared"))
        streamed = await http.send(http.build_request("GET", "https://hd.test/streamed"))
        small = await http.send(http.build_request("GET", "https://hd.test/small"))
    assert not declared.ok and "2000 bytes" in declared.error and len(declared.trace.attempts) == 1
    assert not streamed.ok and "larger than the limit of 1000" in streamed.error
    assert small.ok and small.text == "{}"


async def test_gzip_answers_are_decoded():
    import gzip

    def handler(request):
        return httpx.Response(200, content=gzip.compress(b'{"a": 1}'), headers={"Content-Encoding": "gzip"})

    async with http_with(handler) as http:
        ex = await http.send(http.build_request("GET", "https://hd.test/"))
    assert ex.response.json() == {"a": 1} and ex.trace.response_body == '{"a": 1}'
