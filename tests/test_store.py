"""engine.store: history, search, migrations, refusals, concurrency, crashes and export."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections import Counter

import pytest

from engine.store import CallRecord, HistoryFilter, Store, StoreError
from engine.store import schema
from tests.conftest import REPO


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
async def store(tmp_path):
    async with Store(tmp_path / "deskline.sqlite3") as s:
        yield s


def call(call_id: str, started: float, **kw) -> CallRecord:
    kw.setdefault("direction", "Inbound")
    return CallRecord(call_id, started_at=started, **kw)


async def test_fresh_database_is_migrated_marked_and_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "d.sqlite3"
    async with Store(path) as s:
        assert await s.schema_version() == schema.SCHEMA_VERSION
        assert await s.check() == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    db.close()


async def test_events_of_one_call_complete_its_record(store):
    await store.record_call(CallRecord("c1", direction="Inbound", caller_number="+49 30 1234", callee_number="2002",
                                       extension="2002", started_at=100.0))
    await store.record_call(CallRecord("c1", contact_id="7", contact_name="Ada Lovelace", contact_type="Contact",
                                       popup_url="https://hd.example/contacts/7"))
    merged = await store.record_call(CallRecord("c1", status="Answered", talk_seconds=65, ended_at=190.0))
    assert merged.caller_number == "+49 30 1234" and merged.extension == "2002"
    assert merged.contact_name == "Ada Lovelace" and merged.status == "Answered" and merged.talk_seconds == 65
    assert merged.started_at == 100.0 and merged.external_number == "+49 30 1234"
    assert await store.call("c1") == merged
    assert await store.call("nope") is None


async def test_a_call_without_id_is_refused_with_the_file(store):
    with pytest.raises(StoreError) as err:
        await store.record_call(CallRecord(""))
    assert str(store.path) in str(err.value) and "call_id" in str(err.value)


async def test_history_is_newest_first_with_limit_offset_and_filters(store):
    await store.record_calls([
        call("a", 10, status="Answered", extension="2001"),
        call("b", 30, status="No Answer", extension="2002"),
        call("c", 20, direction="Outbound", status="Answered", extension="2001"),
        CallRecord("d"),  # no start time yet: listed last
    ])
    assert [c.call_id for c in await store.history()] == ["b", "c", "a", "d"]
    assert [c.call_id for c in await store.history(2, offset=1)] == ["c", "a"]
    assert [c.call_id for c in await store.history(filter=HistoryFilter(missed=True))] == ["b"]
    assert [c.call_id for c in await store.history(filter=HistoryFilter(direction="Outbound"))] == ["c"]
    assert [c.call_id for c in await store.history(filter=HistoryFilter(extension="2001", since=15))] == ["c"]
    assert [c.call_id for c in await store.history(filter=HistoryFilter(until=20))] == ["a"]
    assert await store.count_calls(HistoryFilter(status="Answered")) == 2


@pytest.mark.parametrize("indexed", [True, False], ids=["trigram-index", "scan"])
async def test_search_by_number_ignores_formatting_and_by_contact_ignores_case(store, indexed):
    assert store._indexed  # this SQLite has the trigram tokenizer (the CI's does)
    store._indexed = indexed
    await store.record_calls([
        call("a", 1, caller_number="+49 (30) 123-456", contact_name="Jürgen Groß"),
        call("b", 2, caller_number="0049301234567", contact_name="Ada"),
        call("c", 3, direction="Outbound", caller_number="2001", callee_number="+1 555 0100", contact_id="C-9"),
        call("d", 4, caller_number="999", contact_name="100% Real_Name"),
    ])
    assert [c.call_id for c in await store.search("30 123")] == ["b", "a"]
    assert [c.call_id for c in await store.search("5550100")] == ["c"]
    assert [c.call_id for c in await store.search("JÜRGEN")] == ["a"]
    assert [c.call_id for c in await store.search("c-9")] == ["c"]
    # LIKE wildcards in the query are literal characters
    assert [c.call_id for c in await store.search("100%")] == ["d"]
    assert [c.call_id for c in await store.search("e_l")] == []  # would match "eal" as a wildcard
    assert [c.call_id for c in await store.search("real_")] == ["d"]


async def test_closed_store_says_so(tmp_path):
    s = Store(tmp_path / "x.sqlite3")
    with pytest.raises(StoreError, match="not open"):
        await s.history()


# -- migrations and refusals -----------------------------------------------------------------------
V2 = "ALTER TABLE calls ADD COLUMN queue TEXT NOT NULL DEFAULT '';\nCREATE INDEX calls_queue ON calls (queue);"


async def test_migration_keeps_data_and_a_backup_of_the_old_version(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path) as s:
        await s.record_call(call("a", 1, caller_number="123"))
    async with Store(path, migrations=(*schema.MIGRATIONS, V2)) as s:
        assert await s.schema_version() == schema.SCHEMA_VERSION + 1
        assert (await s.call("a")).caller_number == "123"
    db = sqlite3.connect(path)
    assert "queue" in [r[1] for r in db.execute("PRAGMA table_info(calls)")]
    db.close()
    backup = tmp_path / f"d.sqlite3.v{schema.SCHEMA_VERSION}.bak"
    old = sqlite3.connect(backup)
    assert old.execute("SELECT call_id FROM calls").fetchall() == [("a",)]
    assert old.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    old.close()


async def test_a_failing_migration_changes_nothing(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path) as s:
        await s.record_call(call("a", 1))
    broken = "ALTER TABLE calls ADD COLUMN queue TEXT;\nALTER TABLE no_such_table ADD COLUMN x TEXT;"
    with pytest.raises(StoreError) as err:
        await Store(path, migrations=(*schema.MIGRATIONS, broken)).open()
    assert str(path) in str(err.value) and "no_such_table" in str(err.value)
    async with Store(path) as s:
        assert await s.schema_version() == schema.SCHEMA_VERSION
        assert [c.call_id for c in await s.history()] == ["a"]
    db = sqlite3.connect(path)
    assert "queue" not in [r[1] for r in db.execute("PRAGMA table_info(calls)")]
    db.close()


async def test_database_of_a_newer_deskline_is_refused_untouched(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path) as s:
        await s.record_call(call("a", 1))
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 5}")
    db.close()
    before = digest(path)
    with pytest.raises(StoreError) as err:
        await Store(path).open()
    text = str(err.value)
    assert text.startswith(str(path)) and "newer" in text and "left as it is" in text
    assert digest(path) == before


async def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path):
    path = tmp_path / "d.sqlite3"
    path.write_bytes(b"this is my shopping list, not a database\n" * 200)
    before = digest(path)
    with pytest.raises(StoreError) as err:
        await Store(path).open()
    assert str(path) in str(err.value) and "damaged or not an SQLite file" in str(err.value)
    assert digest(path) == before
    assert not (tmp_path / "d.sqlite3-wal").exists()


async def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (x TEXT)")
    db.execute("INSERT INTO notes VALUES ('keep me')")
    db.commit()
    db.close()
    before = digest(path)
    with pytest.raises(StoreError, match="not a deskline database"):
        await Store(path).open()
    assert digest(path) == before


async def test_a_damaged_page_gives_a_located_error(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path) as s:
        await s.record_calls(call(f"c{i}", i, caller_number="x" * 500) for i in range(200))
    data = bytearray(path.read_bytes())
    data[4096 * 3:4096 * 6] = b"\xff" * (4096 * 3)  # smash some pages of the calls table
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        async with Store(path) as s:
            await s.history(None)
            assert await s.check() == []  # if reading happened to survive, the check must not
    assert str(path) in str(err.value)


async def test_a_locked_database_gives_a_clear_error_and_loses_nothing(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path, busy_timeout=0.2) as s:
        await s.record_call(call("a", 1))
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreError) as err:
                await s.record_call(call("b", 2))
            assert str(path) in str(err.value) and "locked" in str(err.value)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await s.record_call(call("b", 2))
        assert [c.call_id for c in await s.history()] == ["b", "a"]


async def test_a_writer_waits_for_a_short_lock_instead_of_failing(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path, busy_timeout=5) as s:
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        threading.Timer(0.3, lambda: (holder.execute("COMMIT"), holder.close())).start()
        await s.record_call(call("a", 1))
        assert (await s.call("a")) is not None


# -- concurrency and crashes -----------------------------------------------------------------------
async def test_many_concurrent_writers_in_one_process(store):
    await asyncio.gather(*(store.record_call(call(f"c{i}", i, caller_number=str(i))) for i in range(200)))
    await asyncio.gather(*(store.record_call(CallRecord(f"c{i}", status="Answered")) for i in range(200)))
    rows = await store.history(None)
    assert len(rows) == 200 and all(r.status == "Answered" and r.caller_number for r in rows)


WRITER = textwrap.dedent("""
    import asyncio, sys
    from engine.store import Store, CallRecord
    async def main(path, who):
        async with Store(path, busy_timeout=30) as s:
            for i in range(60):
                await s.record_call(CallRecord(f"{who}-{i}", started_at=i, caller_number=who))
    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


