"""The SQLite store: call history, outbox items and their attempts.

One connection, used only by one worker thread, so the event loop never
blocks on SQLite and statements of one process never interleave.  Writes run
in ``BEGIN IMMEDIATE`` transactions (the write lock is taken up front, so a
second process waits ``busy_timeout`` instead of failing on lock upgrade);
the journal is WAL with ``synchronous=FULL``: a committed outbox state
survives a crash or a power cut, which exactly-once delivery relies on.

Errors become :class:`StoreError` naming the database file.  The store never
deletes or rewrites a file it does not understand: a damaged file, a foreign
SQLite file or one written by a newer deskline is refused as it is.  Before
a migration the old file is copied next to it (``<name>.v<N>.bak``).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from engine.errors import LocatedError, Location
from engine.store import schema
from engine.store.export import Redactor, calls_csv, history_json
from engine.store.records import (
    CALL_COLUMNS,
    RUNNABLE,
    Attempt,
    CallRecord,
    HistoryFilter,
    ItemState,
    OutboxCounts,
    WorkItem,
    call_from_row,
    number_digits,
)

T = TypeVar("T")
SCAN_WINDOW = 3000  # newest calls searched by a scan before the search index is asked
_PHONE_TEXT = re.compile(r"[\d\s+\-().\/]+")


# A runnable item is ready when no earlier item of the same call is still open:
# the scenarios of one call are written in the order they were queued (the
# ticket before the journal that names it).
_OPEN = ("pending", "in_flight", "failed", "attention")
_READY = (
    "o.state IN ('pending', 'failed') AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.call_id = o.call_id"
    f" AND p.id < o.id AND p.state IN ({', '.join(repr(s) for s in _OPEN)}))"
)


class StoreError(LocatedError):
    """The database cannot be opened, read or written; names the file and what to do."""


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (``executescript`` would commit midway)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fold(*parts: str | None) -> str:
    return " ".join(p.casefold() for p in parts if p)


def _item(row: sqlite3.Row) -> WorkItem:
    return WorkItem(
        id=row["id"], key=row["key"], call_id=row["call_id"], scenario=row["scenario"], request=row["request"],
        payload=json.loads(row["payload"]), resend_safe=bool(row["resend_safe"]), state=ItemState(row["state"]),
        attempts=row["attempts"], max_attempts=row["max_attempts"], next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"], outputs=json.loads(row["outputs"]), created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _attempt(row: sqlite3.Row) -> Attempt:
    return Attempt(id=row["id"], item_id=row["item_id"], number=row["number"], started_at=row["started_at"],
                   finished_at=row["finished_at"], result=row["result"], http_status=row["http_status"],
                   error=row["error"], trace_id=row["trace_id"])


class Store:
    """deskline's database.  ``async with Store(path) as store:`` or ``await store.open()``."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0, clock: Callable[[], float] = time.time,
                 migrations: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.clock = clock
        self._migrations = tuple(schema.MIGRATIONS if migrations is None else migrations)
        self._conn: sqlite3.Connection | None = None
        self._indexed = False  # calls_search (trigram index) is there and usable
        self._executor: ThreadPoolExecutor | None = None

    # -- life cycle ---------------------------------------------------------------------------------
    async def open(self) -> Store:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deskline-store")
        try:
            await self._run(self._open)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise
        return self

    async def close(self) -> None:
        if self._executor is None:
            return
        try:
            await self._run(self._close)
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    # -- thread plumbing ----------------------------------------------------------------------------
    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise StoreError("the store is not open", Location(file=str(self.path)))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self._guard, fn, *args))

    def _guard(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        where = Location(file=str(self.path))
        low = text.lower()
        if "locked" in low or "busy" in low:
            return StoreError(f"the database is locked by another program (waited {self.busy_timeout:g} s); "
                              "close the other deskline or try again", where)
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            return StoreError(f"the database is damaged or not an SQLite file ({text}); it was left as it is: "
                              f"move it away to start a new one, or recover it with "
                              f"'sqlite3 {self.path} .recover'", where)
        if "readonly" in low or "unable to open" in low or "disk i/o" in low or "full" in low:
            return StoreError(f"the database cannot be written ({text}); check the permissions and free space", where)
        return StoreError(f"database error: {text}", where)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the store is not open", Location(file=str(self.path)))
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the write lock from its start."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _open(self) -> None:
        if self._conn is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the database: {exc.strerror or exc}",
                             Location(file=str(self.path))) from None
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            version = db.execute("PRAGMA user_version").fetchone()[0]  # fails on a non-database file
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            where = Location(file=str(self.path))
            if app_id != schema.APPLICATION_ID:
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables or version:
                    raise StoreError("this SQLite file is not a deskline database; it was left as it is "
                                     "(choose another [store] path)", where)
            if version > len(self._migrations):
                raise StoreError(f"the database has schema version {version}, newer than this deskline knows "
                                 f"({len(self._migrations)}); it was left as it is: upgrade deskline or use "
                                 "another [store] path", where)
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot switch the database to WAL mode (it stays in {mode} mode)", where)
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            if version < len(self._migrations):
                self._migrate(db, version)
            self._index(db)
        except BaseException:
            db.close()
            raise
        self._conn = db

    def _index(self, db: sqlite3.Connection) -> None:
        """Keep a trigram full-text index of numbers and names when this SQLite has one (>= 3.34).

        It is not part of the versioned schema: a database stays usable (by
        a slower scan) with an SQLite that lacks it.  A database indexed
        elsewhere but opened where the index cannot be written is refused.
        """
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'calls_search'").fetchone() is not None
        if exists:
            try:
                db.execute("SELECT rowid FROM calls_search LIMIT 0")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"this database has a search index this SQLite {sqlite3.sqlite_version} cannot "
                                 f"use ({exc}); use an SQLite of version 3.34 or newer", Location(file=str(self.path))
                                 ) from None
            self._indexed = True
            return
        try:
            db.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(x, tokenize = 'trigram')")
            db.execute("DROP TABLE temp.probe")
        except sqlite3.OperationalError:
            self._indexed = False
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'calls_search'").fetchone() is None:
                for statement in _statements(schema.SEARCH_INDEX):
                    db.execute(statement)
                db.execute("INSERT INTO calls_search (calls_search) VALUES ('rebuild')")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._indexed = True

    def _migrate(self, db: sqlite3.Connection, version: int) -> None:
        if version > 0:
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            if not backup.exists():
                with sqlite3.connect(backup) as copy:
                    db.backup(copy)
                copy.close()
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            current = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(self._migrations[current:], start=current + 1):
                for statement in _statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
            db.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # only a hint for the query planner; a damaged file was reported already
            finally:
                self._conn.close()
                self._conn = None

    async def schema_version(self) -> int:
        return await self._run(lambda: self._db.execute("PRAGMA user_version").fetchone()[0])

    async def check(self) -> list[str]:
        """``PRAGMA integrity_check``: an empty list when the file is sound."""
        def run() -> list[str]:
            rows = [r[0] for r in self._db.execute("PRAGMA integrity_check")]
            return [] if rows == ["ok"] else rows
        return await self._run(run)

    # -- calls --------------------------------------------------------------------------------------
    async def record_call(self, call: CallRecord) -> CallRecord:
        """Insert or complete a call; fields left at ``None`` keep their stored value."""
        return (await self._run(self._record_calls, [call]))[0]

    async def record_calls(self, calls: Iterable[CallRecord]) -> list[CallRecord]:
        """:meth:`record_call` for many calls in one transaction."""
        return await self._run(self._record_calls, list(calls))

    def _record_calls(self, calls: list[CallRecord]) -> list[CallRecord]:
        out = []
        now = self.clock()
        with self._write() as db:
            for call in calls:
                if not call.call_id:
                    raise StoreError("a call needs a call_id", Location(file=str(self.path), field="call_id"))
                row = db.execute("SELECT * FROM calls WHERE call_id = ?", (call.call_id,)).fetchone()
                merged = call_from_row(row) if row is not None else CallRecord(call.call_id)
                for name, value in call.known().items():
                    setattr(merged, name, value)
                merged.updated_at = now
                values = {name: getattr(merged, name) for name in CALL_COLUMNS}
                for name in ("direction", "caller_number", "callee_number", "caller_name", "extension", "status",
                             "contact_id", "contact_name", "contact_type", "popup_url"):
                    values[name] = values[name] or ""
                values["number_digits"] = number_digits(merged.caller_number, merged.callee_number)
                values["name_fold"] = _fold(merged.contact_name, merged.caller_name, merged.contact_id)
                values["updated_at"] = now
                if row is None:
                    columns = ", ".join(values)
                    marks = ", ".join("?" * len(values))
                    db.execute(f"INSERT INTO calls ({columns}) VALUES ({marks})", tuple(values.values()))
                else:
                    sets = ", ".join(f"{name} = ?" for name in values if name != "call_id")
                    db.execute(f"UPDATE calls SET {sets} WHERE call_id = ?",
                               (*(v for k, v in values.items() if k != "call_id"), call.call_id))
                out.append(call_from_row(db.execute("SELECT * FROM calls WHERE call_id = ?",
                                                    (call.call_id,)).fetchone()))
        return out

    async def call(self, call_id: str) -> CallRecord | None:
        def run() -> CallRecord | None:
            row = self._db.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
            return None if row is None else call_from_row(row)
        return await self._run(run)

    async def history(self, limit: int | None = 100, filter: HistoryFilter | str | None = None,
                      offset: int = 0) -> list[CallRecord]:
        """Calls, newest first, that match *filter* (a :class:`HistoryFilter` or search text)."""
        return await self._run(lambda: [call_from_row(r) for r in self._history_rows(limit, filter, offset)])

    async def search(self, text: str, limit: int | None = 100) -> list[CallRecord]:
        """Calls whose number contains the digits of *text*, or whose contact matches it."""
        return await self.history(limit, HistoryFilter(text=text))

    async def count_calls(self, filter: HistoryFilter | str | None = None) -> int:
        def run() -> int:
            where, params = self._where(filter)
            return self._db.execute(f"SELECT count(*) FROM calls {where}", params).fetchone()[0]
        return await self._run(run)

    def _where(self, filter: HistoryFilter | str | None, *, indexed: bool = True) -> tuple[str, list[object]]:
        if isinstance(filter, str):
            filter = HistoryFilter(text=filter)
        if filter is None:
            return "", []
        clauses: list[str] = []
        params: list[object] = []
        text = filter.text.strip()
        if text:
            digits = re.sub(r"\D", "", text)
            column, needle = ("number_digits", digits) if digits and _PHONE_TEXT.fullmatch(text) \
                else ("name_fold", text.casefold())
            if indexed and self._indexed and len(needle) >= 3:
                # a trigram phrase matches any substring of the column
                phrase = '"' + needle.replace('"', '""') + '"'
                clauses.append("id IN (SELECT rowid FROM calls_search WHERE calls_search MATCH ?)")
                params.append(f"{column} : {phrase}")
            clauses.append(f"{column} LIKE ? ESCAPE '\\'")
            params.append(_like(needle))
        for column in ("direction", "status", "extension", "contact_id"):
            value = getattr(filter, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if filter.since is not None:
            clauses.append("started_at >= ?")
            params.append(filter.since)
        if filter.until is not None:
            clauses.append("started_at < ?")
            params.append(filter.until)
        if filter.missed:
            clauses.append("direction = 'Inbound' AND status NOT IN ('', 'Answered')")
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _history_rows(self, limit: int | None, filter: HistoryFilter | str | None, offset: int) -> list[sqlite3.Row]:
        order = " ORDER BY started_at DESC, call_id DESC"  # NULL (not started) last
        where, params = self._where(filter)
        if limit is not None and "calls_search" in where:
            # A frequent term ("ada", "4930") has its newest matches among the newest calls: scanning
            # those is cheaper than collecting every match from the index and sorting them.  When the
            # window holds enough matches they are exactly the answer; otherwise the term is rare and
            # the index is fast.
            scan_where, scan_params = self._where(filter, indexed=False)
            rows = self._db.execute(
                f"SELECT * FROM (SELECT * FROM calls{order} LIMIT {SCAN_WINDOW}) {scan_where}{order} LIMIT ? OFFSET ?",
                [*scan_params, int(limit), int(offset)]).fetchall()
            if len(rows) == limit:
                return rows
        sql = f"SELECT * FROM calls {where}{order}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [int(limit), int(offset)]
        return self._db.execute(sql, params).fetchall()

    # -- outbox persistence (driven by engine.outbox.Outbox) ---------------------------------------
    async def add_item(self, *, key: str, call_id: str, scenario: str, request: str, payload: dict[str, object],
                       resend_safe: bool, max_attempts: int, due_at: float | None = None) -> tuple[WorkItem, bool]:
        """Queue an item unless one with *key* exists: returns the item and whether it is new."""
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)

        def run() -> tuple[WorkItem, bool]:
            now = self.clock()
            with self._write() as db:
                cur = db.execute(
                    "INSERT INTO outbox (key, call_id, scenario, request, payload, resend_safe, state, max_attempts,"
                    " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    (key, call_id, scenario, request, text, int(resend_safe), ItemState.PENDING.value, max_attempts,
                     now if due_at is None else due_at, now, now))
                created = cur.rowcount == 1
                row = db.execute("SELECT * FROM outbox WHERE key = ?", (key,)).fetchone()
            return _item(row), created
        return await self._run(run)

    async def item(self, item_id: int) -> WorkItem | None:
        def run() -> WorkItem | None:
            row = self._db.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
            return None if row is None else _item(row)
        return await self._run(run)

    async def items(self, states: Iterable[ItemState] | None = None, *, call_id: str | None = None,
                    limit: int | None = None) -> list[WorkItem]:
        """Outbox items (oldest first), optionally only in *states* or of one call."""
        clauses, params = [], []
        if states is not None:
            states = [ItemState(s).value for s in states]
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            params += states
        if call_id is not None:
            clauses.append("call_id = ?")
            params.append(call_id)
        sql = "SELECT * FROM outbox" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return await self._run(lambda: [_item(r) for r in self._db.execute(sql, params)])

    async def due_items(self, now: float, limit: int = 50) -> list[WorkItem]:
        """Runnable items whose time has come, in the order they are due."""
        sql = f"SELECT * FROM outbox o WHERE {_READY} AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
        return await self._run(lambda: [_item(r) for r in self._db.execute(sql, (now, limit))])

    async def next_due_at(self) -> float | None:
        """When the next ready item is due (``None``: nothing to run)."""
        sql = f"SELECT min(next_attempt_at) FROM outbox o WHERE {_READY}"
        return await self._run(lambda: self._db.execute(sql).fetchone()[0])

    async def claim_next(self, now: float) -> tuple[WorkItem, int] | None:
        """Claim the first ready item due at *now* (see :meth:`claim_item`); ``None`` when there is none."""
        sql = f"SELECT id FROM outbox o WHERE {_READY} AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1"

        def run() -> tuple[WorkItem, int] | None:
            while True:
                row = self._db.execute(sql, (now,)).fetchone()  # read first: no write lock when idle
                if row is None:
                    return None
                claimed = self._claim(row[0])
                if claimed is not None:
                    return claimed
                # another runner claimed it between the read and the write: look again
        return await self._run(run)

    async def claim_item(self, item_id: int) -> tuple[WorkItem, int] | None:
        """Mark a runnable item in flight and open its attempt, durably, before anything is sent.

        Returns the item and the attempt id, or ``None`` when the item is not
        runnable any more (another runner claimed it, or the operator acted).
        """
        return await self._run(self._claim, item_id)

    def _claim(self, item_id: int) -> tuple[WorkItem, int] | None:
        now = self.clock()
        marks = ", ".join("?" * len(RUNNABLE))
        with self._write() as db:
            cur = db.execute(
                f"UPDATE outbox SET state = ?, attempts = attempts + 1, updated_at = ?"
                f" WHERE id = ? AND state IN ({marks})",
                [ItemState.IN_FLIGHT.value, now, item_id, *[s.value for s in RUNNABLE]])
            if cur.rowcount != 1:
                return None
            row = db.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
            cur = db.execute("INSERT INTO attempts (item_id, number, started_at) VALUES (?, ?, ?)",
                             (item_id, row["attempts"], now))
            return _item(row), cur.lastrowid

    async def settle_item(self, item_id: int, *, state: ItemState, from_states: Iterable[ItemState],
                          result: str, attempt_id: int | None = None, next_attempt_at: float | None = None,
                          error: str | None = None, outputs: dict[str, str] | None = None,
                          http_status: int | None = None, trace_id: str = "",
                          reset_attempts: bool = False) -> WorkItem | None:
        """Move an item to *state* if it is in one of *from_states*; close or add its attempt row.

        Without *attempt_id* (operator actions, recovery) a row with number 0
        and *result* records who moved the item and why.
        """
        def run() -> WorkItem | None:
            now = self.clock()
            froms = [ItemState(s).value for s in from_states]
            sets = ["state = ?", "updated_at = ?"]
            params: list[object] = [state.value, now]
            if next_attempt_at is not None:
                sets.append("next_attempt_at = ?")
                params.append(next_attempt_at)
            if error is not None:
                sets.append("last_error = ?")
                params.append(error)
            if outputs is not None:
                sets.append("outputs = ?")
                params.append(json.dumps(outputs, ensure_ascii=False, sort_keys=True))
            if reset_attempts:
                sets.append("attempts = 0")
            with self._write() as db:
                cur = db.execute(f"UPDATE outbox SET {', '.join(sets)} WHERE id = ? AND state IN "
                                 f"({', '.join('?' * len(froms))})", [*params, item_id, *froms])
                if cur.rowcount != 1:
                    return None
                if attempt_id is not None:
                    db.execute("UPDATE attempts SET finished_at = ?, result = ?, http_status = ?, error = ?,"
                               " trace_id = ? WHERE id = ?",
                               (now, result, http_status, error or "", trace_id, attempt_id))
                else:
                    db.execute("INSERT INTO attempts (item_id, number, started_at, finished_at, result, error)"
                               " VALUES (?, 0, ?, ?, ?, ?)", (item_id, now, now, result, error or ""))
                return _item(db.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone())
        return await self._run(run)

    async def attempts(self, item_id: int) -> list[Attempt]:
        sql = "SELECT * FROM attempts WHERE item_id = ? ORDER BY id"
        return await self._run(lambda: [_attempt(r) for r in self._db.execute(sql, (item_id,))])

    async def counts(self) -> OutboxCounts:
        def run() -> OutboxCounts:
            rows = self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
            return OutboxCounts(**{state: n for state, n in rows if state in OutboxCounts.__dataclass_fields__})
        return await self._run(run)

    async def prune(self, older_than: float) -> int:
        """Forget calls that started before *older_than* and the finished items of them.

        A call keeps its place while any of its items still needs work or a
        decision (pending, in flight, failed, dead, attention): nothing the
        operator has not seen through is deleted.  Returns the calls deleted.
        """
        finished = (ItemState.DONE.value, ItemState.DROPPED.value)

        def run() -> int:
            with self._write() as db:
                old = [r[0] for r in db.execute(
                    "SELECT call_id FROM calls c WHERE coalesce(started_at, updated_at) < ? AND NOT EXISTS"
                    " (SELECT 1 FROM outbox o WHERE o.call_id = c.call_id AND o.state NOT IN (?, ?))",
                    (older_than, *finished))]
                for call_id in old:
                    db.execute("DELETE FROM outbox WHERE call_id = ?", (call_id,))
                    db.execute("DELETE FROM calls WHERE call_id = ?", (call_id,))
                return len(old)
        return await self._run(run)

    # -- the outbox runner's lease ------------------------------------------------------------------
    async def hold_runner(self, holder: str, ttl: float, now: float) -> str | None:
        """Take or renew the outbox lease for *holder*; returns ``None``, or who holds it instead."""
        def run() -> str | None:
            with self._write() as db:
                row = db.execute("SELECT holder, expires_at FROM runner WHERE id = 1").fetchone()
                if row is not None and row["holder"] != holder and row["expires_at"] > now:
                    return row["holder"]
                db.execute("INSERT INTO runner (id, holder, expires_at) VALUES (1, ?, ?)"
                           " ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
                           (holder, now + ttl))
                return None
        return await self._run(run)

    async def release_runner(self, holder: str) -> None:
        def run() -> None:
            with self._write() as db:
                db.execute("DELETE FROM runner WHERE id = 1 AND holder = ?", (holder,))
        await self._run(run)

    # -- export -------------------------------------------------------------------------------------
    async def export(self, dest: str | Path, fmt: str = "csv", *, filter: HistoryFilter | str | None = None,
                     secrets: Iterable[str] = ()) -> int:
        """Write the history (calls; for JSON also their outbox items and attempts) to *dest*.

        Payload keys naming a secret, secret URL parameters and every value in
        *secrets* are masked.  Returns the number of calls written.  The file
        is written next to *dest* and renamed, so a failed export leaves no
        half file.
        """
        if fmt not in ("csv", "json"):
            raise StoreError(f"unknown export format {fmt!r} (csv or json)", Location(file=str(dest)))
        redactor = Redactor(secrets)
        text, count = await self._run(self._export_text, fmt, filter, redactor)
        dest = Path(dest)

        def write() -> None:
            tmp = dest.with_name(dest.name + ".part")
            try:
                tmp.write_text(text, encoding="utf-8", newline="")
                tmp.replace(dest)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise StoreError(f"cannot write the export: {exc.strerror or exc}", Location(file=str(dest))) from exc
        await asyncio.to_thread(write)
        return count

    def _export_text(self, fmt: str, filter: HistoryFilter | str | None, redactor: Redactor) -> tuple[str, int]:
        calls = [dict(r) for r in self._history_rows(None, filter, 0)]
        for call in calls:
            call.pop("id", None)
            call.pop("number_digits", None)
            call.pop("name_fold", None)
        items: dict[str, list[dict[str, object]]] = {}
        for call in calls:
            for row in self._db.execute("SELECT * FROM outbox WHERE call_id = ? ORDER BY id", (call["call_id"],)):
                item = dict(row)
                item["payload"] = json.loads(item["payload"])
                item["outputs"] = json.loads(item["outputs"])
                item["resend_safe"] = bool(item["resend_safe"])
                item["attempts_made"] = item.pop("attempts")
                item["attempts"] = [dict(a) for a in self._db.execute(
                    "SELECT number, started_at, finished_at, result, http_status, error, trace_id FROM attempts"
                    " WHERE item_id = ? ORDER BY id", (row["id"],))]
                items.setdefault(row["call_id"], []).append(item)
        for call in calls:
            work = items.get(call["call_id"], [])
            if fmt == "csv":
                call["work"] = "; ".join(f"{w['scenario']}{'/' + w['request'] if w['request'] else ''}: {w['state']}"
                                         for w in work)
            else:
                call["work"] = work
        if fmt == "csv":
            return calls_csv(calls, redactor), len(calls)
        return history_json(calls, redactor), len(calls)
