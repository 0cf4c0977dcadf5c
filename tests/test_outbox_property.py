"""Property test of the outbox: random answers, duplicate CDRs and crashes never break exactly-once."""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.outbox import BackoffPolicy, Outbox, Outcome
from engine.store import ItemState, Store

ANSWERS = st.sampled_from(["done", "retry", "fatal", "unknown", "raise", "crash"])
ITEM = st.tuples(st.integers(0, 3), st.sampled_from(["CallJournal", "CreateNewTicket"]), st.booleans(),
                 st.lists(ANSWERS, min_size=1, max_size=6))


class Crash(BaseException):
    """The process dies while the request is out (the attempt's outcome is never recorded)."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(ITEM, min_size=1, max_size=6), duplicates=st.lists(st.integers(0, 5), max_size=4),
       verify=st.sampled_from([None, True, False]))
def test_random_histories_keep_every_promise(items, duplicates, verify):
    asyncio.run(_run(items, duplicates, verify))


async def _run(items, duplicates, verify_answer):
    clock = [1_000.0]
    scripts: dict[str, list[str]] = {}
    sends: dict[str, list[str]] = {}  # key -> answers given, in order

    async def execute(item):
        answer = scripts[item.key].pop(0) if scripts[item.key] else "done"
        sends.setdefault(item.key, []).append(answer)
        if answer == "crash":
            raise Crash()
        if answer == "raise":
            raise RuntimeError("bug in a flow")
        return {"done": Outcome.done({"Id": item.key}), "retry": Outcome.retry("503"),
                "fatal": Outcome.fatal("400"), "unknown": Outcome.unknown("timeout")}[answer]

    async def verify(item):
        return verify_answer

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.sqlite3"
        policy = BackoffPolicy(max_attempts=4, base_delay=1, max_delay=4, jitter=0.5)
        queued = []
        for rounds in range(12):  # each round is one process lifetime
            async with Store(path) as store:
                box = Outbox(store, execute, policy=policy, clock=lambda: clock[0], rng=random.Random(rounds),
                             verify=verify if verify_answer is not None else None)
                if rounds == 0:
                    for call, scenario, safe, script in items:
                        item = await box.enqueue(f"call{call}", scenario, {"n": call}, resend_safe=safe)
                        if item.key not in scripts:
                            scripts[item.key] = list(script)
                            queued.append(item)
                    for d in duplicates:  # CDRs that arrive again
                        call, scenario, safe, _ = items[d % len(items)]
                        await box.enqueue(f"call{call}", scenario, {"again": True}, resend_safe=safe)
                else:
                    await box.recover()
                try:
                    await box.run_due()
                except Crash:
                    pass  # the store is closed with the item in flight, like a killed process
                clock[0] += 10
            async with Store(path) as store:
                states = {i.key: i for i in await store.items()}
                if all(i.state not in (ItemState.PENDING, ItemState.FAILED, ItemState.IN_FLIGHT)
                       for i in states.values()):
                    break

        async with Store(path) as store:
            final = {i.key: i for i in await store.items()}
            assert len(final) == len(queued)  # duplicates added nothing
            for key, item in final.items():
                answers = sends.get(key, [])
                # exactly once: nothing is sent after a success
                assert "done" not in answers[:-1], (key, answers)
                if item.state is ItemState.DONE:
                    assert answers[-1] == "done" or (answers[-1] in ("unknown", "raise", "crash")
                                                     and verify_answer is True and not item.resend_safe)
                # never a blind resend: an unsafe request with an unknown outcome is only sent again
                # when the dedupe check said it was not written
                for before, _after in zip(answers, answers[1:]):
                    if before in ("unknown", "raise", "crash") and not item.resend_safe:
                        assert verify_answer is False, (key, answers)
                if item.state is ItemState.ATTENTION:
                    assert not item.resend_safe and verify_answer is None
                    assert answers[-1] in ("unknown", "raise", "crash")
                if item.state is ItemState.DEAD:
                    assert answers[-1] == "fatal" or len(answers) >= item.max_attempts
                assert item.attempts == len(answers)
                attempts = await store.attempts(item.id)
                assert len(attempts) == len(answers) and all(a.finished_at is not None for a in attempts)
                assert item.state is not ItemState.IN_FLIGHT
