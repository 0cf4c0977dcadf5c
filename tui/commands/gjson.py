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

    name = args.file if args.file and args.file != "-" else "<stdin>"
    try:
        if name == "<stdin>":
            raw = getattr(sys.stdin, "buffer", None)  # bytes, so a bad byte is our error, not a traceback
            data = raw.read() if raw is not None else sys.stdin.read().encode("utf-8", "surrogatepass")
        else:
            with open(args.file, "rb") as fh:
                data = fh.read()
        text = data.decode("utf-8")
    except OSError as exc:
        print(f"deskline gjson: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"deskline gjson: {name} is not UTF-8 text (byte {exc.start}): {exc.reason}", file=sys.stderr)
        return 2
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
