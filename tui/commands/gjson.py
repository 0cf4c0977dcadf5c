"""``deskline gjson PATH [FILE]``: evaluate a GJSON path the way the PBX does.

Reads the JSON document from FILE, or from standard input when no file is
given.  Prints the result's string (Go's ``Result.String()``); ``--raw``
prints its raw JSON text and ``--json`` prints string, raw, exists and type
as one JSON object.  Exit status: 0 when the path matched, 1 when it did not
(so scripts can test for it), 2 for a usage or file error.
"""

from __future__ import annotations

import json
import sys


def run(args) -> int:
    from engine.paths import gjson

    if args.file and args.file != "-":
        try:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            print(f"deskline gjson: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        except UnicodeDecodeError as exc:
            print(f"deskline gjson: {args.file} is not UTF-8 text (byte {exc.start}): {exc.reason}",
                  file=sys.stderr)
            return 2
    else:
        text = sys.stdin.read()
    for problem in gjson.path_problems(args.path):
        print(f"deskline gjson: path col {problem.col}: {problem.message}", file=sys.stderr)
    res = gjson.parse(text).get(args.path)
    if args.json:
        out = json.dumps({"string": res.string, "raw": res.raw, "exists": res.exists, "type": res.type},
                         ensure_ascii=False)
    elif args.raw:
        out = res.raw
    else:
        out = res.string
    sys.stdout.write(out + "\n")
    return 0 if res.exists else 1
