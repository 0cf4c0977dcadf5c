"""OpenApiSource against the PbxSimulator over a real loopback websocket."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from engine.pbx.calls import CallRinging, CallTracker
from engine.pbx.events import CallStatusChanged, NewCdr
from engine.pbx.simulator import PbxSimulator
from engine.pbx.source import (
    CLOSED, DEFAULT_TOPICS, FRAME_ERROR, LOST, SUBSCRIBED, OpenApiSource, RecordingSource,
    ReplaySource, SourceStatus, redact,
)


class Reader:
    """Runs a source in a task and collects what it yields."""

    def __init__(self, source) -> None:
        self.source = source
        self.items: list = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.source:
            self.items.append(item)

    def states(self) -> list[str]:
        return [i.state for i in self.items if isinstance(i, SourceStatus)]

    def events(self, kind=object) -> list:
        return [i for i in self.items if not isinstance(i, SourceStatus) and isinstance(i, kind)]

    async def until(self, predicate, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                if self.task.done():
                    self.task.result()
                    assert predicate(self), f"source ended early: {self.states()}"
                await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.source.aclose()
        async with asyncio.timeout(5):
            await self.task


def source_for(sim: PbxSimulator, **kw) -> OpenApiSource:
    kw.setdefault("backoff_initial", 0.05)
    kw.setdefault("backoff_max", 0.2)
    return OpenApiSource(sim.base_url, kw.pop("client_id", sim.client_id), kw.pop("secret", sim.client_secret),
                         **kw)


async def test_subscribe_ack_and_call_events_end_to_end():
    async with PbxSimulator() as sim:
        reader = Reader(source_for(sim))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        (sub,) = sim.subscribers
        assert sub.topics == set(DEFAULT_TOPICS)
        assert json.loads(sub.received[0]) == {"topic_list": list(DEFAULT_TOPICS)}
        await sim.ring("+4930123456", "2002")
        await sim.answer("2002")
        await sim.hangup()
        await reader.until(lambda r: r.events(NewCdr))
        tracker = CallTracker()
        facts = [f for e in reader.events() for f in tracker.feed(e)]
        ringing = next(f for f in facts if isinstance(f, CallRinging))
        assert (ringing.caller, ringing.extensions, ringing.direction) == ("+4930123456", ("2002",), "inbound")
        assert [type(f).__name__ for f in facts] == ["CallRinging", "CallAnswered", "CallEnded", "CallCompleted"]
        assert sim.ignored_requests == 0 and sim.logins == 1
        await reader.close()
        assert reader.states()[-1] == CLOSED
        assert not sim._access   # the token was revoked with del_token


async def test_ack_with_type_10000_is_accepted():
    async with PbxSimulator(ack_style="type10000") as sim:
        reader = Reader(source_for(sim, topics=(30011,)))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        await sim.ring("+4930", "2002")
        await reader.until(lambda r: r.events(CallStatusChanged))
        assert not reader.events(NewCdr)   # not subscribed to 30012... and none sent yet
        await reader.close()


async def test_only_subscribed_topics_are_sent():
    async with PbxSimulator() as sim:
        reader = Reader(source_for(sim, topics=(30012,)))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        await sim.ring("+4930", "2002")
        await sim.hangup()
        await reader.until(lambda r: r.events(NewCdr))
        assert {type(e) for e in reader.events()} == {NewCdr}
        await reader.close()


async def test_heartbeat_keeps_an_idle_connection_open():
    async with PbxSimulator(idle_timeout=0.5) as sim:
        reader = Reader(source_for(sim, heartbeat_interval=0.15))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        await asyncio.sleep(1.5)
        assert LOST not in reader.states()
        assert sim.subscribers[0].heartbeats >= 5
        assert sim.logins == 1
        await reader.close()


async def test_without_heartbeat_the_pbx_drops_the_socket_and_the_source_reconnects():
    async with PbxSimulator(idle_timeout=0.3) as sim:
        reader = Reader(source_for(sim, heartbeat_interval=30))
        await reader.until(lambda r: r.states().count(SUBSCRIBED) >= 2)
        lost = next(i for i in reader.items if isinstance(i, SourceStatus) and i.state == LOST)
        assert "closed" in lost.detail and lost.retry_in is not None
        await reader.close()


async def test_token_is_refreshed_before_expiry_and_events_keep_flowing():
    async with PbxSimulator(access_ttl=2.0) as sim:   # the simulator drops sockets whose token expired
        reader = Reader(source_for(sim, heartbeat_interval=0.2))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        await asyncio.sleep(1.6)                 # refresh is due after 1.6 s
        await reader.until(lambda r: r.states().count(SUBSCRIBED) >= 2)
        assert sim.refreshes >= 1 and sim.logins == 1
        assert LOST not in reader.states()       # a planned reconnect, not a failure
        await sim.ring("+4930", "2002")
        await reader.until(lambda r: r.events(CallStatusChanged))
        await reader.close()


async def test_reconnects_after_the_server_drops_the_socket():
    async with PbxSimulator() as sim:
        reader = Reader(source_for(sim))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        sim.drop_connections()
        await reader.until(lambda r: r.states().count(SUBSCRIBED) >= 2)
        assert reader.states()[:5] == ["connecting", "subscribed", "lost", "connecting", "subscribed"]
        await sim.ring("+4930", "2002")
        await reader.until(lambda r: r.events(CallStatusChanged))
        assert sim.logins == 1                   # the token was still good: no new login
        await reader.close()


async def test_refused_subscription_logs_in_again():
    async with PbxSimulator() as sim:
        reader = Reader(source_for(sim))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        sim.expire_tokens()
        sim.drop_connections()
        await reader.until(lambda r: r.states().count(SUBSCRIBED) >= 2)
        details = [i.detail for i in reader.items if isinstance(i, SourceStatus) and i.state == LOST]
        assert any("subscription refused" in d for d in details)
        assert sim.logins == 2
        await reader.close()


async def test_bad_credentials_stop_after_two_attempts():
    async with PbxSimulator() as sim:
        reader = Reader(source_for(sim, secret="wrong-secret"))
        async with asyncio.timeout(5):
            await reader.task
        assert reader.states() == ["connecting", "lost", "connecting", "auth_failed"]
        assert sim.failed_logins == 2 and not sim.blocked
        failed = reader.items[-1]
        assert "not retrying" in failed.detail and "wrong-secret" not in failed.detail


async def test_unreachable_pbx_is_retried_with_backoff():
    sim = PbxSimulator()
    await sim.start()
    url = sim.base_url
    await sim.stop()                              # nothing listens there any more
    source = OpenApiSource(url, "id", "secret", backoff_initial=0.05, backoff_max=0.1)
    reader = Reader(source)
    await reader.until(lambda r: r.states().count(LOST) >= 3)
    delays = [i.retry_in for i in reader.items if isinstance(i, SourceStatus) and i.state == LOST]
    assert all(0 < d <= 0.1 for d in delays)
    await reader.close()
    assert reader.states()[-1] == CLOSED


async def test_malformed_frame_is_reported_and_the_stream_goes_on():
    async with PbxSimulator() as sim:
        reader = Reader(source_for(sim, name="pbx-1"))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        sim.publish({"type": 30011, "sn": "S", "msg": '{"call_id": "1", "members": 5}'})
        await sim.ring("+4930", "2002")
        await reader.until(lambda r: r.events(CallStatusChanged))
        bad = next(i for i in reader.items if isinstance(i, SourceStatus) and i.state == FRAME_ERROR)
        assert bad.error.location.field == "msg.members"
        assert bad.error.location.file == "pbx-1"
        await reader.close()


async def test_secrets_never_reach_the_logs(caplog):
    caplog.set_level(logging.DEBUG)
    async with PbxSimulator(access_ttl=0.6) as sim:
        reader = Reader(source_for(sim, heartbeat_interval=0.1))
        await reader.until(lambda r: r.states().count(SUBSCRIBED) >= 2)   # login, then a refresh
        await reader.close()
        assert sim.refreshes >= 1
        tokens = sim.issued_tokens
    assert len(tokens) >= 4
    text = caplog.text
    assert "access_token=***" in text             # the request lines are logged, redacted
    for secret in [sim.client_secret, *tokens]:
        assert secret not in text
    assert "demo-secret" not in repr(source_for(sim))


async def test_secrets_stay_redacted_when_the_helpdesk_client_also_filters_httpx_logs(caplog):
    """Regression: engine.http's log filter formats the message first; the PBX filter must still redact it."""
    import engine.http.client  # noqa: F401  (installs its own filter on the httpx logger)

    await test_secrets_never_reach_the_logs(caplog)