async def test_many_writer_processes_on_one_file(tmp_path):
    path = tmp_path / "d.sqlite3"
    async with Store(path) as s:  # created before, so the writers do not race on the first migration
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{n}"], cwd=REPO,
                                  stderr=subprocess.PIPE) for n in range(4)]
        await asyncio.gather(*(s.record_call(call(f"main-{i}", i)) for i in range(60)))
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err.decode()
        assert await s.count_calls() == 300
        by_writer = Counter(c.caller_number for c in await s.history(None))
        assert by_writer == {"p0": 60, "p1": 60, "p2": 60, "p3": 60, "": 60}


CRASHER = textwrap.dedent("""
    import asyncio, os, signal, sys
    from engine.store import Store, CallRecord

    class Killer(CallRecord):
        def known(self):
            os.kill(os.getpid(), signal.SIGKILL)  # dies inside the write transaction

    async def main(path):
        async with Store(path) as s:
            await s.record_calls([CallRecord(f"ok-{i}", started_at=i) for i in range(5)])
            await s.record_calls([CallRecord(f"lost-{i}", started_at=10 + i) for i in range(5)]
                                 + [Killer("boom")])
    asyncio.run(main(sys.argv[1]))
""")


async def test_killed_mid_transaction_keeps_committed_data_and_drops_the_half_write(tmp_path):
    path = tmp_path / "d.sqlite3"
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(path)], cwd=REPO, capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    async with Store(path) as s:
        assert await s.check() == []
        assert sorted(c.call_id for c in await s.history(None)) == [f"ok-{i}" for i in range(5)]
        await s.record_call(call("after", 99))  # and the file is writable again
        assert await s.count_calls() == 6


