"""A pretend Yeastar P-Series PBX on loopback, speaking the Open API subset deskline uses.

It is a real server (HTTP/1.1 and websocket on one port, 127.0.0.1, port 0 = a free one)::

    POST /openapi/v1.0/get_token       {"username": CLIENT_ID, "password": CLIENT_SECRET}
    POST /openapi/v1.0/refresh_token   {"refresh_token": ...}      (the old refresh token dies)
    GET  /openapi/v1.0/del_token?access_token=...
    GET  /openapi/v1.0/subscribe?access_token=...   websocket: {"topic_list": [...]} -> ack,
                                       "heartbeat" -> "heartbeat response", events as the PBX sends them

Like the PBX it ignores requests without ``User-Agent: OpenAPI``, keeps at most 8 valid tokens,
blocks the client after ``max_failed_logins`` (5) failed logins, drops a websocket that stays
silent for ``idle_timeout`` (60 s) and, with ``drop_on_token_expiry``, one whose token expired.
Error codes are the simulator's own (clients must only rely on ``errcode != 0``).

Calls are played with :meth:`PbxSimulator.ring`, :meth:`~PbxSimulator.answer`,
:meth:`~PbxSimulator.hangup`..., with a call script (:meth:`~PbxSimulator.run_script`, see
:mod:`engine.pbx.script`) or as random demo traffic (:meth:`~PbxSimulator.demo_traffic`).

    async with PbxSimulator() as pbx:
        source = OpenApiSource(pbx.base_url, pbx.client_id, pbx.client_secret)
        await pbx.ring("+4930123456", "2002")
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import secrets
import signal
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from engine.pbx.script import PbxModel, expand_script
from engine.pbx.source import RedactingLogger, read_replay_text

API = "/openapi/v1.0"
_QUIET = RedactingLogger(logging.getLogger("deskline.pbx.simulator"), {})
MAX_TOKENS = 8
MAX_BODY = 64 * 1024

BAD_USER_AGENT = (40001, "USER AGENT MUST BE OpenAPI")
BAD_LOGIN = (40002, "INVALID USERNAME OR PASSWORD")
IP_BLOCKED = (40003, "IP BLOCKED AFTER TOO MANY FAILED LOGINS")
BAD_TOKEN = (40004, "INVALID OR EXPIRED ACCESS TOKEN")
BAD_REFRESH = (40005, "INVALID OR EXPIRED REFRESH TOKEN")
BAD_REQUEST = (40006, "INVALID REQUEST")

DEMO_EXTENSIONS = ("1001", "1002", "1003", "1004", "1005")
DEMO_CALLERS = ("+15550100", "+15550101", "020 7946 0018", "+15550301", "+15557000", "+15557002",
                "+49 30 1234567", "+4940555012", "+33155501234")


@dataclass
class Subscriber:
    """One websocket client of the simulator."""

    token: str
    peer: str
    topics: set[int] = field(default_factory=set)
    subscribed: bool = False
    heartbeats: int = 0
    received: list[str] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    protocol: ServerProtocol | None = None
    writer: asyncio.StreamWriter | None = None

    def send_text(self, text: str) -> None:
        if self.protocol is None or self.writer is None or self.writer.is_closing():
            return
        self.protocol.send_text(text.encode("utf-8"))
        self._flush()

    def _flush(self) -> None:
        if self.protocol is not None and self.writer is not None and not self.writer.is_closing():
            for chunk in self.protocol.data_to_send():
                if chunk:
                    self.writer.write(chunk)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.protocol is not None and self.writer is not None and not self.writer.is_closing():
            try:
                self.protocol.send_close(code, reason)
            except Exception:  # noqa: BLE001 - already closing
                pass
            self._flush()
            self.writer.close()

    def drop(self) -> None:
        """Cut the TCP connection without a close frame (a network failure)."""
        if self.writer is not None:
            self.writer.transport.abort()


class PbxSimulator:
    """A loopback PBX for ``deskline demo`` and tests. Use ``async with`` or ``start()``/``stop()``."""

    def __init__(self, *, client_id: str = "deskline-demo", client_secret: str = "demo-secret",
                 host: str = "127.0.0.1", port: int = 0, access_ttl: float = 1800.0, refresh_ttl: float = 86400.0,
                 idle_timeout: float = 60.0, drop_on_token_expiry: bool = True, max_failed_logins: int = 5,
                 ack_style: str = "errcode", sn: str = "3631A2124XXX", speed: float = 1.0,
                 start: datetime | None = None) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the PBX simulator only listens on loopback")
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.idle_timeout = idle_timeout
        self.drop_on_token_expiry = drop_on_token_expiry
        self.max_failed_logins = max_failed_logins
        self.ack_style = ack_style
        self.speed = speed
        self.model = PbxModel(sn=sn, start=start or datetime.now().replace(microsecond=0))
        self.subscribers: list[Subscriber] = []
        self.logins = 0
        self.refreshes = 0
        self.failed_logins = 0
        self.ignored_requests = 0
        self.frames_sent = 0
        self.issued_tokens: list[str] = []                        # every token handed out (tests check logs)
        self._access: OrderedDict[str, float] = OrderedDict()    # token -> expiry (monotonic)
        self._refresh: dict[str, float] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._t0 = time.monotonic()

    # -- life cycle ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=65536)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        for sub in list(self.subscribers):
            sub.close(1001, "PBX shutting down")
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> PbxSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def blocked(self) -> bool:
        return self.failed_logins >= self.max_failed_logins

    def expire_tokens(self) -> None:
        """Make every access token expire now (refresh tokens stay valid)."""
        for token in self._access:
            self._access[token] = 0.0

    def drop_connections(self) -> None:
        """Cut every websocket as a network failure would."""
        for sub in list(self.subscribers):
            sub.drop()

    async def wait_subscribed(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` websocket clients have subscribed."""
        async with asyncio.timeout(timeout):
            while sum(1 for s in self.subscribers if s.subscribed) < count:
                await asyncio.sleep(0.01)

    # -- playing calls -------------------------------------------------------------------
    @property
    def now(self) -> float:
        return time.monotonic() - self._t0

    def publish(self, frame: dict[str, Any]) -> int:
        """Send one envelope to every subscriber of its topic; returns how many got it."""
        text = json.dumps(frame, ensure_ascii=False)
        event = frame.get("type")
        count = 0
        for sub in self.subscribers:
            if sub.subscribed and event in sub.topics:
                sub.send_text(text)
                count += 1
        self.frames_sent += count
        return count

    def _publish_all(self, frames: list[dict[str, Any]]) -> None:
        for frame in frames:
            self.publish(frame)

    async def ring(self, caller: str, to: str | list[str], *, via: str = "", trunk: str = "") -> str:
        """An inbound call from ``caller`` ringing extension(s) ``to`` (through queue ``via``)."""
        extensions = [to] if isinstance(to, str) else list(to)
        call_id, frames = self.model.ring(caller, extensions, at=self.now, via=via, callee=via, trunk=trunk)
        self._publish_all(frames)
        return call_id

    async def call(self, caller: str, callee: str) -> str:
        call_id, frames = self.model.call(caller, callee, at=self.now)
        self._publish_all(frames)
        return call_id

    async def dial(self, extension: str, number: str, *, trunk: str = "") -> str:
        call_id, frames = self.model.dial(extension, number, at=self.now, trunk=trunk)
        self._publish_all(frames)
        return call_id

    async def answer(self, who: str = "") -> None:
        self._publish_all(self.model.answer(who, at=self.now))

    async def transfer(self, target: str, who: str = "") -> None:
        self._publish_all(self.model.transfer(target, who, at=self.now))

    async def hangup(self, who: str = "") -> None:
        self._publish_all(self.model.hangup(who, at=self.now))

    async def run_script(self, text: str, *, speed: float | None = None, source: str = "<script>") -> int:
        """Play a call script (see :mod:`engine.pbx.script`) in real time; returns the frames sent."""
        speed = self.speed if speed is None else speed
        offset = self.now
        frames = expand_script(text, source=source, model=self.model, start_at=offset)
        started = time.monotonic()
        for item in frames:
            if speed:
                delay = (item.at - offset) / speed - (time.monotonic() - started)
                if delay > 0:
                    await asyncio.sleep(delay)
            self.publish(item.frame)
        return len(frames)

    def demo_script(self, seed: int | None = None, calls: int = 10) -> str:
        """A random but plausible script: answered, missed, queue, transfer, internal, outbound calls."""
        rnd = random.Random(seed)
        lines = []
        for _ in range(calls):
            caller = rnd.choice(DEMO_CALLERS).replace(" ", "")
            ext = rnd.choice(DEMO_EXTENSIONS)
            kind = rnd.choices(["answered", "missed", "queue", "transfer", "internal", "outbound"],
                               [5, 2, 2, 1, 1, 1])[0]
            ring = rnd.randint(2, 6)
            talk = rnd.randint(5, 30)
            if kind == "answered":
                lines += [f"ring {caller} -> {ext}", f"wait {ring}s", f"answer {ext}", f"wait {talk}s", "hangup"]
            elif kind == "missed":
                lines += [f"missed {caller} -> {ext} after {ring + 6}s"]
            elif kind == "queue":
                members = rnd.sample(DEMO_EXTENSIONS, 3)
                lines += [f"ring {caller} -> 6400 (queue {' '.join(members)})", f"wait {ring}s",
                          f"answer {members[1]}", f"wait {talk}s", "hangup"]
            elif kind == "transfer":
                other = rnd.choice([e for e in DEMO_EXTENSIONS if e != ext])
                lines += [f"ring {caller} -> {ext}", f"wait {ring}s", f"answer {ext}", "wait 4s",
                          f"transfer {other}", "wait 3s", f"answer {other}", f"wait {talk}s", "hangup"]
            elif kind == "internal":
                other = rnd.choice([e for e in DEMO_EXTENSIONS if e != ext])
                lines += [f"call {ext} -> {other}", f"wait {ring}s", f"answer {other}", f"wait {talk}s", "hangup"]
            else:
                lines += [f"dial {ext} -> {caller}", f"wait {ring}s", "answer", f"wait {talk}s", "hangup"]
            lines.append(f"wait {rnd.randint(3, 12)}s")
        return "\n".join(lines) + "\n"

    async def demo_traffic(self, seed: int | None = None, *, calls: int | None = None) -> None:
        """Random calls until cancelled (or ``calls`` calls), for ``deskline demo``."""
        rnd = random.Random(seed)
        done = 0
        while calls is None or done < calls:
            batch = 1 if calls is not None else 5
            await self.run_script(self.demo_script(rnd.randrange(1 << 30), batch))
            done += batch

    # -- HTTP ----------------------------------------------------------------------------
    def _new_tokens(self) -> dict[str, Any]:
        now = time.monotonic()
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.issued_tokens += [access, refresh]
        self._access[access] = now + self.access_ttl
        while len(self._access) > MAX_TOKENS:
            self._access.popitem(last=False)
        self._refresh[refresh] = now + self.refresh_ttl
        return {"errcode": 0, "errmsg": "SUCCESS", "access_token_expire_time": int(self.access_ttl),
                "access_token": access, "refresh_token_expire_time": int(self.refresh_ttl),
                "refresh_token": refresh}

    def token_valid(self, token: str) -> bool:
        return self._access.get(token, 0.0) > time.monotonic()

    def _api(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
             body: bytes) -> tuple[int, dict[str, Any]]:
        if headers.get("user-agent") != "OpenAPI":
            self.ignored_requests += 1
            return 403, _err(BAD_USER_AGENT)
        if self.blocked:
            return 403, _err(IP_BLOCKED)
        if path == f"{API}/get_token" and method == "POST":
            data = _json_body(body)
            if not isinstance(data, dict):
                return 400, _err(BAD_REQUEST)
            if data.get("username") != self.client_id or data.get("password") != self.client_secret:
                self.failed_logins += 1
                return 200, _err(BAD_LOGIN)
            self.logins += 1
            return 200, self._new_tokens()
        if path == f"{API}/refresh_token" and method == "POST":
            data = _json_body(body)
            token = data.get("refresh_token") if isinstance(data, dict) else None
            if not isinstance(token, str) or self._refresh.pop(token, 0.0) <= time.monotonic():
                return 200, _err(BAD_REFRESH)
            self.refreshes += 1
            return 200, self._new_tokens()
        if path == f"{API}/del_token" and method == "GET":
            token = (query.get("access_token") or [""])[0]
            if self._access.pop(token, None) is None:
                return 200, _err(BAD_TOKEN)
            return 200, {"errcode": 0, "errmsg": "SUCCESS"}
        return 404, _err((40404, "NOT FOUND"))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                parts = request_line.split(" ")
                if len(parts) != 3:
                    return
                method, target, _ = parts
                headers = {}
                for line in header_lines:
                    if ":" in line:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                split = urlsplit(target)
                query = parse_qs(split.query)
                if split.path == f"{API}/subscribe" and headers.get("upgrade", "").lower() == "websocket":
                    await self._websocket(head, reader, writer, headers, query)
                    return
                try:
                    length = int(headers.get("content-length") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_BODY:
                    status, payload, length = 400, _err(BAD_REQUEST), 0
                    writer.write(_http(status, payload, close=True))
                    await writer.drain()
                    return
                body = await reader.readexactly(length) if length else b""
                status, payload = self._api(method, split.path, query, headers, body)
                writer.write(_http(status, payload))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass            # the simulator stops: this connection ends with it
        finally:
            if task is not None:
                self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()

    # -- websocket -----------------------------------------------------------------------
    async def _websocket(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         headers: dict[str, str], query: dict[str, list[str]]) -> None:
        protocol = ServerProtocol(max_size=1 << 20, logger=_QUIET)
        protocol.receive_data(head)
        request = next((e for e in protocol.events_received() if isinstance(e, Request)), None)
        if request is None:
            return
        if headers.get("user-agent") != "OpenAPI":
            self.ignored_requests += 1
            response = protocol.reject(403, "User-Agent must be OpenAPI\n")
        else:
            response = protocol.accept(request)
        protocol.send_response(response)
        for chunk in protocol.data_to_send():
            writer.write(chunk)
        await writer.drain()
        if response.status_code != 101:
            return
        token = (query.get("access_token") or [""])[0]
        peer = str(writer.get_extra_info("peername"))
        sub = Subscriber(token=token, peer=peer, protocol=protocol, writer=writer)
        self.subscribers.append(sub)
        last_heard = time.monotonic()
        try:
            while True:
                deadline = last_heard + self.idle_timeout
                if self.drop_on_token_expiry and sub.subscribed:
                    deadline = min(deadline, self._access.get(token, 0.0))
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    sub.close(1000, "idle timeout" if deadline == last_heard + self.idle_timeout
                              else "access token expired")
                    return
                try:
                    async with asyncio.timeout(timeout):
                        data = await reader.read(65536)
                except TimeoutError:
                    continue
                if not data:
                    protocol.receive_eof()
                    return
                protocol.receive_data(data)
                for event in protocol.events_received():
                    if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        last_heard = time.monotonic()
                        self._on_text(sub, event.data.decode("utf-8", "replace"))
                sub._flush()
                await writer.drain()
                if protocol.close_expected():
                    return
        except (ConnectionError, OSError):
            pass
        finally:
            sub.closed.set()
            if sub in self.subscribers:
                self.subscribers.remove(sub)
            if not writer.is_closing():
                writer.close()

    def _on_text(self, sub: Subscriber, text: str) -> None:
        sub.received.append(text)
        if text.strip() == "heartbeat":
            sub.heartbeats += 1
            sub.send_text("heartbeat response")
            return
        data = _json_body(text.encode())
        if isinstance(data, dict) and isinstance(data.get("topic_list"), list):
            if not self.token_valid(sub.token):
                sub.send_text(json.dumps(_err(BAD_TOKEN)))
                sub.close(1008, "invalid token")
                return
            sub.topics = {int(t) for t in data["topic_list"] if str(t).strip().isdigit()}
            sub.subscribed = True
            if self.ack_style == "type10000":
                sub.send_text(json.dumps({"type": 10000, "sn": self.model.sn, "msg": "subscribe success"}))
            else:
                sub.send_text(json.dumps({"errcode": 0, "errmsg": "SUCCESS"}))
            return
        sub.send_text(json.dumps(_err(BAD_REQUEST)))


def _http(status: int, payload: dict[str, Any], *, close: bool = False) -> bytes:
    data = json.dumps(payload).encode()
    return (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n").encode() + data


def _err(code: tuple[int, str]) -> dict[str, Any]:
    return {"errcode": code[0], "errmsg": code[1]}


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


async def _serve(args: argparse.Namespace) -> int:
    sim = PbxSimulator(port=args.port, client_id=args.client_id, client_secret=args.client_secret,
                       speed=args.speed)
    url = await sim.start()
    print(url, flush=True)
    print(f"Client ID: {sim.client_id}  Client Secret: {sim.client_secret}  "
          f"websocket: {url.replace('http', 'ws', 1)}{API}/subscribe", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        if args.script:
            text = read_replay_text(Path(args.script), args.script)  # located error: unreadable, not UTF-8
            expand_script(text, source=args.script)     # report script errors before anyone connects
            if args.wait_for_client:
                print("waiting for a client to subscribe...", flush=True)
                while not any(s.subscribed for s in sim.subscribers) and not stop.is_set():
                    await asyncio.sleep(0.05)
            player = asyncio.create_task(sim.run_script(text, source=args.script))
        elif args.demo:
            player = asyncio.create_task(sim.demo_traffic(args.seed))
        else:
            player = None
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([t for t in (player, waiter) if t], return_when=asyncio.FIRST_COMPLETED)
        if player is not None and player.done() and player.exception():
            print(player.exception(), file=sys.stderr)
            return 2
        if player is not None and player.done() and not args.linger:
            await asyncio.sleep(0.2)
            return 0
        await waiter
        return 0
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.pbx.simulator [--script FILE | --demo] [--port N]``"""
    from engine.errors import LocatedError

    parser = argparse.ArgumentParser(prog="python -m engine.pbx.simulator",
                                     description="Run a pretend Yeastar PBX (Open API) on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: a free one)")
    parser.add_argument("--script", metavar="FILE", help="play this call script (see docs/replay.md)")
    parser.add_argument("--demo", action="store_true", help="play random demo calls until interrupted")
    parser.add_argument("--seed", type=int, default=None, help="seed for --demo")
    parser.add_argument("--speed", type=float, default=1.0, help="script speed factor (0: no waiting)")
    parser.add_argument("--wait-for-client", action="store_true", help="start the script when a client subscribed")
    parser.add_argument("--linger", action="store_true", help="keep serving after the script ended")
    parser.add_argument("--client-id", default="deskline-demo")
    parser.add_argument("--client-secret", default="demo-secret")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"argument --port: a port is 0-65535, got {args.port}")
    if not 0 <= args.speed < float("inf"):
        parser.error(f"argument --speed: must be a number >= 0, got {args.speed!r}")
    try:
        return asyncio.run(_serve(args))
    except LocatedError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
