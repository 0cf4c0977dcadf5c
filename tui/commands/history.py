"""``deskline history [--limit N] [--search TEXT] [--missed] [--export FILE [--format csv|json]]``.

Lists the newest calls of the store (``[store] path``, else the data dir),
or writes them to a CSV or JSON file.  The export masks every secret the
configuration knows (client secret, password and token fields of the
template's field values) as well as payload keys and URL parameters that
name a secret; an export that cannot learn the secrets is refused rather
than written unmasked.  A missing store is an empty history, not an error.
"""

from __future__ import annotations

import sys
from datetime import datetime


def run(args) -> int:
    import asyncio

    from engine.errors import LocatedError
    from tui.commands.config import load
    from tui.commands.problems import refuse, report

    if args.limit < 0:
        return refuse("--limit", f"the number of calls is 0 (all) or more, not {args.limit}")
    if args.format and not args.export:
        return refuse("--format", "chooses the format of --export FILE; add --export")
    try:
        config = load(args)
        if args.export:
            return asyncio.run(_export(args, config))
        return asyncio.run(_list(args, config))
    except LocatedError as exc:
        return report(exc)


def _filter(args):
    from engine.store import HistoryFilter

    return HistoryFilter(text=args.search or "", missed=args.missed)


async def _list(args, config) -> int:
    from engine.store import Store

    path = config.store_path
    if not path.exists():
        print(f"no calls yet ({path} does not exist)", file=sys.stderr)
        return 0
    async with Store(path) as store:
        calls = await store.history(args.limit or None, _filter(args))
        total = await store.count_calls(_filter(args))
    for call in calls:
        print(describe_call(call))
    shown = f"{len(calls)} of {total}" if len(calls) < total else f"{total}"
    print(f"{shown} call(s){' matching' if args.search or args.missed else ''}, in {path}", file=sys.stderr)
    return 0


def describe_call(call) -> str:
    """One line per call: when, direction, who to whom, how it ended, the contact."""
    when = datetime.fromtimestamp(call.started_at).strftime("%Y-%m-%d %H:%M:%S") if call.started_at else "?" * 19
    direction = {"Inbound": "in ", "Outbound": "out", "Internal": "int"}.get(call.direction or "", "?  ")
    parties = f"{call.caller_number or '?'} -> {call.callee_number or '?'}"
    ext = f" ext {call.extension}" if call.extension else ""
    status = call.status or "ongoing"
    talk = f" {call.talk_seconds}s" if call.talk_seconds else ""
    contact = f"  {call.contact_name or call.contact_id}" if (call.contact_name or call.contact_id) else ""
    return f"{when}  {direction}  {parties:34}{ext:9}  {status}{talk}{contact}"


def export_secrets(config) -> list[str]:
    """Every secret value the configuration knows: the PBX client secret and the credential field values."""
    from engine.config import SECRET_FIELD

    secrets = list(config.secrets())
    secrets += [v for k, v in config.field_values().items() if v and SECRET_FIELD.search(k)]
    return secrets


async def _export(args, config) -> int:
    from pathlib import Path

    from engine.store import Store

    dest = Path(args.export)
    fmt = args.format or ("json" if dest.suffix.lower() == ".json" else "csv")
    secrets = export_secrets(config)  # before the store: no secrets known, no export
    path = config.store_path
    if not path.exists():
        print(f"no calls yet ({path} does not exist); nothing exported", file=sys.stderr)
        return 0
    async with Store(path) as store:
        count = await store.export(dest, fmt, filter=_filter(args), secrets=secrets)
    print(f"wrote {count} call(s) to {dest} ({fmt}, secrets masked)")
    return 0
