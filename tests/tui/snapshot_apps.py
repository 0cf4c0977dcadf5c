"""Hermetic app builders for snapshot tests (fixed theme, no animation, fake engine, fixed clock)."""

from tests.tui.fake_engine import FakeEngine, fixed_clock
from tui.app import AppOptions, make_app


def pinned(**options) -> AppOptions:
    return AppOptions(theme="deskline-dark", animation_level="none", notification_timeout=60, **options)


def console(engine=None):
    return make_app(pinned(), engine=engine or FakeEngine(), clock=fixed_clock)


app = make_app(pinned())
