"""The ``deskline`` command line.

Kept import-light on purpose: the parser is built from the standard library
only and every subcommand's implementation is imported when it runs, so
``deskline --help`` stays well under 0.3 s.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from engine import __version__

# subcommand -> "module:function" implementing it (imported lazily)
_HANDLERS = {
    "console": "tui.commands.console:run",
    "demo": "tui.commands.console:run_demo",
    "template": "tui.commands.template:run",
    "gjson": "tui.commands.gjson:run",
    "render": "tui.commands.render:run",
    "try": "tui.commands.try_scenario:run",
    "events": "tui.commands.events:run",
    "simulate": "tui.commands.simulate:run",
    "config": "tui.commands.config:run",
    "history": "tui.commands.history:run",
    "outbox": "tui.commands.outbox:run",
}

# engine.expr.CONTEXTS, repeated here so that --help does not import the engine
RENDER_CONTEXTS = ("text", "json", "url", "header", "form", "gjson")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskline",
        description="Connect a Yeastar P-Series PBX to a helpdesk, from the terminal.",
        epilog="Run 'deskline demo' to see calls and contact cards against a built-in helpdesk.",
    )
    parser.add_argument("--version", action="version", version=f"deskline {__version__}")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: the user config dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("console", help="start the console (the default)")
    demo = sub.add_parser("demo", help="start the console with a built-in demo helpdesk and PBX simulator")
    demo.add_argument("--headless", action="store_true", help="run the demo without the console and print events")
    demo.add_argument("--speed", type=float, metavar="X",
                      help="play the demo calls X times faster (default: 1 in the console, 4 headless)")

    tpl = sub.add_parser("template", help="lint, show and manage integration templates")
    tsub = tpl.add_subparsers(dest="template_command", metavar="ACTION", required=True)
    lint = tsub.add_parser("lint", help="check template files and report located errors and warnings")
    lint.add_argument("files", nargs="+", metavar="FILE")
    lint.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    lint.add_argument("--json", action="store_true", help="print the findings as JSON")
    show = tsub.add_parser("show", help="print a readable summary of every section of a template")
    show.add_argument("file", metavar="FILE")
    tsub.add_parser("list", help="list the templates in the store")
    imp = tsub.add_parser("import", help="import a template (XML file or folder with its logo) into the store")
    imp.add_argument("path", metavar="PATH")
    imp.add_argument("--name", help="store it under this name instead of its Key")
    exp = tsub.add_parser("export", help="export a stored template to a folder")
    exp.add_argument("name", metavar="NAME")
    exp.add_argument("dest", metavar="DEST")
    dup = tsub.add_parser("duplicate", help="copy a stored template under a new name")
    dup.add_argument("name", metavar="NAME")
    dup.add_argument("new_name", metavar="NEW_NAME")
    dele = tsub.add_parser("delete", help="delete a stored template")
    dele.add_argument("name", metavar="NAME")

    gj = sub.add_parser("gjson", help="evaluate a GJSON path on a JSON document (stdin if no file)")
    gj.add_argument("path", metavar="PATH")
    gj.add_argument("file", nargs="?", metavar="FILE")
    gj.add_argument("--raw", action="store_true", help="print the raw JSON text of the result")
    gj.add_argument("--json", action="store_true", help="print string, raw, exists and type as JSON")

    rd = sub.add_parser("render", help="render a Go text/template expression the way the PBX does")
    rd.add_argument("template", metavar="TEMPLATE_TEXT_OR_FILE")
    rd.add_argument("--vars", metavar="FILE", help="JSON object with the variables")
    rd.add_argument("--context", choices=RENDER_CONTEXTS, default="text",
                    help="where the result goes, which decides how values are escaped (default: text)")

    tr = sub.add_parser("try", help="run one scenario of a template and print the trace")
    tr.add_argument("scenario", metavar="SCENARIO")
    tr.add_argument("--template", required=True, metavar="T", help="template file or stored template name")
    tr.add_argument("--phone", metavar="N", help="phone number for contact search")
    tr.add_argument("--dry-run", action="store_true", help="render the requests but send nothing")

    ev = sub.add_parser("events", help="replay a recorded events file (JSON Lines) or a call script and print "
                                       "the PBX events and call facts")
    ev.add_argument("file", metavar="FILE")
    ev.add_argument("--speed", type=float, default=0.0, metavar="S",
                    help="1: the recorded timing, 2: twice as fast, 0: no waiting (default)")
    only = ev.add_mutually_exclusive_group()
    only.add_argument("--facts", action="store_true", help="print only the call facts (what the console acts on)")
    only.add_argument("--events", action="store_true", help="print only the PBX events")

    sim = sub.add_parser("simulate", help="run a pretend Yeastar PBX (Open API) on 127.0.0.1 and print its URL "
                                          "and credentials")
    play = sim.add_mutually_exclusive_group()
    play.add_argument("--script", metavar="FILE", help="play this call script (see docs/replay.md)")
    play.add_argument("--demo", action="store_true", help="play random demo calls until interrupted")
    sim.add_argument("--seed", type=int, metavar="N", help="seed of the --demo calls")
    sim.add_argument("--port", type=int, default=0, metavar="P", help="TCP port (default: a free one)")
    sim.add_argument("--speed", type=float, default=1.0, metavar="S", help="script speed factor (0: no waiting)")
    sim.add_argument("--wait-for-client", action="store_true", help="start the script when a client subscribed")
    sim.add_argument("--linger", action="store_true", help="keep serving after the script ended")

    cfg = sub.add_parser("config", help="show, locate, initialise and change the configuration")
    csub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    csub.add_parser("locate", help="print where deskline reads and writes its files")
    cshow = csub.add_parser("show", help="print every effective setting and where it came from (secrets hidden)")
    cshow.add_argument("--changed", action="store_true", help="only the settings that are not at their default")
    cset = csub.add_parser("set", help="change one setting in the config file (secrets go to secrets.toml)")
    cset.add_argument("key", metavar="KEY", help="section.name, e.g. http.read_timeout")
    cset.add_argument("value", metavar="VALUE", help="the value as TOML (8, true, \"text\", [\"a\", \"b\"]) or text")
    csub.add_parser("init", help="write a commented default config file (never overwrites one)")

    hist = sub.add_parser("history", help="list, search and export the call history")
    hist.add_argument("--limit", type=int, default=50, metavar="N",
                      help="list the newest N calls (default 50; 0: all); --export writes every matching call")
    hist.add_argument("--search", metavar="TEXT", help="only calls whose number or contact matches TEXT")
    hist.add_argument("--missed", action="store_true", help="only missed calls")
    hist.add_argument("--export", metavar="FILE", help="write the calls to FILE instead (secrets masked)")
    hist.add_argument("--format", choices=("csv", "json"), metavar="csv|json",
                      help="export format (default: from the file name, else csv)")

    box = sub.add_parser("outbox", help="call journals and tickets that could not be written: list, retry, "
                                        "mark done, drop")
    bsub = box.add_subparsers(dest="outbox_command", metavar="ACTION")
    blist = bsub.add_parser("list", help="items needing attention (the default)")
    blist.add_argument("--all", action="store_true", help="every item that is not written yet, and the written ones")
    for action, text in (("retry", "send it again now, with a fresh attempt budget"),
                         ("done", "it is in the helpdesk already: never send it"),
                         ("drop", "do not write it")):
        one = bsub.add_parser(action, help=text)
        one.add_argument("item", type=int, metavar="ID")
        if action != "retry":
            one.add_argument("--note", default="", help="why (kept with the item's attempts)")
    return parser


def _resolve(spec: str):
    module_name, _, func = spec.partition(":")
    return getattr(importlib.import_module(module_name), func)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "console"
    handler = _resolve(_HANDLERS[command])
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception:  # a bug: say so, with a traceback that holds no secret
        return _report_bug(command)


def _report_bug(command: str) -> int:
    """Print an unexpected error as a redacted traceback and ask for a report (exit 1)."""
    import traceback

    from engine.errors import LocatedError
    from engine.http.redaction import redact_text

    exc = sys.exc_info()[1]
    if isinstance(exc, LocatedError):  # a located error no command caught: still the user's input
        from tui.commands.problems import report

        return report(exc)
    sys.stderr.write(redact_text(traceback.format_exc()))
    sys.stderr.write(f"deskline {__version__}: internal error in '{command}' (a bug, not your input); "
                     "please report it with the lines above\n")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
