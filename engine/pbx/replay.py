"""Print what a replay file or call script does: ``python -m engine.pbx.replay FILE``.

Each PBX event is printed with the call facts the state machine derives from it
(``--facts`` prints only the facts, ``--events`` only the events). ``--speed`` keeps the
recorded timing (default 0: as fast as possible). Exit status 2 when the file has an error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone

from engine.errors import LocatedError
from engine.pbx.calls import (
    CallAnswered, CallCompleted, CallEnded, CallFact, CallMissed, CallRinging, CallTracker, LateCdr,
)
from engine.pbx.events import (
    CallEvent, CallFailed, CallForwarded, CallStatusChanged, ExtensionStatusChanged,
    InboundCallInvitation, NewCdr, UaCstaCall, UnknownEvent,
)
from engine.pbx.source import FRAME_ERROR, PbxEventSource, ReplaySource, SourceStatus


def describe_event(event: CallEvent) -> str:
    """One line for a PBX event, e.g. ``30011 call 1651057476.362: inbound +4930.. ALERT, 2002 RING``."""
    if isinstance(event, (CallStatusChanged, CallForwarded, CallFailed, InboundCallInvitation)):
        parts = []
        for m in event.members:
            who = m.number if m.kind == "extension" else f"{m.kind} {m.from_number}->{m.to_number}"
            parts.append(f"{who} {m.status}" + (f" via {m.call_path}" if m.call_path else ""))
        reason = f" ({event.reason})" if isinstance(event, CallFailed) and event.reason else ""
        return f"{event.type} call {event.call_id}{reason}: {', '.join(parts) or 'no members'}"
    if isinstance(event, NewCdr):
        return (f"{event.type} CDR {event.call_id}: {event.call_type} {event.call_from} -> {event.call_to} "
                f"{event.status}, {event.call_duration}s (talk {event.talk_duration}s)"
                + (f", recording {event.recording}" if event.recording else ""))
    if isinstance(event, ExtensionStatusChanged):
        return f"{event.type} extension {event.extension} {event.status}"
    if isinstance(event, UaCstaCall):
        return f"{event.type} uaCSTA {event.operation} extension {event.extension} call {event.call_id}"
    if isinstance(event, UnknownEvent):
        return f"{event.type} (not interpreted)"
    return repr(event)


def describe_fact(fact: CallFact) -> str:
    """One line for a call fact, e.g. ``ringing inbound +4930123456 -> 2002 on 2002``."""
    if isinstance(fact, CallRinging):
        via = f" via {fact.via}" if fact.via else ""
        again = "" if fact.first else " (again)"
        return (f"ringing{again} {fact.direction} {fact.caller} -> {fact.callee}{via} "
                f"on {','.join(fact.extensions)}")
    if isinstance(fact, CallAnswered):
        stopped = f" (stopped ringing: {','.join(fact.stopped_ringing)})" if fact.stopped_ringing else ""
        return f"answered by {fact.extension}{stopped}"
    if isinstance(fact, CallMissed):
        rang = ",".join(fact.call.rang) or "nobody"
        via = f" via {fact.call.via}" if fact.call.via else ""
        return f"missed {fact.call.caller} -> {fact.call.callee}{via} (rang {rang})"
    if isinstance(fact, CallEnded):
        return f"ended after {fact.duration:.0f}s" + (f" ({fact.call.failure})" if fact.call.failure else "")
    if isinstance(fact, CallCompleted):
        if fact.cdr is None:
            return "completed without CDR"
        return f"completed: CDR {fact.cdr.status}, talk {fact.cdr.talk_duration}s"
    if isinstance(fact, LateCdr):
        return f"late CDR {fact.cdr.status}"
    return repr(fact)


async def print_source(source: PbxEventSource, *, out: Callable[[str], None] = print, events: bool = True,
                       facts: bool = True, tracker: CallTracker | None = None) -> int:
    """Print the items of a source (and the facts derived from them); returns the number of frame errors."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    def elapsed() -> float:        # replay time when the source has one, else wall time
        position = getattr(source, "position", None)
        return position if isinstance(position, (int, float)) else loop.time() - t0

    tracker = tracker or CallTracker(clock=lambda: start + timedelta(seconds=elapsed()))
    errors = 0
    iterator: AsyncIterator = aiter(source)
    async for item in iterator:
        stamp = f"{elapsed():7.2f}s"
        if isinstance(item, SourceStatus):
            if item.state == FRAME_ERROR:
                errors += 1
                out(f"{stamp}  error   {item.detail}")
            elif events:
                out(f"{stamp}  {item.state}: {item.detail}")
            continue
        if events:
            out(f"{stamp}  event   {describe_event(item)}")
        if facts:
            for fact in tracker.feed(item):
                out(f"{stamp}  call    {fact.call_id}  {describe_fact(fact)}")
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.pbx.replay", description=__doc__.splitlines()[0])
    parser.add_argument("file", metavar="FILE", help="replay file (JSON Lines) or call script")
    parser.add_argument("--speed", type=float, default=0.0, help="1: recorded timing, 0: no waiting (default)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--facts", action="store_true", help="print only the call facts")
    group.add_argument("--events", action="store_true", help="print only the PBX events")
    args = parser.parse_args(argv)
    if not 0 <= args.speed < float("inf"):
        parser.error(f"argument --speed: must be a number >= 0, got {args.speed!r}")
    source = ReplaySource(args.file, speed=args.speed)
    try:
        source.frames()            # report file errors before printing anything
        errors = asyncio.run(print_source(source, events=not args.facts, facts=not args.events))
    except LocatedError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
