"""Hermetic app builders for snapshot tests (fixed theme, no animation)."""

from tui.app import AppOptions, make_app

app = make_app(AppOptions(theme="deskline-dark", animation_level="none"))