# -- export ----------------------------------------------------------------------------------------
async def test_export_never_contains_secrets(store, tmp_path):
    await store.record_call(call("c1", 5, caller_number="+4930123456", contact_name="=HYPERLINK(\"x\")",
                                 popup_url="https://hd.example/c/7?api_key=K3y-Secret-1&lang=de"))
    item, _ = await store.add_item(key="k1", call_id="c1", scenario="CallJournal", request="",
                                   payload={"Subject": "Call", "password": "hunter22", "nested": {"Token": "tok-abc"}},
                                   resend_safe=False, max_attempts=3)
    claimed = await store.claim_item(item.id)
    from engine.store import ItemState
    await store.settle_item(item.id, state=ItemState.FAILED, from_states=[ItemState.IN_FLIGHT], result="failed",
                            attempt_id=claimed[1], error="401 for user admin with password S3cr3t-Pass",
                            http_status=401, trace_id="t-1")
    secrets = ["S3cr3t-Pass", "hunter22", "tok-abc", "K3y-Secret-1"]
    out_csv, out_json = tmp_path / "h.csv", tmp_path / "h.json"
    assert await store.export(out_csv, "csv", secrets=["S3cr3t-Pass"]) == 1
    assert await store.export(out_json, "json", secrets=["S3cr3t-Pass"]) == 1
    for path in (out_csv, out_json):
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, (path.name, secret)
        assert "+4930123456" in text and "lang=de" in text
    data = json.loads(out_json.read_text(encoding="utf-8"))
    work = data["calls"][0]["work"][0]
    assert work["payload"]["Subject"] == "Call" and work["state"] == "failed"
    assert work["attempts"][0]["trace_id"] == "t-1" and work["attempts"][0]["http_status"] == 401
    csv_text = out_csv.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in csv_text  # no formula injection into spreadsheets
    assert "CallJournal: failed" in csv_text
    assert not list(tmp_path.glob("*.part"))


