"""The durable outbox: call journals and tickets written exactly once.

After a call the engine queues one :class:`WorkItem` per scenario to run
("CallJournal for call 1700000000.42").  The item lives in the SQLite store
until it is written, so a crash, a restart or a helpdesk outage loses
nothing, and its idempotency key (call id + scenario + request) makes a
duplicate CDR event a no-op: :meth:`Outbox.enqueue` returns the existing
item instead of queuing a second one.

Life of an item::

    pending --claim--> in_flight --done------------------------> done
       ^                  |  \\--retry (not sent, 429, ...)------> failed --(due)--> in_flight ...
       |                  |  \\--fatal, or retry at max attempts-> dead
       |                  \\--unknown outcome--+-- resend_safe ----> failed (retried like above)
       |                                      +-- verify() True --> done
       |                                      +-- verify() False -> failed (retried)
       |                                      +-- otherwise ------> attention
       +---- operator: retry (attention, dead, failed) ---------------/
             operator: mark done -> done, drop -> dropped

The rules that make it exactly once:

* An item is marked ``in_flight`` and its attempt row is committed
  (``synchronous=FULL``) *before* the executor sends anything.
* When the outcome of an attempt is unknown (a timeout after the request
  left, a 5xx to a POST, the process died mid-send: at start-up
  :meth:`Outbox.recover` finds items still ``in_flight``), the item is sent
  again only if that is safe: the item says so (``resend_safe``: an
  idempotent request, or a helpdesk that dedupes on a key we send), or the
  injected ``verify(item)`` check (e.g. "search the journal for this call
  id", which the template can provide) answers ``False`` (not written) —
  ``True`` means it was written and the item is done.  Otherwise the item
  waits in ``attention`` for the operator: *retry*, *mark done* or *drop*.
  A double post is never made silently.
* Items of one call run in the order they were queued; a later item waits
  while an earlier one of the same call is open (pending, in flight,
  failed or in attention), so a journal that names the ticket's id never
  overtakes the ticket.
* One runner per database: :meth:`Outbox.run` delivers only while it holds
  the database's runner lease (renewed as it works; another deskline on the
  same file waits in standby and takes over when the lease expires).  Any
  process may :meth:`Outbox.enqueue`.  Claims are conditional updates, so
  even two runners (``run_due`` called by hand) never send one attempt twice.

Retries back off exponentially with jitter (:class:`BackoffPolicy`), honour
a helpdesk's ``Retry-After``, and stop at ``max_attempts`` (the item goes
``dead``; the operator can retry it after fixing the template).

The executor is injected: ``execute(item) -> Outcome``, an async callable
that runs the item's scenario (the runtime's flows) and says how it ended.
An exception from it counts as an unknown outcome.  Shut down with
``await outbox.stop()`` (then await or cancel the :meth:`Outbox.run` task)
before closing the store.  UI code subscribes to :class:`OutboxEvent`
(queued, duplicate, sending, sent, failed (will retry), dead, attention,
resolved, problem) and reads :meth:`Outbox.counts`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from engine.errors import LocatedError, Location
from engine.store import ItemState, OutboxCounts, Store, StoreError, WorkItem

log = logging.getLogger(__name__)

OutcomeKind = Literal["done", "retry", "fatal", "unknown"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended, as the executor saw it.

    * ``done``: written; ``outputs`` (``TicketId`` ...) are kept with the item.
    * ``retry``: the helpdesk did not act on it (connection refused, 429,
      503 with ``Retry-After``): try again later.
    * ``fatal``: retrying cannot help (4xx, template error): the item is dead.
    * ``unknown``: the request may have been acted on (timeout after sending,
      5xx to a POST); see the module docstring for what happens next.
    """

    kind: OutcomeKind
    error: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)
    http_status: int | None = None
    trace_id: str = ""
    retry_after: float | None = None

    @classmethod
    def done(cls, outputs: Mapping[str, str] | None = None, *, http_status: int | None = None,
             trace_id: str = "") -> Outcome:
        return cls("done", outputs=dict(outputs or {}), http_status=http_status, trace_id=trace_id)

    @classmethod
    def retry(cls, error: str, *, retry_after: float | None = None, http_status: int | None = None,
              trace_id: str = "") -> Outcome:
        return cls("retry", error, retry_after=retry_after, http_status=http_status, trace_id=trace_id)

    @classmethod
    def fatal(cls, error: str, *, http_status: int | None = None, trace_id: str = "") -> Outcome:
        return cls("fatal", error, http_status=http_status, trace_id=trace_id)

    @classmethod
    def unknown(cls, error: str, *, http_status: int | None = None, trace_id: str = "") -> Outcome:
        return cls("unknown", error, http_status=http_status, trace_id=trace_id)


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with jitter for outbox retries (minutes, not the popup's seconds).

    The delay before attempt ``n + 1`` is ``min(max_delay, base_delay * 2**(n-1))``
    minus up to ``jitter`` of it at random, so many items failing together
    do not come back together.  A ``Retry-After`` longer than that delay wins
    (up to ``max_retry_after``).
    """

    max_attempts: int = 8
    base_delay: float = 10.0
    max_delay: float = 900.0
    jitter: float = 0.5
    max_retry_after: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")

    def delay(self, attempt: int, rng: random.Random | None = None, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempt``-th attempt (counted from 1) failed."""
        exponent = min(max(attempt, 1) - 1, 62)
        delay = min(self.max_delay, self.base_delay * (2 ** exponent))
        delay -= delay * self.jitter * (rng or random).random()
        if retry_after is not None and retry_after > delay:
            delay = min(retry_after, self.max_retry_after)
        return delay


EventKind = Literal["queued", "duplicate", "sending", "sent", "failed", "dead", "attention", "resolved",
                    "problem"]


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """Something happened to an item (the UI shows it and refreshes the counts)."""

    kind: EventKind
    item: WorkItem | None  # None for "problem": the store failed (locked, damaged); the runner keeps trying
    message: str = ""


class OutboxError(LocatedError):
    """An operator action that does not apply to the item (unknown id, wrong state)."""


Executor = Callable[[WorkItem], Awaitable[Outcome]]
Verifier = Callable[[WorkItem], Awaitable[bool | None]]
Listener = Callable[[OutboxEvent], object]

# Pauses between tries to record an attempt's outcome while the store is locked.
SETTLE_RETRY_PAUSES = (0.5, 2.0, 5.0)

# Operator actions: which states they apply to.
_RESOLVABLE = (ItemState.ATTENTION, ItemState.DEAD, ItemState.FAILED, ItemState.PENDING)


def idempotency_key(call_id: str, scenario: str, request: str = "") -> str:
    """The key that makes "scenario X (request R) for call Y" unique."""
    return json.dumps([call_id, scenario, request], ensure_ascii=False, separators=(",", ":"))


class Outbox:
    """Durable queue of journal/ticket work items over a :class:`Store`."""

    def __init__(self, store: Store, execute: Executor, *, policy: BackoffPolicy | None = None,
                 verify: Verifier | None = None, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None, poll_interval: float = 30.0) -> None:
        self.store = store
        self.execute = execute
        self.policy = policy or BackoffPolicy()
        self.verify = verify
        self.clock = clock
        self.rng = rng or random.Random()
        self.poll_interval = poll_interval  # also picks up items queued by other processes
        self.lease_ttl = max(3 * poll_interval, 60.0)
        self.runner_id = f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"
        self.delivered_by: str | None = None  # another runner delivering this database's outbox
        self.problem: StoreError | None = None  # the store error the runner is waiting out, if any
        self._leased = False
        self._renewed_at = float("-inf")
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._listeners: list[Listener] = []
        self._wake = asyncio.Event()

    # -- events -------------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call *listener* with every :class:`OutboxEvent`; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, kind: EventKind, item: WorkItem | None, message: str = "") -> None:
        event = OutboxEvent(kind, item, message)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop deliveries
                log.exception("outbox listener failed on %s", kind)

    # -- queueing -----------------------------------------------------------------------------------
    async def enqueue(self, call_id: str, scenario: str, payload: Mapping[str, object] | None = None, *,
                      request: str = "", resend_safe: bool = False, max_attempts: int | None = None,
                      delay: float = 0.0) -> WorkItem:
        """Queue "*scenario* for *call_id*" once; a repeat (duplicate CDR) returns the first item.

        *payload* is what the executor needs to run it (JSON-able; call facts
        and variables, never credentials).  *resend_safe* says repeating the
        request cannot create a second entry.
        """
        if not call_id or not scenario:
            raise OutboxError("an outbox item needs a call id and a scenario",
                              Location(field="call_id" if not call_id else "scenario"))
        try:
            body = json.loads(json.dumps(dict(payload or {})))
        except (TypeError, ValueError) as exc:
            raise OutboxError(f"the payload is not JSON-serialisable: {exc}", Location(field="payload")) from exc
        item, created = await self.store.add_item(
            key=idempotency_key(call_id, scenario, request), call_id=call_id, scenario=scenario, request=request,
            payload=body, resend_safe=resend_safe, max_attempts=max_attempts or self.policy.max_attempts,
            due_at=self.clock() + delay)
        if created:
            self._emit("queued", item)
            self._wake.set()
        else:
            self._emit("duplicate", item, f"already queued ({item.state})")
        return item

    # -- running ------------------------------------------------------------------------------------
    async def recover(self) -> list[WorkItem]:
        """Decide about items left ``in_flight`` by a previous run (call once at start-up)."""
        out = []
        for item in await self.store.items([ItemState.IN_FLIGHT]):
            attempts = await self.store.attempts(item.id)
            open_attempt = next((a.id for a in reversed(attempts) if a.finished_at is None), None)
            settled = await self._unknown(item, open_attempt,
                                          Outcome.unknown("deskline stopped while this was being sent"))
            if settled is not None:
                out.append(settled)
        return out

    async def run_due(self, limit: int | None = None) -> int:
        """Run the items that are due now, one by one in due order; returns how many attempts were made.

        Each round claims the first ready item afresh, so an item freed by
        the one before (the journal after its ticket) runs in the same call.
        """
        made = 0
        while not self._stopping and (limit is None or made < limit):
            if self._leased and not await self._renew(lazily=True):
                break  # another runner took over (we stalled past the lease)
            claimed = await self.store.claim_next(self.clock())
            if claimed is None:
                break
            await self._attempt(*claimed)
            made += 1
        return made

    async def run(self) -> None:
        """Deliver items as they become due, until cancelled.

        Only the holder of the database's runner lease delivers; another
        deskline on the same database waits in standby (``delivered_by``
        names the holder) and takes over, recovering what the other left in
        flight, when that lease expires.
        """
        self._stopping = False
        try:
            while not self._stopping:
                self._wake.clear()
                timeout = self.poll_interval
                try:
                    if await self._renew(lazily=self._leased):
                        if not self._leased:
                            self._leased = True
                            await self.recover()
                        await self.run_due()
                        due = await self.store.next_due_at()
                        if due is not None:
                            timeout = min(self.poll_interval, max(0.0, due - self.clock()))
                    else:
                        self._leased = False
                    self.problem = None
                except StoreError as exc:
                    # Locked for longer than the busy timeout, or damaged: nothing is lost (items stay
                    # where they are); say so and try again at the next poll.
                    if self.problem is None or str(self.problem) != str(exc):
                        log.warning("outbox: %s", exc)
                        self._emit("problem", None, str(exc))
                    self.problem = exc
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass
        finally:
            if self._leased:
                self._leased = False
                try:
                    await asyncio.shield(self.store.release_runner(self.runner_id))
                except Exception:  # the lease simply expires
                    log.debug("could not release the outbox lease", exc_info=True)

    async def _renew(self, *, lazily: bool = False) -> bool:
        """Take or renew the runner lease; remembers who holds it otherwise.

        *lazily*: skip the write while the lease is younger than a third of its term.
        """
        now = self.clock()
        if lazily and self.delivered_by is None and now - self._renewed_at < self.lease_ttl / 3:
            return True
        other = await self.store.hold_runner(self.runner_id, self.lease_ttl, now)
        self.delivered_by = other
        if other is None:
            self._renewed_at = now
        return other is None

    async def stop(self, grace: float = 10.0) -> bool:
        """Let :meth:`run` return after the attempt in progress (waits up to *grace* seconds).

        Returns ``False`` when the attempt is still running: cancel the task
        then; the item stays in flight and the next start decides about it.
        """
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True

    def wake(self) -> None:
        """Look for due items now (e.g. after the helpdesk came back)."""
        self._wake.set()

    async def _attempt(self, item: WorkItem, attempt_id: int) -> None:
        """Send a claimed item and record how it ended."""
        self._emit("sending", item)
        self._idle.clear()
        try:
            outcome = await self.execute(item)
            if not isinstance(outcome, Outcome):
                raise TypeError(f"the executor returned {type(outcome).__name__}, not an Outcome")
        except asyncio.CancelledError:
            # Stopping mid-send: the item stays in flight and recover() decides at the next start.
            self._idle.set()
            raise
        except Exception as exc:
            log.warning("outbox executor failed for %s", item.key, exc_info=True)
            outcome = Outcome.unknown(f"{type(exc).__name__}: {exc}")
        try:
            for pause in (*SETTLE_RETRY_PAUSES, None):
                try:
                    await self._settle(item, attempt_id, outcome)
                    break
                except StoreError as exc:
                    # The outcome is known only here: keep trying to record it (else the
                    # item stays in flight and the next start has to treat it as unknown).
                    if pause is None:
                        raise
                    log.warning("outbox: cannot record the outcome of %s yet: %s", item.key, exc)
                    await asyncio.sleep(pause)
        finally:
            self._idle.set()

    async def _settle(self, item: WorkItem, attempt_id: int, outcome: Outcome) -> None:
        if outcome.kind == "done":
            done = await self.store.settle_item(item.id, state=ItemState.DONE, from_states=[ItemState.IN_FLIGHT],
                                                result="done", attempt_id=attempt_id, error="",
                                                outputs=dict(outcome.outputs), http_status=outcome.http_status,
                                                trace_id=outcome.trace_id)
            if done is not None:
                self._emit("sent", done)
        elif outcome.kind == "retry":
            await self._retry_later(item, attempt_id, outcome, "failed")
        elif outcome.kind == "fatal":
            await self._dead(item, attempt_id, outcome, outcome.error)
        else:
            await self._unknown(item, attempt_id, outcome)

    async def _retry_later(self, item: WorkItem, attempt_id: int | None, outcome: Outcome,
                           result: str) -> WorkItem | None:
        if item.attempts >= item.max_attempts:
            return await self._dead(item, attempt_id, outcome,
                                    f"gave up after {item.attempts} attempts: {outcome.error}")
        wait = self.policy.delay(item.attempts, self.rng, outcome.retry_after)
        failed = await self.store.settle_item(
            item.id, state=ItemState.FAILED, from_states=[ItemState.IN_FLIGHT], result=result,
            attempt_id=attempt_id, next_attempt_at=self.clock() + wait, error=outcome.error,
            http_status=outcome.http_status, trace_id=outcome.trace_id)
        if failed is not None:
            self._emit("failed", failed, f"{outcome.error}; next attempt in {wait:.0f} s")
        return failed

    async def _dead(self, item: WorkItem, attempt_id: int | None, outcome: Outcome, error: str) -> WorkItem | None:
        dead = await self.store.settle_item(
            item.id, state=ItemState.DEAD, from_states=[ItemState.IN_FLIGHT], result="dead",
            attempt_id=attempt_id, error=error, http_status=outcome.http_status, trace_id=outcome.trace_id)
        if dead is not None:
            self._emit("dead", dead, error)
        return dead

    async def _unknown(self, item: WorkItem, attempt_id: int | None, outcome: Outcome) -> WorkItem | None:
        """The request may have been acted on: resend only when that is safe."""
        if item.resend_safe:
            return await self._retry_later(item, attempt_id, outcome, "unknown")
        written: bool | None = None
        if self.verify is not None:
            try:
                written = await self.verify(item)
            except Exception as exc:  # a failing check answers nothing
                log.warning("outbox verify failed for %s: %s", item.key, exc)
                written = None
        if written is True:
            done = await self.store.settle_item(
                item.id, state=ItemState.DONE, from_states=[ItemState.IN_FLIGHT], result="unknown",
                attempt_id=attempt_id, error=f"{outcome.error} (found written by the check)",
                http_status=outcome.http_status, trace_id=outcome.trace_id)
            if done is not None:
                self._emit("sent", done, "found written by the check")
            return done
        if written is False:
            return await self._retry_later(item, attempt_id, outcome, "unknown")
        error = f"{outcome.error}; it may have been written, so it is not sent again without you"
        held = await self.store.settle_item(
            item.id, state=ItemState.ATTENTION, from_states=[ItemState.IN_FLIGHT], result="unknown",
            attempt_id=attempt_id, error=error, http_status=outcome.http_status, trace_id=outcome.trace_id)
        if held is not None:
            self._emit("attention", held, error)
        return held

    # -- operator actions ---------------------------------------------------------------------------
    async def retry(self, item_id: int) -> WorkItem:
        """Send it again now, with a fresh attempt budget (after checking the helpdesk or the template)."""
        item = await self._resolve(item_id, ItemState.PENDING, "operator: retry", next_attempt_at=self.clock(),
                                   reset_attempts=True)
        self._wake.set()
        return item

    async def mark_done(self, item_id: int, note: str = "") -> WorkItem:
        """The operator found it written (or wrote it by hand): never send it."""
        return await self._resolve(item_id, ItemState.DONE, "operator: marked done", note=note)

    async def drop(self, item_id: int, note: str = "") -> WorkItem:
        """The operator does not want it written."""
        return await self._resolve(item_id, ItemState.DROPPED, "operator: dropped", note=note)

    async def _resolve(self, item_id: int, state: ItemState, result: str, *, note: str = "",
                       next_attempt_at: float | None = None, reset_attempts: bool = False) -> WorkItem:
        where = Location(field=f"outbox item {item_id}")
        current = await self.store.item(item_id)
        if current is None:
            raise OutboxError("no such outbox item", where)
        if current.state not in _RESOLVABLE:
            raise OutboxError(f"the item is {current.state.value}; only pending, failed, dead or attention "
                              "items can be resolved", where)
        item = await self.store.settle_item(item_id, state=state, from_states=_RESOLVABLE,
                                            result=result, error=note or None, next_attempt_at=next_attempt_at,
                                            reset_attempts=reset_attempts)
        if item is None:  # it moved meanwhile (the runner claimed it)
            raise OutboxError("the item changed while resolving it; look again", where)
        self._emit("resolved", item, result)
        return item

    # -- reading ------------------------------------------------------------------------------------
    async def counts(self) -> OutboxCounts:
        return await self.store.counts()

    async def needing_attention(self) -> list[WorkItem]:
        """Items the operator has to decide about (attention first, then dead)."""
        return await self.store.items([ItemState.ATTENTION]) + await self.store.items([ItemState.DEAD])

    async def outputs(self, call_id: str) -> dict[str, str]:
        """Outputs of the call's written items (``TicketId`` ...), for the scenarios that follow."""
        merged: dict[str, str] = {}
        for item in await self.store.items([ItemState.DONE], call_id=call_id):
            merged.update(item.outputs)
        return merged
