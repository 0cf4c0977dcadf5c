"""engine.outbox: exactly once across duplicates and restarts, backoff, needs-attention, operator actions."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import textwrap

import pytest

from engine.outbox import BackoffPolicy, Outbox, OutboxError, Outcome, idempotency_key
from engine.store import ItemState, Store, WorkItem
from tests.conftest import REPO


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeHelpdesk:
    """Executor that answers from a script and records every item it was asked to send."""

    def __init__(self, *outcomes: Outcome | Exception) -> None:
        self.script = list(outcomes)
        self.sent: list[WorkItem] = []

    async def __call__(self, item: WorkItem) -> Outcome:
        self.sent.append(item)
        answer = self.script.pop(0) if self.script else Outcome.done({"Id": str(len(self.sent))})
        if isinstance(answer, Exception):
            raise answer
        return answer


NO_JITTER = BackoffPolicy(max_attempts=4, base_delay=10, max_delay=60, jitter=0)


@pytest.fixture
async def store(tmp_path):
    async with Store(tmp_path / "d.sqlite3") as s:
        yield s


def make(store, helpdesk, clock=None, **kw) -> tuple[Outbox, list]:
    events: list = []
    box = Outbox(store, helpdesk, clock=clock or Clock(), policy=kw.pop("policy", NO_JITTER),
                 rng=random.Random(7), **kw)
    box.subscribe(events.append)
    return box, events


def kinds(events) -> list[str]:
    return [e.kind for e in events]


async def test_written_once_and_duplicate_cdrs_are_no_ops(store):
    helpdesk = FakeHelpdesk(Outcome.done({"JournalId": "J1"}, trace_id="tr-1", http_status=201))
    box, events = make(store, helpdesk)
    first = await box.enqueue("1700.1", "CallJournal", {"Subject": "Inbound call"})
    again = await box.enqueue("1700.1", "CallJournal", {"Subject": "a second CDR for the same call"})
    assert again.id == first.id and again.payload == {"Subject": "Inbound call"}
    assert await box.run_due() == 1
    await box.enqueue("1700.1", "CallJournal", {})  # a third CDR after it was written
    assert await box.run_due() == 0
    assert len(helpdesk.sent) == 1 and helpdesk.sent[0].payload == {"Subject": "Inbound call"}
    done = await store.item(first.id)
    assert done.state is ItemState.DONE and done.outputs == {"JournalId": "J1"} and done.attempts == 1
    [attempt] = await store.attempts(first.id)
    assert (attempt.result, attempt.trace_id, attempt.http_status) == ("done", "tr-1", 201)
    assert kinds(events) == ["queued", "duplicate", "sending", "sent", "duplicate"]
    assert (await box.counts()).done == 1


async def test_same_call_different_scenarios_or_requests_are_different_items(store):
    box, _ = make(store, FakeHelpdesk())
    a = await box.enqueue("c", "CallJournal")
    b = await box.enqueue("c", "CreateNewTicket")
    c = await box.enqueue("c", "CreateNewTicket", request="update")
    assert len({a.id, b.id, c.id}) == 3
    assert a.key == idempotency_key("c", "CallJournal") != idempotency_key("c/CallJournal", "")


async def test_transient_failures_back_off_exponentially_then_die(store):
    clock = Clock()
    helpdesk = FakeHelpdesk(*[Outcome.retry("connection refused")] * 4)
    box, events = make(store, helpdesk, clock)
    item = await box.enqueue("c", "CallJournal")
    waits = []
    for _ in range(3):
        assert await box.run_due() == 1
        current = await store.item(item.id)
        assert current.state is ItemState.FAILED
        waits.append(current.next_attempt_at - clock.now)
        clock.now = current.next_attempt_at - 0.001
        assert await box.run_due() == 0  # not before it is due
        clock.now = current.next_attempt_at
    assert waits == [10, 20, 40]
    assert kinds(events)[:4] == ["queued", "sending", "failed", "sending"]
    assert events[2].message == "connection refused; next attempt in 10 s"
    assert await box.run_due() == 1
    dead = await store.item(item.id)
    assert dead.state is ItemState.DEAD and "gave up after 4 attempts: connection refused" in dead.last_error
    assert len(helpdesk.sent) == 4 and kinds(events)[-1] == "dead"
    assert [a.result for a in await store.attempts(item.id)] == ["failed"] * 3 + ["dead"]


def test_backoff_is_capped_and_jittered_within_bounds():
    policy = BackoffPolicy(base_delay=10, max_delay=60, jitter=0.5)
    rng = random.Random(1)
    for attempt, full in [(1, 10), (2, 20), (3, 40), (4, 60), (30, 60), (10_000, 60)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(full * 0.5 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full * 0.3  # really spread
    assert BackoffPolicy(jitter=0).delay(1, rng, retry_after=120) == 120
    assert BackoffPolicy(jitter=0, max_retry_after=300).delay(1, rng, retry_after=10_000) == 300
    with pytest.raises(ValueError):
        BackoffPolicy(jitter=2)


async def test_retry_after_is_honoured(store):
    clock = Clock()
    box, _ = make(store, FakeHelpdesk(Outcome.retry("429 Too Many Requests", retry_after=300, http_status=429)),
                  clock)
    item = await box.enqueue("c", "CallJournal")
    await box.run_due()
    assert (await store.item(item.id)).next_attempt_at == clock.now + 300


async def test_a_fatal_answer_kills_the_item_at_once(store):
    box, events = make(store, FakeHelpdesk(Outcome.fatal("422 Subject is required", http_status=422)))
    item = await box.enqueue("c", "CallJournal")
    await box.run_due()
    dead = await store.item(item.id)
    assert dead.state is ItemState.DEAD and dead.last_error == "422 Subject is required"
    assert (await box.counts()).dead == 1 and events[-1].kind == "dead"


@pytest.mark.parametrize("answer", [Outcome.unknown("read timeout after sending"), RuntimeError("executor bug")])
async def test_unknown_outcome_of_an_unsafe_request_waits_for_the_operator(store, answer):
    helpdesk = FakeHelpdesk(answer)
    box, events = make(store, helpdesk)
    item = await box.enqueue("c", "CallJournal")
    await box.run_due()
    held = await store.item(item.id)
    assert held.state is ItemState.ATTENTION and "not sent again without you" in held.last_error
    assert await box.run_due() == 0 and len(helpdesk.sent) == 1
    assert events[-1].kind == "attention" and (await box.counts()).attention == 1
    assert [i.id for i in await box.needing_attention()] == [item.id]


async def test_unknown_outcome_of_a_resend_safe_request_is_retried(store):
    clock = Clock()
    helpdesk = FakeHelpdesk(Outcome.unknown("502 Bad Gateway", http_status=502))
    box, _ = make(store, helpdesk, clock)
    item = await box.enqueue("c", "CallJournal", resend_safe=True)
    await box.run_due()
    assert (await store.item(item.id)).state is ItemState.FAILED
    clock.now += 10
    await box.run_due()
    assert (await store.item(item.id)).state is ItemState.DONE and len(helpdesk.sent) == 2


@pytest.mark.parametrize(("answer", "state", "sends"), [
    (True, ItemState.DONE, 1),
    (False, ItemState.DONE, 2),  # not written: sent again (after the backoff)
    (None, ItemState.ATTENTION, 1),
    (RuntimeError("search failed"), ItemState.ATTENTION, 1),
])
async def test_the_dedupe_check_decides_unknown_outcomes(store, answer, state, sends):
    clock = Clock()
    checked = []

    async def verify(item):
        checked.append(item.id)
        if isinstance(answer, Exception):
            raise answer
        return answer

    helpdesk = FakeHelpdesk(Outcome.unknown("timeout"))
    box, _ = make(store, helpdesk, clock, verify=verify)
    item = await box.enqueue("c", "CallJournal")
    await box.run_due()
    clock.now += 10
    await box.run_due()
    assert (await store.item(item.id)).state is state
    assert len(helpdesk.sent) == sends and checked == [item.id]


async def test_restart_with_an_item_in_flight_does_not_resend_blindly(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path) as s:
        box, _ = make(s, FakeHelpdesk())
        unsafe = await box.enqueue("c1", "CallJournal")
        safe = await box.enqueue("c2", "CallJournal", resend_safe=True)
        await s.claim_item(unsafe.id)  # claimed and sending when the process died
        await s.claim_item(safe.id)
    helpdesk = FakeHelpdesk()
    async with Store(path) as s:
        box, events = make(s, helpdesk)
        recovered = {i.id: i.state for i in await box.recover()}
        assert recovered == {unsafe.id: ItemState.ATTENTION, safe.id: ItemState.FAILED}
        assert [a.result for a in await s.attempts(unsafe.id)] == ["unknown"]
        assert "deskline stopped" in (await s.item(unsafe.id)).last_error
        box.clock.now += 10
        await box.run_due()
        assert [i.id for i in helpdesk.sent] == [safe.id]
        # the operator looked in the helpdesk: the journal is not there, send it
        await box.retry(unsafe.id)
        await box.run_due()
        assert [i.id for i in helpdesk.sent] == [safe.id, unsafe.id]
        assert (await s.counts()).done == 2


KILLED_WHILE_SENDING = textwrap.dedent("""
    import asyncio, os, signal, sys
    from engine.store import Store
    from engine.outbox import Outbox

    async def execute(item):
        os.kill(os.getpid(), signal.SIGKILL)  # the POST left; the answer never came back

    async def main(path):
        async with Store(path) as s:
            box = Outbox(s, execute)
            await box.enqueue("1700.9", "CreateNewTicket", {"Subject": "Missed call"})
            await box.run_due()
    asyncio.run(main(sys.argv[1]))