def test_redact():
    assert redact("/subscribe?access_token=abc123&x=1") == "/subscribe?access_token=***&x=1"
    assert redact('{"refresh_token": "zz9"}') == '{"refresh_token": "***"}'


async def test_simulator_requires_the_openapi_user_agent_and_blocks_after_five_failures():
    async with PbxSimulator() as sim:
        api = f"{sim.base_url}/openapi/v1.0"
        async with httpx.AsyncClient(trust_env=False) as http:
            plain = await http.post(f"{api}/get_token", json={"username": sim.client_id,
                                                              "password": sim.client_secret})
            assert plain.json()["errcode"] != 0 and sim.ignored_requests == 1
            headers = {"User-Agent": "OpenAPI"}
            for _ in range(5):
                bad = await http.post(f"{api}/get_token", json={"username": "x", "password": "y"}, headers=headers)
                assert bad.json()["errcode"] != 0
            good = await http.post(f"{api}/get_token", json={"username": sim.client_id,
                                                             "password": sim.client_secret}, headers=headers)
            assert good.json()["errcode"] != 0 and sim.blocked


async def test_simulator_token_endpoints():
    async with PbxSimulator(access_ttl=30) as sim:
        api = f"{sim.base_url}/openapi/v1.0"
        headers = {"User-Agent": "OpenAPI"}
        async with httpx.AsyncClient(trust_env=False, headers=headers) as http:
            first = (await http.post(f"{api}/get_token", json={"username": sim.client_id,
                                                               "password": sim.client_secret})).json()
            assert first["errcode"] == 0 and first["access_token_expire_time"] == 30
            second = (await http.post(f"{api}/refresh_token", json={"refresh_token": first["refresh_token"]})).json()
            assert second["errcode"] == 0 and second["access_token"] != first["access_token"]
            again = (await http.post(f"{api}/refresh_token", json={"refresh_token": first["refresh_token"]})).json()
            assert again["errcode"] != 0                       # a refresh token works once
            assert sim.token_valid(second["access_token"])
            gone = (await http.get(f"{api}/del_token", params={"access_token": second["access_token"]})).json()
            assert gone["errcode"] == 0 and not sim.token_valid(second["access_token"])
            for _ in range(9):
                await http.post(f"{api}/get_token", json={"username": sim.client_id, "password": sim.client_secret})
            assert sum(sim.token_valid(t) for t in sim._access) == 8   # at most 8 valid tokens


