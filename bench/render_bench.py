"""Render throughput of the seed's call-journal body: deskline vs an equivalent compiled jinja2 template.

Both templates are compiled once; the loop measures rendering only, in the same
process and run.  jinja2 renders without autoescape, and its ``TimeFormat`` is
the very same Python function as deskline's, so the ratio compares the template
engines.  deskline is measured twice: in ``text`` context (the same work as
jinja2) and in ``json`` context (with JSON escaping of every value, which
jinja2 does not do).  Prints renders/s and deskline/jinja2 ratios (target >= 1.0).

Usage: ``python bench/render_bench.py [--seconds 1.0] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jinja2  # noqa: E402  (bench extra)

from engine.expr import compile_template  # noqa: E402
from engine.expr.functions import time_format  # noqa: E402

# The call-journal request body (CallJournal/Request[LogCall] Data), single-quoted layout as in the seed.
JOURNAL_BODY = (
    '{"ticket_id": "{{.TicketId}}", "contact_id": "{{.ContactId}}", "owner": "{{.Owner}}", '
    '"subject": "{{.Subject}}", "description": "{{.Description}}", "from": "{{.Call_From}}", '
    '"to": "{{.Call_To}}", "direction": "{{.Communication_Type}}", "status": "{{.Call_Status}}", '
    '"duration": {{.Talk_Duration_Sec}}, "ring": {{.Ring_Duration_Sec}}, '
    '"start": "{{TimeFormat .StartTimeUnix \'yyyy-MM-ddTHH:mm:ssXXX\' \'1\'}}"}'
)
JINJA_BODY = (
    '{"ticket_id": "{{TicketId}}", "contact_id": "{{ContactId}}", "owner": "{{Owner}}", '
    '"subject": "{{Subject}}", "description": "{{Description}}", "from": "{{Call_From}}", '
    '"to": "{{Call_To}}", "direction": "{{Communication_Type}}", "status": "{{Call_Status}}", '
    '"duration": {{Talk_Duration_Sec}}, "ring": {{Ring_Duration_Sec}}, '
    '"start": "{{TimeFormat(StartTimeUnix, \'yyyy-MM-ddTHH:mm:ssXXX\', \'1\')}}"}'
)
VARS = {
    "TicketId": "4711", "ContactId": "c-1029", "Owner": "7", "Subject": "Inbound call from Ann Smith",
    "Description": "Answered by 101 (Bob); talked 0:03:25", "Call_From": "+4930123456",
    "Call_To": "101", "Communication_Type": "Inbound", "Call_Status": "Answered",
    "Talk_Duration_Sec": 205, "Ring_Duration_Sec": 7, "StartTimeUnix": 1672531199,
}


def throughput(fn, seconds: float, repeat: int) -> float:
    """Best renders/second over *repeat* timed runs of about *seconds* each."""
    n = 1
    while True:  # calibrate
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 > 0.05:
            break
        n *= 2
    best = 0.0
    for _ in range(repeat):
        loops = max(1, int(n * seconds / 0.05))
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        best = max(best, loops / (time.perf_counter() - t0))
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    tpl = compile_template(JOURNAL_BODY, "journal")
    env = jinja2.Environment(autoescape=False)
    env.globals["TimeFormat"] = time_format
    jtpl = env.from_string(JINJA_BODY)

    ours, theirs = tpl.render(VARS, context="text"), jtpl.render(VARS)
    if ours != theirs:
        print(f"outputs differ:\n  deskline {ours}\n  jinja2   {theirs}", file=sys.stderr)
        return 1
    data = VARS
    j = throughput(lambda: jtpl.render(data), args.seconds, args.repeat)
    t = throughput(lambda: tpl.render(data, context="text"), args.seconds, args.repeat)
    js = throughput(lambda: tpl.render(data, context="json"), args.seconds, args.repeat)
    print(f"python {sys.version.split()[0]}, jinja2 {jinja2.__version__}")
    print(f"jinja2 (compiled, no autoescape)   {j:10.0f} renders/s")
    print(f"deskline, text context             {t:10.0f} renders/s   ratio {t / j:.2f}x")
    print(f"deskline, json context (escaping)  {js:10.0f} renders/s   ratio {js / j:.2f}x")
    print("target: text-context ratio >= 1.00x:", "MET" if t / j >= 1.0 else "NOT MET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
