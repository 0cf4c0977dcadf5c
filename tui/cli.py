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
}


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
    rd.add_argument("--context", choices=("json", "url", "text"), default="text",
                    help="where the result goes, which decides how values are escaped (default: text)")

    tr = sub.add_parser("try", help="run one scenario of a template and print the trace")
    tr.add_argument("scenario", metavar="SCENARIO")
    tr.add_argument("--template", required=True, metavar="T", help="template file or stored template name")
    tr.add_argument("--phone", metavar="N", help="phone number for contact search")
    tr.add_argument("--dry-run", action="store_true", help="render the requests but send nothing")
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