async def test_recording_a_live_session_replays_the_same_events(tmp_path):
    path = tmp_path / "rec" / "session.jsonl"
    async with PbxSimulator() as sim:
        reader = Reader(RecordingSource(source_for(sim), path))
        await reader.until(lambda r: SUBSCRIBED in r.states())
        await sim.ring("+4930123456", ["2001", "2002"], via="6400")
        await asyncio.sleep(0.05)
        await sim.answer("2001")
        await sim.hangup()
        await reader.until(lambda r: r.events(NewCdr))
        await reader.close()
    live = reader.events()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == len(live)
    assert lines[-1]["at"] >= 0.05 and all(isinstance(line["event"], dict) for line in lines)
    replayed = [i async for i in ReplaySource(path, speed=0) if not isinstance(i, SourceStatus)]
    assert replayed == live


def test_addresses_and_tls_settings():
    plain = OpenApiSource("http://pbx.lan:8088/", "id", "s")
    assert plain.subscribe_url == "ws://pbx.lan:8088/openapi/v1.0/subscribe"
    assert plain._ssl() is None
    cloud = OpenApiSource("https://tenant.yeastarcloud.com", "id", "s", verify_tls=False)
    assert cloud.subscribe_url == "wss://tenant.yeastarcloud.com/openapi/v1.0/subscribe"
    import ssl
    assert cloud._ssl().verify_mode == ssl.CERT_NONE
    assert OpenApiSource("https://pbx.lan", "id", "s")._ssl().verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ValueError, match="http://host:port"):
        OpenApiSource("pbx.lan:8088", "id", "s")


async def test_backoff_starts_again_after_each_good_connection():
    async with PbxSimulator() as sim:
        reader = Reader(source_for(sim, backoff_initial=0.05, backoff_max=10))
        for n in range(1, 4):
            await reader.until(lambda r: r.states().count(SUBSCRIBED) >= n)
            await sim.wait_subscribed()
            sim.drop_connections()
        await reader.until(lambda r: r.states().count(SUBSCRIBED) >= 4)
        delays = [i.retry_in for i in reader.items if isinstance(i, SourceStatus) and i.state == LOST]
        assert len(delays) == 3 and all(d <= 0.05 for d in delays)
        await reader.close()
