"""The console never renders a secret: a real demo session through Pilot, every pane and every trace."""

from __future__ import annotations

import asyncio

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
