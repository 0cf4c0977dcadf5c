"""``deskline events FILE [--speed S] [--facts | --events]``.

Replays a recorded JSON Lines file or a call script (docs/replay.md) through
the same code as a live PBX and prints the parsed events and the call facts.
A file that cannot be read stops with a located error (exit 2) before
anything is printed; frames deskline cannot read are printed as errors and
the replay goes on (exit 1).
"""

from __future__ import annotations

import sys


def run(args) -> int:
    import asyncio
    import math

    from engine.errors import LocatedError, Location
    from engine.pbx.replay import print_source
    from engine.pbx.source import ReplaySource
    from tui.commands.problems import refuse, report

    if not (math.isfinite(args.speed) and args.speed >= 0):
        return refuse("--speed", f"the speed is a number, 0 (no waiting) or more, not {args.speed:g}")
    try:
        source = ReplaySource(args.file, speed=args.speed)
        source.frames()  # file errors before anything is printed
        errors = asyncio.run(print_source(source, out=_print, events=not args.facts, facts=not args.events))
    except LocatedError as exc:
        return report(exc)
    except OSError as exc:
        return refuse(Location(file=args.file), f"cannot read the file: {exc.strerror or exc}")
    if errors:
        print(f"{errors} frame(s) could not be read", file=sys.stderr)
    return 1 if errors else 0


def _print(line: str) -> None:
    print(line, flush=True)
