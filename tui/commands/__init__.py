"""Implementations of the ``deskline`` subcommands, one module each.

``tui.cli`` builds the argument parser and imports a module from here only
when its subcommand runs.  Each module exposes ``run(args) -> int``.
"""
