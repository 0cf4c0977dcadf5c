"""``deskline simulate``: in process, and as a real server a client subscribes to."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys

import pytest

from engine.pbx.calls import CallTracker
from engine.pbx.events import NewCdr
from engine.pbx.source import OpenApiSource, SourceStatus
from tests.conftest import DATA, REPO
from tui.cli import main

SCRIPT = DATA / "pbx" / "queue_transfer.script"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def test_simulate_plays_a_script_and_prints_url_and_credentials(capsys):
    assert main(["simulate", "--script", str(SCRIPT), "--speed", "0"]) == 0
    url, credentials = capsys.readouterr().out.splitlines()[:2]
    assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
    assert "Client ID: deskline-demo" in credentials and "Client Secret: demo-secret" in credentials
    assert f"ws://127.0.0.1:{url.rsplit(':', 1)[1]}/openapi/v1.0/subscribe" in credentials


def test_simulate_checks_the_script_before_starting(tmp_path, capsys):
    script = tmp_path / "calls.script"
    script.write_text("ring +49 -> 2002\nanswr\n")
    assert main(["simulate", "--script", str(script)]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no server was started
    assert err.startswith(f"error: {script}:2:1: answr: unknown command 'answr'")


def test_simulate_script_not_utf8_or_missing(tmp_path, capsys):
    script = tmp_path / "calls.script"
    script.write_bytes(b"ring +49 -> 2002\nhangup \xff\n")
    assert main(["simulate", "--script", str(script)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {script}:2:8: not UTF-8 text")
    assert main(["simulate", "--script", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope'}: cannot read the script: No such file or directory\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["--port", "70000"], "error: --port: a TCP port is 0 (any free one) to 65535, not 70000\n"),
    (["--speed", "-2"], "error: --speed: the speed is a number, 0 (no waiting) or more, not -2\n"),
    (["--speed", "nan"], "error: --speed: the speed is a number, 0 (no waiting) or more, not nan\n"),
    (["--seed", "4"], "error: --seed: --seed chooses the --demo calls; add --demo\n"),
])
def test_simulate_refuses_bad_arguments(argv, message, capsys):
    assert main(["simulate", *argv]) == 2
    assert capsys.readouterr().err == message


def test_simulate_script_and_demo_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--script", str(SCRIPT), "--demo"])
    assert exc.value.code == 2


def test_simulate_port_in_use_is_an_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["simulate", "--port", str(port), "--script", str(SCRIPT), "--speed", "0"]) == 2
    assert "address already in use" in capsys.readouterr().err.lower()


async def test_simulate_subprocess_serves_a_real_client():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "simulate", "--script", str(SCRIPT), "--speed", "0", "--wait-for-client",
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        assert url.startswith("http://127.0.0.1:")
        assert "Client ID: deskline-demo" in (await proc.stdout.readline()).decode()
        source = OpenApiSource(url, "deskline-demo", "demo-secret")
        items = []
        async with asyncio.timeout(20):
            async for item in source:
                items.append(item)
                if sum(isinstance(i, NewCdr) for i in items) == 2:
                    break
        await source.aclose()
        tracker = CallTracker()
        names = [type(f).__name__ for i in items if not isinstance(i, SourceStatus) for f in tracker.feed(i)]
        assert names.count("CallMissed") == 1 and names.count("CallCompleted") == 2
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_simulate_demo_runs_until_interrupted():
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "simulate", "--demo", "--seed", "1"], cwd=REPO,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("http://127.0.0.1:")
        assert "Client Secret: demo-secret" in proc.stdout.readline()
        assert proc.poll() is None  # still serving
        proc.send_signal(signal.SIGINT)
        # 0 once the server's handler is installed, 130 when Ctrl-C came just before it; never a traceback
        assert proc.wait(timeout=10) in (0, 130)
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
