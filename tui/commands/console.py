"""``deskline`` / ``deskline console`` / ``deskline demo``: start the console."""

from __future__ import annotations


def run(args) -> int:
    from tui.app import AppOptions, make_app

    make_app(AppOptions()).run()
    return 0


def run_demo(args) -> int:
    from tui.app import AppOptions, make_app

    make_app(AppOptions(demo=True)).run()
    return 0
