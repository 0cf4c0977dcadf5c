"""The PBX simulator: command line, scripts and demo traffic over a real websocket."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from engine.pbx.calls import CallTracker
from engine.pbx.events import NewCdr
from engine.pbx.script import expand_script
from engine.pbx.simulator import PbxSimulator
from engine.pbx.source import SUBSCRIBED, OpenApiSource, SourceStatus
from tests.conftest import DATA, REPO


async def collect(source, until, timeout=10.0):
    items = []
    async with asyncio.timeout(timeout):
        async for item in source:
            items.append(item)
            if until(items):
                break
    await source.aclose()
    return items


def cdrs(items):
    return [i for i in items if isinstance(i, NewCdr)]


async def test_simulator_command_plays_a_script_to_a_real_client():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine.pbx.simulator", "--script", str(DATA / "pbx" / "queue_transfer.script"),
        "--speed", "0", "--wait-for-client", cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert url.startswith("http://127.0.0.1:")
        credentials = (await proc.stdout.readline()).decode()
        assert "Client ID: deskline-demo" in credentials
        source = OpenApiSource(url, "deskline-demo", "demo-secret")
        items = await collect(source, lambda items: len(cdrs(items)) == 2)
        tracker = CallTracker()
        names = [type(f).__name__ for i in items if not isinstance(i, SourceStatus) for f in tracker.feed(i)]
        assert names.count("CallRinging") == 3 and names.count("CallMissed") == 1
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_simulator_command_rejects_a_bad_script(tmp_path):
    script = tmp_path / "calls.txt"
    script.write_text("ring +49 -> 2002\nanswr\n")
    out = subprocess.run([sys.executable, "-m", "engine.pbx.simulator", "--script", str(script)], cwd=REPO,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert f"{script}:2:1: answr: unknown command 'answr'" in out.stderr


async def test_run_script_keeps_the_timing():
    async with PbxSimulator() as sim:
        source = OpenApiSource(sim.base_url, sim.client_id, sim.client_secret)
        task = asyncio.create_task(collect(source, lambda items: len(cdrs(items)) == 1))
        await sim.wait_subscribed()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sent = await sim.run_script("ring +4930 -> 2002\nwait 2s\nanswer\nwait 2s\nhangup\n", speed=10)
        assert 0.35 < loop.time() - t0 < 2.0       # 4 s of script at 10x
        assert sent == 7
        items = await task
        assert cdrs(items)[0].talk_duration == 2    # script time, not wall time


def test_demo_script_is_deterministic_and_valid():
    sim = PbxSimulator()
    one, two = sim.demo_script(seed=7, calls=30), sim.demo_script(seed=7, calls=30)
    assert one == two and one != sim.demo_script(seed=8, calls=30)
    frames = expand_script(one)
    tracker = CallTracker()
    from engine.pbx.events import parse_event
    completed = [f for fr in frames for f in tracker.feed(parse_event(fr.text()))
                 if type(f).__name__ == "CallCompleted"]
    assert len(completed) == 30


async def test_demo_traffic_reaches_a_subscriber():
    async with PbxSimulator(speed=0) as sim:
        source = OpenApiSource(sim.base_url, sim.client_id, sim.client_secret)
        task = asyncio.create_task(collect(source, lambda items: len(cdrs(items)) == 3))
        await sim.wait_subscribed()
        await sim.demo_traffic(seed=1, calls=3)
        items = await task
        assert any(isinstance(i, SourceStatus) and i.state == SUBSCRIBED for i in items)
        assert len(cdrs(items)) == 3


def test_simulator_listens_on_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        PbxSimulator(host="0.0.0.0")


async def test_simulator_survives_garbage_requests():
    async with PbxSimulator() as sim:
        for garbage in (b"NONSENSE\r\n\r\n", b"POST /openapi/v1.0/get_token HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                        b"POST /x HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", b"\x00\xff" * 10):
            reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
            writer.write(garbage)
            await writer.drain()
            writer.write_eof()
            await asyncio.wait_for(reader.read(), 5)
            writer.close()
        source = OpenApiSource(sim.base_url, sim.client_id, sim.client_secret)
        items = await collect(source, lambda items: any(isinstance(i, SourceStatus) and i.state == SUBSCRIBED
                                                        for i in items))
        assert sim.logins == 1 and items


async def test_cdr_start_times_follow_the_simulator_clock():
    start = __import__("datetime").datetime(2026, 11, 25, 9, 0, 0)
    async with PbxSimulator(start=start, speed=0) as sim:
        source = OpenApiSource(sim.base_url, sim.client_id, sim.client_secret)
        task = asyncio.create_task(collect(source, lambda items: len(cdrs(items)) == 2))
        await sim.wait_subscribed()
        await sim.run_script("ring +4930 -> 2002\nwait 5s\nhangup\n")
        await sim.ring("+4931", "2003")
        await sim.hangup()
        first, second = cdrs(await task)
    assert abs((first.time_start - start).total_seconds()) < 3
    assert abs((second.time_start - start).total_seconds()) < 3
    assert first.call_duration == 5
