"""``deskline`` / ``deskline console`` / ``deskline demo [--headless]``: start the console."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO


def run(args) -> int:
    """The console from the configuration; without one, the shell explains how to start."""
    app = console_app(args)
    if isinstance(app, int):
        return app
    app.run()
    return app.return_code or 0


def console_app(args):
    """The app ``deskline console`` runs (or an exit code when the config cannot be read)."""
    from engine.config import ConfigError, load_config
    from engine.errors import LocatedError
    from tui.app import AppOptions, make_app

    engine = None
    problem = ""
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"deskline: {exc}", file=sys.stderr)
        return 2
    if config.helpdesk.template:
        from engine.console import Engine

        try:
            engine = Engine.from_config(config)
        except (LocatedError, OSError, ValueError) as exc:
            problem = str(exc)
    return make_app(AppOptions(theme=config.ui.theme, problem=problem, keymap=dict(config.keymap)), engine=engine)


def run_demo(args) -> int:
    """The built-in demo helpdesk and PBX simulator on loopback, in the console or as text."""
    given = getattr(args, "speed", None)
    if given is not None and not 0 < given < float("inf"):
        print(f"deskline demo: --speed must be a number above 0, got {given!r}", file=sys.stderr)
        return 2
    speed = given or 1.0
    if getattr(args, "headless", False):
        return asyncio.run(headless_demo(sys.stdout, speed=speed if args.speed else 4.0))
    from tui.app import AppOptions, make_app

    app = make_app(AppOptions(demo=True, demo_speed=speed))
    app.run()
    return app.return_code or 0


class FactPrinter:
    """Writes engine facts as one line each, numbering calls in the order they rang."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.calls: dict[str, int] = {}
        self.problems = 0
        self.written = 0

    def number(self, call_id: str) -> str:
        if call_id not in self.calls:
            self.calls[call_id] = len(self.calls) + 1
        return f"call {self.calls[call_id]}"

    def __call__(self, fact) -> None:
        line = self.line(fact)
        if line:
            print(line, file=self.out, flush=True)

    def line(self, fact) -> str:
        from engine import console as c

        match fact:
            case c.ConnectionChanged(state=state, detail=detail):
                return f"pbx      {state}" + (f": {detail}" if detail and state != "subscribed" else "")
            case c.CallRang(call_id=call_id, direction=direction, number=number, extensions=exts, via=via,
                            popup=popup):
                where = ",".join(exts) + (f" via {via}" if via else "")
                arrow = f"{number} -> {where}" if direction != "Outbound" else f"{where} -> {number}"
                return f"{self.number(call_id):8} ringing  {direction.lower()} {arrow}" + ("" if popup else
                                                                                           " (no card: not associated)")
            case c.ContactResolved(call_id=call_id, card=card):
                return f"{self.number(call_id):8} card     {describe_card(card)}"
            case c.CallAnswered(call_id=call_id, extension=extension):
                return f"{self.number(call_id):8} answered by {extension}"
            case c.CallEnded(call_id=call_id, missed=missed):
                return f"{self.number(call_id):8} ended    {'missed' if missed else 'answered'}"
            case c.TicketOpened(call_id=call_id, ticket_id=ticket_id):
                return f"{self.number(call_id):8} ticket   #{ticket_id}"
            case c.JournalQueued(call_id=call_id, scenario=scenario, duplicate=duplicate):
                return f"{self.number(call_id):8} outbox   {scenario} " + ("already queued" if duplicate else "queued")
            case c.JournalWritten(call_id=call_id, scenario=scenario):
                self.written += 1
                return f"{self.number(call_id):8} outbox   {scenario} written"
            case c.JournalFailed(call_id=call_id, scenario=scenario, state=state, error=error):
                return f"{self.number(call_id):8} outbox   {scenario} {state}: {error}"
            case c.EngineProblem(what=what, message=message):
                self.problems += 1
                return f"problem  {what}: {message}"
        return ""


def describe_card(card) -> str:
    """One line for a contact card (the headless demo and the console's notifications)."""
    if card.error:
        return f"{card.number}: search failed: {card.error}"
    if not card.found:
        return f"{card.number}: unknown caller (no contact matched)"
    text = card.name + (f" ({card.company})" if card.company and card.company != card.name else "")
    if len(card.matches) > 1:
        text += f", {len(card.matches)} matches"
    if card.variant:
        text += f", matched {card.variant_number} ({card.variant})"
    if card.popup_url:
        text += f", {card.popup_url}"
    return text


async def headless_demo(out: TextIO, *, speed: float = 4.0, timeout: float = 120.0) -> int:
    """Play the demo calls, print what happens, and return 0 when every call was handled."""
    from engine.console import Engine

    engine = await Engine.demo(speed=speed)
    printer = FactPrinter(out)
    engine.subscribe(printer)
    print(f"deskline demo: helpdesk {engine.demo_helpdesk.base_url}, PBX {engine.demo_pbx.base_url}", file=out)
    try:
        await engine.start_demo()
        async with asyncio.timeout(timeout):
            await engine.demo_done.wait()
            await asyncio.sleep(0.2)
            await engine.idle(timeout=timeout)
        counts = await engine.outbox_counts()
    finally:
        await engine.stop()
    print(f"done: {len(printer.calls)} calls, {printer.written} journal/ticket entries written, "
          f"{counts.needs_operator} need attention, {printer.problems} problems", file=out)
    return 1 if printer.problems or counts.needs_operator else 0