""")


async def test_process_killed_while_sending_then_restarted(tmp_path):
    path = tmp_path / "d.sqlite3"
    proc = subprocess.run([sys.executable, "-c", KILLED_WHILE_SENDING, str(path)], cwd=REPO,
                          capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    helpdesk = FakeHelpdesk()
    async with Store(path) as s:
        box, _ = make(s, helpdesk)
        [item] = await s.items()
        assert item.state is ItemState.IN_FLIGHT and item.attempts == 1
        await box.enqueue("1700.9", "CreateNewTicket", {})  # the CDR arrives again after the restart
        await box.recover()
        await box.run_due()
        assert helpdesk.sent == [] and (await s.item(item.id)).state is ItemState.ATTENTION
        await box.mark_done(item.id, "found ticket #12 in the helpdesk")
        done = await s.item(item.id)
        assert done.state is ItemState.DONE and done.last_error == "found ticket #12 in the helpdesk"
        assert [a.result for a in await s.attempts(item.id)] == ["unknown", "operator: marked done"]


async def test_operator_actions(store):
    helpdesk = FakeHelpdesk(Outcome.fatal("404"), Outcome.fatal("404"))
    box, events = make(store, helpdesk)
    a = await box.enqueue("c1", "CallJournal")
    b = await box.enqueue("c2", "CallJournal")
    await box.run_due()
    retried = await box.retry(a.id)
    assert retried.state is ItemState.PENDING and retried.attempts == 0
    dropped = await box.drop(b.id, "wrong template")
    assert dropped.state is ItemState.DROPPED
    await box.run_due()
    assert (await store.item(a.id)).state is ItemState.DONE
    with pytest.raises(OutboxError, match="is done"):
        await box.drop(a.id)
    with pytest.raises(OutboxError, match="no such outbox item") as err:
        await box.mark_done(999)
    assert "outbox item 999" in str(err.value)
    assert (await box.counts()).dropped == 1 and "resolved" in kinds(events)


async def test_items_of_one_call_run_in_order_and_share_outputs(store):
    clock = Clock()
    order = []

    async def execute(item):
        order.append(item.scenario)
        if item.scenario == "CreateNewTicket" and order.count("CreateNewTicket") == 1:
            return Outcome.retry("503")
        if item.scenario == "CreateNewTicket":
            return Outcome.done({"TicketId": "T-5"})
        return Outcome.done({"JournalId": "J", "SawTicket": (await box.outputs(item.call_id)).get("TicketId", "")})

    box, _ = make(store, execute, clock)
    await box.enqueue("c1", "CreateNewTicket")
    journal = await box.enqueue("c1", "CallJournal")
    other = await box.enqueue("c2", "CallJournal")
    await box.run_due()
    assert order == ["CreateNewTicket", "CallJournal"]  # c2's journal ran; c1's waits for its ticket
    assert (await store.item(other.id)).state is ItemState.DONE
    assert (await store.item(journal.id)).state is ItemState.PENDING
    clock.now += 10
    await box.run_due()
    assert order == ["CreateNewTicket", "CallJournal", "CreateNewTicket", "CallJournal"]
    assert (await store.item(journal.id)).outputs == {"JournalId": "J", "SawTicket": "T-5"}


async def test_two_runners_on_one_database_never_send_twice(tmp_path):
    path = tmp_path / "d.sqlite3"
    sent = []

    async def execute(item):
        sent.append(item.id)
        await asyncio.sleep(0)
        return Outcome.done()

    async with Store(path) as s1, Store(path) as s2:
        box1, box2 = Outbox(s1, execute), Outbox(s2, execute)
        for i in range(40):
            await box1.enqueue(f"c{i}", "CallJournal")
        await asyncio.gather(box1.run_due(), box2.run_due())
        assert sorted(sent) == sorted(set(sent)) and len(sent) == 40
        assert (await s1.counts()).done == 40


async def test_run_delivers_as_items_are_queued_and_stops_on_cancel(store):
    helpdesk = FakeHelpdesk()
    box = Outbox(store, helpdesk, policy=BackoffPolicy(base_delay=0.01, jitter=0))
    runner = asyncio.create_task(box.run())
    try:
        for i in range(3):
            await box.enqueue(f"c{i}", "CallJournal")
        for _ in range(200):
            if (await box.counts()).done == 3:
                break
            await asyncio.sleep(0.01)
        assert (await box.counts()).done == 3
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner


async def test_a_broken_listener_does_not_stop_delivery(store):
    box = Outbox(store, FakeHelpdesk())
    box.subscribe(lambda event: 1 / 0)
    seen = []
    unsubscribe = box.subscribe(seen.append)
    item = await box.enqueue("c", "CallJournal")
    unsubscribe()
    await box.run_due()
    assert (await store.item(item.id)).state is ItemState.DONE and [e.kind for e in seen] == ["queued"]


async def test_bad_items_are_refused_with_the_field(store):
    box = Outbox(store, FakeHelpdesk())
    with pytest.raises(OutboxError, match="call_id"):
        await box.enqueue("", "CallJournal")
    with pytest.raises(OutboxError, match="payload.*JSON") as err:
        await box.enqueue("c", "CallJournal", {"when": object()})
    assert err.value.location.field == "payload"
    assert await store.items() == []


async def wait_until(predicate, timeout=5.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await predicate():
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_a_second_deskline_stands_by_and_takes_over_when_the_first_stops(tmp_path):
    path = tmp_path / "d.sqlite3"
    first_sent, second_sent = [], []

    def executor(sent):
        async def execute(item):
            sent.append(item.call_id)
            return Outcome.done()
        return execute

    async with Store(path) as s1, Store(path) as s2:
        first = Outbox(s1, executor(first_sent), poll_interval=0.05)
        second = Outbox(s2, executor(second_sent), poll_interval=0.05)
        t1 = asyncio.create_task(first.run())
        await wait_until(lambda: _true(first._leased))
        t2 = asyncio.create_task(second.run())
        await second.enqueue("c1", "CallJournal")
        await wait_until(lambda: _done(s1, 1))
        assert second.delivered_by == first.runner_id and first_sent == ["c1"] and second_sent == []
        assert await first.stop() is True
        await t1
        await second.enqueue("c2", "CallJournal")
        await wait_until(lambda: _done(s2, 2))
        assert second_sent == ["c2"] and second.delivered_by is None
        await second.stop()
        await t2


async def _true(value):
    return bool(value)


async def _done(store, n):
    return (await store.counts()).done == n


async def test_a_stale_lease_is_taken_over_and_what_it_left_in_flight_is_recovered(tmp_path):
    path = tmp_path / "d.sqlite3"
    clock = Clock()
    async with Store(path) as s:
        dead_runner = Outbox(s, FakeHelpdesk(), clock=clock)
        item = await dead_runner.enqueue("c1", "CallJournal")
        assert await s.hold_runner("crashed host pid 1", 60, clock.now) is None
        await s.claim_item(item.id)
        helpdesk = FakeHelpdesk()
        box = Outbox(s, helpdesk, clock=clock, poll_interval=0.01)
        task = asyncio.create_task(box.run())
        await asyncio.sleep(0.05)
        assert box.delivered_by == "crashed host pid 1" and (await s.item(item.id)).state is ItemState.IN_FLIGHT
        clock.now += 61  # the crashed runner never renewed its lease
        await wait_until(lambda: _state(s, item.id, ItemState.ATTENTION))
        assert helpdesk.sent == [] and box.delivered_by is None
        await box.stop()
        await task


async def _state(store, item_id, state):
    return (await store.item(item_id)).state is state


async def test_stop_lets_the_attempt_in_progress_finish(store):
    release = asyncio.Event()

    async def slow(item):
        await release.wait()
        return Outcome.done()

    box = Outbox(store, slow, poll_interval=0.01)
    task = asyncio.create_task(box.run())
    item = await box.enqueue("c1", "CallJournal")
    await wait_until(lambda: _state(store, item.id, ItemState.IN_FLIGHT))
    assert await box.stop(grace=0.05) is False  # still sending
    release.set()
    assert await box.stop(grace=1) is True
    await asyncio.wait_for(task, 1)
    assert (await store.item(item.id)).state is ItemState.DONE
    assert await store.hold_runner("someone else", 60, 0) is None  # the lease was released


async def test_a_locked_store_loses_no_outcome_and_the_runner_waits_it_out(tmp_path, monkeypatch):
    import sqlite3

    import engine.outbox as outbox_module

    monkeypatch.setattr(outbox_module, "SETTLE_RETRY_PAUSES", (0.3, 0.6, 1.0))
    path = tmp_path / "d.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def execute(item):
        holder.execute("BEGIN EXCLUSIVE")  # someone locks the file while the request is out
        asyncio.get_running_loop().call_later(0.4, holder.execute, "ROLLBACK")
        return Outcome.done({"TicketId": "T-1"})

    async with Store(path, busy_timeout=0.1) as s:
        box, events = make(s, execute)
        item = await box.enqueue("c1", "CreateNewTicket")
        await box.run_due()
        done = await s.item(item.id)
        assert done.state is ItemState.DONE and done.outputs == {"TicketId": "T-1"}

        # the runner reports a store that stays locked, and carries on when it is free again
        box.poll_interval = 0.05
        holder.execute("BEGIN EXCLUSIVE")
        task = asyncio.create_task(box.run())
        await wait_until(lambda: _true(box.problem))
        assert "locked" in str(box.problem) and events[-1].kind == "problem" and events[-1].item is None
        holder.execute("ROLLBACK")
        await box.enqueue("c2", "CallJournal")
        await wait_until(lambda: _done(s, 2))
        assert box.problem is None
        await box.stop()
        await task
    holder.close()
