"""``deskline outbox [list [--all] | retry ID | done ID | drop ID]``.

The durable outbox holds the call journals and tickets still to be written
to the helpdesk.  ``list`` shows the items that need the operator (outcome
unknown: ``attention``; given up: ``dead``), with ``--all`` every item.
``retry`` queues one again with a fresh attempt budget (the console's
outbox runner sends it), ``done`` marks it written without sending, ``drop``
gives it up.  An unknown item or one in the wrong state is a located error
(exit 2).  Payloads are never printed: they may hold what the helpdesk
should not lose, but the terminal does not need.
"""

from __future__ import annotations

import sys
from datetime import datetime


def run(args) -> int:
    import asyncio

    from engine.errors import LocatedError
    from tui.commands.config import load
    from tui.commands.problems import report

    action = args.outbox_command or "list"
    try:
        config = load(args)
        if action == "list":
            return asyncio.run(_list(config, every=getattr(args, "all", False)))
        return asyncio.run(_resolve(config, action, args.item, getattr(args, "note", "")))
    except LocatedError as exc:
        return report(exc)


def describe_item(item) -> str:
    """One line per item: id, state, scenario for call, attempts, last error."""
    request = f"/{item.request}" if item.request else ""
    when = datetime.fromtimestamp(item.updated_at).strftime("%Y-%m-%d %H:%M:%S")
    error = f"  {item.last_error}" if item.last_error else ""
    return (f"{item.id:>5}  {item.state.value:9}  {item.scenario}{request} for call {item.call_id}"
            f"  ({item.attempts}/{item.max_attempts} attempts, {when}){error}")


async def _list(config, *, every: bool) -> int:
    from engine.store import ItemState, Store

    path = config.store_path
    if not path.exists():
        print(f"the outbox is empty ({path} does not exist)", file=sys.stderr)
        return 0
    async with Store(path) as store:
        if every:
            items = await store.items()
        else:
            items = await store.items([ItemState.ATTENTION]) + await store.items([ItemState.DEAD])
        counts = await store.counts()
    for item in items:
        print(describe_item(item))
    print(f"{counts.needs_operator} need(s) attention ({counts.attention} attention, {counts.dead} dead), "
          f"{counts.waiting} waiting, {counts.done} done, {counts.dropped} dropped; in {path}", file=sys.stderr)
    if not every and counts.needs_operator:
        print("decide with 'deskline outbox retry|done|drop ID'", file=sys.stderr)
    return 0


async def _not_run(item):  # pragma: no cover - the CLI never delivers; the console's runner does
    raise RuntimeError("the command line does not send outbox items")


async def _resolve(config, action: str, item_id: int, note: str) -> int:
    from engine.errors import Location
    from engine.outbox import Outbox, OutboxError
    from engine.store import Store

    path = config.store_path
    if not path.exists():
        raise OutboxError(f"no such outbox item (the store {path} does not exist)",
                          Location(field=f"outbox item {item_id}"))
    async with Store(path) as store:
        outbox = Outbox(store, _not_run, policy=config.backoff_policy())
        if action == "retry":
            item = await outbox.retry(item_id)
        elif action == "done":
            item = await outbox.mark_done(item_id, note)
        else:
            item = await outbox.drop(item_id, note)
    verb = {"retry": "queued again (the console sends it)", "done": "marked done", "drop": "dropped"}[action]
    print(f"outbox item {item.id} ({item.scenario} for call {item.call_id}) {verb}")
    return 0
