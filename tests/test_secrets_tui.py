"""The console never renders a secret: a real demo session through Pilot, every pane and every trace."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, Static

from engine.console import Engine
from tui.app import AppOptions, make_app


def _secrets(engine) -> list[str]:
    helpdesk, simulator = engine.demo_helpdesk, engine.demo_pbx
    return [helpdesk.options.api_token, helpdesk.options.basic_password, helpdesk.options.client_secret,
            simulator.client_secret, *simulator.issued_tokens]


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_demo_console_renders_no_secret_in_any_pane_trace_or_curl():
    engine = await Engine.demo(speed=50.0)
    app = make_app(AppOptions(animation_level="none"), engine=engine)
    shown: list[str] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await _settle(pilot)
        async with asyncio.timeout(60):
            await engine.demo_done.wait()
            await engine.idle(timeout=30)
        await _settle(pilot)
        shown.append(app.export_screenshot())
        await pilot.press("f4")
        await _settle(pilot)
        traces = app.screen.query_one("#traces", DataTable)
        assert traces.row_count >= 5        # the demo's searches, journals and tickets were traced
        traces.focus()
        for _ in range(traces.row_count):
            detail = str(app.screen.query_one("#trace-detail", Static).render())
            await pilot.press("y")
            shown += [detail, app.clipboard]
            await pilot.press("down")
            await _settle(pilot)
        assert any("Authorization" in text for text in shown)   # the header is shown, its value is not
        assert any(text.startswith("curl ") for text in shown)
        shown.append(app.export_screenshot())
        await pilot.press("f5")
        await _settle(pilot)
        info = str(app.screen.query_one("#setup-info", Static).render())
        assert "api_token: ********" in info
        shown += [info, app.export_screenshot()]
        await pilot.press("f3")
        await _settle(pilot)
        shown.append(app.export_screenshot())
    secrets = _secrets(engine)
    assert engine.demo_pbx.issued_tokens
    text = "\n".join(shown)
    assert sorted(s for s in secrets if s in text) == []


def test_crash_report_shows_no_locals_and_no_registered_secret():
    from engine.http import SecretRegistry
    from engine.http.redaction import register_secrets

    secret, local_only = "s3cr3t-Valu3-0123456789", "local-only-token-value"
    registry = register_secrets(SecretRegistry([secret]))
    app = make_app(AppOptions(animation_level="none"))

    def send(token: str) -> None:
        also = local_only  # noqa: F841 - a local that Textual's report would print
        raise RuntimeError(f"helpdesk refused {token}")

    try:
        send(secret)
    except RuntimeError:
        report = app.crash_report().plain
    assert registry
    assert "RuntimeError" in report and "helpdesk refused ***" in report and "send" in report
    assert secret not in report and local_only not in report


async def test_a_crash_in_the_running_console_uses_the_redacted_report(monkeypatch):
    from engine.http import SecretRegistry
    from engine.http.redaction import register_secrets

    secret = "s3cr3t-Crash-0123456789"
    registry = register_secrets(SecretRegistry([secret]))
    app = make_app(AppOptions(animation_level="none"))
    reports = []
    original = app.crash_report
    monkeypatch.setattr(app, "crash_report", lambda: reports.append(original()) or reports[-1])

    def boom() -> None:
        token = secret  # noqa: F841
        raise RuntimeError(f"refused {secret}")

    with pytest.raises(RuntimeError):
        async with app.run_test() as pilot:
            app.call_later(boom)                 # fails inside the app's message loop, like a real bug
            await pilot.pause()
    assert registry and reports
    assert "refused ***" in reports[0].plain and secret not in reports[0].plain


def test_committed_snapshots_hold_no_known_secret():
    """The SVG snapshots are published with the repo: none shows a demo or test credential."""
    from engine.demo.helpdesk import DemoOptions
    from engine.pbx.simulator import PbxSimulator
    from tests.conftest import REPO

    options = DemoOptions()
    secrets = [options.api_token, options.basic_password, options.client_secret, PbxSimulator().client_secret,
               "k-secret-value-42", "deskline-demo-secret"]
    svgs = sorted((REPO / "snapshots").rglob("*.svg"))
    assert svgs
    leaks = [(svg.name, s) for svg in svgs for s in secrets if s in svg.read_text(encoding="utf-8")]
    assert leaks == []
