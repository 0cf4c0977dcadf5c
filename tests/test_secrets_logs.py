"""No secret reaches Python logging: a whole demo session with every logger at DEBUG."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest

from engine.console import Engine


class _Capture(logging.Handler):
    """Formats every record the way a real handler would (msg % args, exceptions included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs():
    """Every logger at DEBUG, captured at the root (records propagate from child loggers)."""
    root = logging.getLogger()
    handler = _Capture()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    touched = []
    for name in ("httpx", "httpcore", "websockets", "deskline", "engine", "asyncio"):
        logger = logging.getLogger(name)
        touched.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for logger, level in touched:
            logger.setLevel(level)


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return sorted({s for s in secrets if s and s in text})


async def test_demo_session_logs_no_secret(debug_logs):
    engine = await Engine.demo(speed=50.0)
    helpdesk, simulator = engine.demo_helpdesk, engine.demo_pbx
    try:
        await engine.start_demo()
        async with asyncio.timeout(60):
            await engine.demo_done.wait()
            await engine.idle(timeout=30)
    finally:
        await engine.stop()
    text = "\n".join(debug_logs.lines)
    assert "HTTP Request" in text                      # httpx logged its requests: the net was cast
    assert "get_token" in text
    assert simulator.issued_tokens                    # the PBX handed out tokens we now look for
    secrets = [helpdesk.options.api_token, simulator.client_secret, *simulator.issued_tokens]
    assert _leaks(text, secrets) == []


# -- the one log-redaction mechanism ---------------------------------------------------------

import httpx  # noqa: E402

from engine.http import HelpdeskHttp, SecretRegistry  # noqa: E402
from engine.http.redaction import redact_text, register_secrets  # noqa: E402

SECRET = "s3cr3t-Valu3-0123456789"


@pytest.mark.parametrize("name", ["httpcore.http11", "httpcore.connection", "websockets.client",
                                  "deskline.http", "deskline.pbx", "engine.outbox", "httpx"])
def test_child_loggers_are_redacted(debug_logs, name):
    """Logger filters do not apply to records of child loggers: each writing logger has the filter."""
    registry = register_secrets(SecretRegistry([SECRET]))
    logging.getLogger(name).debug("response_headers=%r", [(b"Set-Cookie", f"sid={SECRET}".encode())])
    assert registry  # alive while the record is written
    assert SECRET not in "\n".join(debug_logs.lines)
    assert debug_logs.lines and "***" in debug_logs.lines[-1]


def test_exception_text_in_a_record_is_redacted(debug_logs):
    registry = register_secrets(SecretRegistry([SECRET]))
    try:
        raise httpx.ConnectError(f"cannot reach http://helpdesk.test/api?key={SECRET}")
    except httpx.ConnectError:
        logging.getLogger("deskline.http").exception("send failed")
    assert registry
    text = "\n".join(debug_logs.lines)
    assert "Traceback" in text and "ConnectError" in text
    assert SECRET not in text


def test_secret_named_pairs_and_url_credentials_are_redacted_without_registration():
    text = redact_text('GET http://u:pw-0000@h.test/x?access_token=abc123&page=2 {"refresh_token": "zz99", '
                       '"token_type": "Bearer", "client_secret": "cs-1"} code=auth-code-1 errcode=0')
    for secret in ("pw-0000", "abc123", "zz99", "cs-1", "auth-code-1"):
        assert secret not in text
    assert "page=2" in text and '"token_type": "Bearer"' in text and "errcode=0" in text


async def test_httpx_request_log_hides_query_secrets(debug_logs):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    http = HelpdeskHttp(secrets=SecretRegistry([SECRET]), transport=httpx.MockTransport(answer))
    try:
        request = http.client.build_request("GET", f"http://helpdesk.test/api?q={SECRET}&apikey=plain-key-77")
        exchange = await http.send(request)
    finally:
        await http.aclose()
    assert exchange.ok
    text = "\n".join(debug_logs.lines)
    assert "HTTP Request: GET http://helpdesk.test/api" in text
    assert SECRET not in text and "plain-key-77" not in text


async def test_transport_error_messages_hide_secrets(debug_logs):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach http://agent:pw-9988@helpdesk.test/api?access_token=tok-5566 "
                                 f"({SECRET})", request=request)

    http = HelpdeskHttp(secrets=SecretRegistry([SECRET]), transport=httpx.MockTransport(refuse))
    try:
        exchange = await http.send(http.client.build_request("GET", "http://helpdesk.test/api"))
    finally:
        await http.aclose()
    assert exchange.error.startswith("cannot connect")
    shown = exchange.error + exchange.trace.error + exchange.trace.summary() + "\n".join(debug_logs.lines)
    for secret in (SECRET, "pw-9988", "tok-5566"):
        assert secret not in shown


def test_every_engine_logger_carries_the_redaction_filter():
    """A new logger in engine/ must be a redacted one: records of child loggers skip their parents' filters."""
    import importlib
    import pkgutil
    import re as _re

    import engine
    from engine.http.redaction import LOG_REDACTION
    from tests.conftest import REPO

    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    names = set()
    for path in (REPO / "engine").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        names |= set(_re.findall(r"""(?:getLogger|redacted_logger)\(\s*["']([\w.]+)["']""", text))
        if _re.search(r"getLogger\(__name__\)", text):
            names.add(module)
    assert "deskline.http" in names and "engine.outbox" in names
    missing = sorted(n for n in names if LOG_REDACTION not in logging.getLogger(n).filters)
    assert missing == []


async def test_headless_demo_output_and_logs_hold_no_secret(debug_logs, monkeypatch):
    """``deskline demo --headless`` prints facts; neither they nor the logs show a credential."""
    from tui.commands.console import headless_demo

    engines = []
    original = Engine.demo.__func__

    async def demo(cls, **kw):
        engines.append(await original(cls, **kw))
        return engines[-1]

    monkeypatch.setattr(Engine, "demo", classmethod(demo))
    out = io.StringIO()
    assert await headless_demo(out, speed=0) == 0, out.getvalue()
    [engine] = engines
    secrets = [engine.demo_helpdesk.options.api_token, engine.demo_pbx.client_secret, *engine.demo_pbx.issued_tokens]
    assert engine.demo_pbx.issued_tokens and "done: 4 calls" in out.getvalue()
    assert _leaks(out.getvalue() + "\n".join(debug_logs.lines), secrets) == []


async def test_history_export_masks_the_engines_secrets(tmp_path):
    """Engine.export_history hands every live secret (helpdesk and PBX) to the store's export."""
    engine = await Engine.demo(speed=0, store_path=tmp_path / "demo.sqlite3")
    try:
        await engine.start_demo()
        async with asyncio.timeout(60):
            await engine.demo_done.wait()
            await engine.idle(timeout=30)
        [call, *_] = await engine.history(10)
        token, pbx_token = engine.demo_helpdesk.options.api_token, engine.demo_pbx.issued_tokens[-2]
        await engine.outbox.enqueue(call.call_id, "CallJournal", {"note": f"{token} / {pbx_token}"},
                                    request="leak-check")
        written = await engine.export_history(tmp_path / "history.json", "json")
    finally:
        await engine.stop()
    text = (tmp_path / "history.json").read_text(encoding="utf-8")
    assert written >= 4 and "leak-check" in text
    assert token not in text and pbx_token not in text