async def test_export_honours_the_filter_and_rejects_unknown_formats(store, tmp_path):
    await store.record_calls([call("a", 1, caller_number="111111"), call("b", 2, caller_number="222222")])
    out = tmp_path / "h.json"
    assert await store.export(out, "json", filter="2222") == 1
    assert [c["call_id"] for c in json.loads(out.read_text())["calls"]] == ["b"]
    with pytest.raises(StoreError, match="unknown export format"):
        await store.export(out, "xml")
    with pytest.raises(StoreError) as err:
        await store.export(tmp_path / "missing-dir" / "h.csv")
    assert "missing-dir" in str(err.value)


async def test_prune_forgets_old_finished_calls_but_keeps_open_work(store):
    from engine.store import ItemState

    await store.record_calls([call("old-done", 10), call("old-open", 11), call("old-bare", 12), call("new", 500)])
    done, _ = await store.add_item(key="k1", call_id="old-done", scenario="CallJournal", request="", payload={},
                                   resend_safe=False, max_attempts=3)
    await store.claim_item(done.id)
    await store.settle_item(done.id, state=ItemState.DONE, from_states=[ItemState.IN_FLIGHT], result="done")
    await store.add_item(key="k2", call_id="old-open", scenario="CallJournal", request="", payload={},
                         resend_safe=False, max_attempts=3)
    assert await store.prune(older_than=100) == 2
    assert sorted(c.call_id for c in await store.history(None)) == ["new", "old-open"]
    assert [i.call_id for i in await store.items()] == ["old-open"]
    assert await store.attempts(done.id) == []


async def test_search_strategies_agree_on_a_big_history(store):
    """Window scan, index and plain scan must give the same newest matches, page by page."""
    from engine.store.db import SCAN_WINDOW

    rng = random.Random(5)
    names = ["Ada Lovelace", "Grace Hopper", "Jürgen Groß", "Alan Turing"]
    total = SCAN_WINDOW + 1500
    await store.record_calls(
        CallRecord(f"c{i:05d}", direction="Inbound", started_at=float(rng.randrange(10**6)),
                   caller_number=f"+49 30 {rng.randrange(10**6):06d}",
                   contact_name=("Rare Person" if i in (3, 17) else rng.choice(names)))
        for i in range(total))
    # a contact renamed after the fact is found by its new name only
    await store.record_call(CallRecord("c00005", contact_name="Renamed Contact"))
    for text in ["ada", "hopper", "rare person", "renamed", "ada lovelace", "4930", "12345", "303", "zzzz"]:
        for limit, offset in [(50, 0), (20, 40), (None, 0)]:
            store._indexed = True
            fast = [c.call_id for c in await store.history(limit, text, offset)]
            store._indexed = False
            slow = [c.call_id for c in await store.history(limit, text, offset)]
            assert fast == slow, (text, limit, offset)
    store._indexed = True
    assert [c.call_id for c in await store.search("rare person", None)] != []
    assert await store.search("renamed") == [await store.call("c00005")]
    assert all(c.call_id != "c00005" for c in await store.search("zzzz"))
