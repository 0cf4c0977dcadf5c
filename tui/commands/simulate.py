"""``deskline simulate [--script FILE | --demo [--seed N]] [--port P]``.

Runs the PBX simulator (a pretend Yeastar P-Series Open API, HTTP and
websocket on one port of 127.0.0.1) until Ctrl-C or, with ``--script``, until
the script has played.  The first lines printed are its URL and the client
id and secret to connect with, so a script or a second terminal can use them.
A script is checked before the server starts: its errors are located
(``calls.script:2:1: ...``) and exit with status 2.
"""

from __future__ import annotations


def run(args) -> int:
    import math

    from engine.errors import LocatedError, Location
    from tui.commands.problems import refuse, report

    if not 0 <= args.port <= 65535:
        return refuse("--port", f"a TCP port is 0 (any free one) to 65535, not {args.port}")
    if not (math.isfinite(args.speed) and args.speed >= 0):
        return refuse("--speed", f"the speed is a number, 0 (no waiting) or more, not {args.speed:g}")
    if args.seed is not None and not args.demo:
        return refuse("--seed", "--seed chooses the --demo calls; add --demo")
    argv = ["--port", str(args.port), "--speed", repr(args.speed)]
    if args.script:
        from engine.pbx.script import expand_script
        from tui.commands.render import _decode

        try:
            with open(args.script, "rb") as fh:
                text = _decode(fh.read(), args.script)
            expand_script(text, source=args.script)
        except LocatedError as exc:
            return report(exc)
        except OSError as exc:
            return refuse(Location(file=args.script), f"cannot read the script: {exc.strerror or exc}")
        argv += ["--script", args.script]
    if args.demo:
        argv.append("--demo")
        if args.seed is not None:
            argv += ["--seed", str(args.seed)]
    if args.wait_for_client:
        argv.append("--wait-for-client")
    if args.linger:
        argv.append("--linger")

    from engine.pbx.simulator import main

    return main(argv)
