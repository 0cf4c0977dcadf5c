"""``deskline history`` and ``deskline outbox`` against a real store at the configured path."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys

import pytest

from engine.outbox import Outbox, Outcome
from engine.store import CallRecord, ItemState, Store
from tests.conftest import REPO
from tui.cli import main

T0 = 1_764_000_000.0  # 2025-11-24


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "data" / "deskline.sqlite3"


def _calls() -> list[CallRecord]:
    return [
        CallRecord("c1", direction="Inbound", caller_number="+4930123456", callee_number="2002", extension="2002",
                   started_at=T0, status="Answered", talk_seconds=42, contact_name="Ada Lovelace",
                   popup_url="https://desk.example/contact/7?token=popup-token-123"),
        CallRecord("c2", direction="Inbound", caller_number="+15557000", callee_number="2001", extension="2001",
                   started_at=T0 + 60, status="No Answer", talk_seconds=0),
        CallRecord("c3", direction="Outbound", caller_number="2002", callee_number="+4989111222", extension="2002",
                   started_at=T0 + 120, status="Answered", talk_seconds=5, contact_name="Grace Hopper"),
    ]


async def _fill(path, *, outbox: bool = False) -> dict[str, int]:
    """Three calls; with *outbox*: one item dead, one in attention, one done, one pending."""
    ids: dict[str, int] = {}
    async with Store(path) as store:
        await store.record_calls(_calls())
        if not outbox:
            return ids
        outcomes = iter([Outcome.fatal("HTTP 422: bad field Subject"), Outcome.unknown("timeout after sending"),
                         Outcome.done({"TicketId": "17"})])

        async def execute(item):
            return next(outcomes)
        box = Outbox(store, execute)
        for call_id, scenario in (("c1", "CallJournal"), ("c2", "NewTicket"), ("c3", "CallJournal")):
            item = await box.enqueue(call_id, scenario, {"password": "hunter2-secret", "number": "+4930123456"})
            ids[call_id] = item.id
        assert await box.run_due() == 3
        ids["pending"] = (await box.enqueue("c3", "NewTicket", delay=3600)).id
    return ids


# -- history ------------------------------------------------------------------------------------------
def test_history_lists_newest_first(store_path, capsys):
    asyncio.run(_fill(store_path))
    assert main(["history"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [ln.split()[2:5] for ln in lines] == [["out", "2002", "->"], ["in", "+15557000", "->"],
                                                 ["in", "+4930123456", "->"]]
    assert lines[0].rstrip().endswith("Answered 5s  Grace Hopper")
    assert "ext 2002" in lines[2] and lines[2].rstrip().endswith("Answered 42s  Ada Lovelace")
    assert err == f"3 call(s), in {store_path}\n"


def test_history_limit_search_and_missed(store_path, capsys):
    asyncio.run(_fill(store_path))
    assert main(["history", "--limit", "1"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and "Grace Hopper" in out and err.startswith("1 of 3 call(s)")
    assert main(["history", "--search", "(30) 123"]) == 0  # by the digits of the number
    out, err = capsys.readouterr()
    assert "Ada Lovelace" in out and len(out.splitlines()) == 1 and err.startswith("1 call(s) matching")
    assert main(["history", "--search", "grace"]) == 0
    assert "Grace Hopper" in capsys.readouterr().out
    assert main(["history", "--missed"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 and "+15557000" in out and "No Answer" in out


def test_history_without_a_store_is_empty_and_creates_nothing(store_path, capsys):
    assert main(["history"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "no calls yet" in err
    assert not store_path.exists()


def test_history_refuses_bad_arguments(capsys):
    assert main(["history", "--limit", "-3"]) == 2
    assert capsys.readouterr().err == "error: --limit: the number of calls is 0 (all) or more, not -3\n"
    assert main(["history", "--format", "json"]) == 2
    assert capsys.readouterr().err.startswith("error: --format: ")


def test_history_store_that_is_not_a_database_is_a_located_error(store_path, capsys):
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(b"not a database at all" * 100)
    assert main(["history"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {store_path}")
    assert store_path.read_bytes() == b"not a database at all" * 100


def test_history_export_csv_masks_secrets(store_path, tmp_path, capsys, monkeypatch):
    asyncio.run(_fill(store_path, outbox=True))
    monkeypatch.setenv("DESKLINE_PBX__CLIENT_SECRET", "popup-token-123")  # a configured secret, found in text
    dest = tmp_path / "calls.csv"
    assert main(["history", "--export", str(dest)]) == 0
    assert capsys.readouterr().out == f"wrote 3 call(s) to {dest} (csv, secrets masked)\n"
    text = dest.read_text()
    assert "popup-token-123" not in text and "hunter2-secret" not in text
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["call_id"] for r in rows] == ["c3", "c2", "c1"]


def test_history_export_json_masks_payload_and_field_secrets(store_path, tmp_path, capsys, monkeypatch):
    asyncio.run(_fill(store_path, outbox=True))
    fields = tmp_path / "fields.toml"
    fields.write_text('url = "https://desk.example"\napi_token = "timeout after sending"\n')
    fields.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(f'[helpdesk]\nfields_file = "{fields}"\n')
    dest = tmp_path / "out.json"
    assert main(["--config", str(config), "history", "--export", str(dest), "--search", "4930"]) == 0
    data = json.loads(dest.read_text())
    assert [c["call_id"] for c in data["calls"]] == ["c1"]
    [item] = data["calls"][0]["work"]
    assert item["payload"]["password"] != "hunter2-secret" and "hunter2" not in dest.read_text()
    assert item["payload"]["number"] == "+4930123456"
    # c2's last error equals the api_token field value: masked wherever it occurs
    assert main(["--config", str(config), "history", "--export", str(dest), "--format", "json"]) == 0
    assert "timeout after sending" not in dest.read_text()


def test_history_export_refused_when_the_secrets_cannot_be_read(store_path, tmp_path, capsys):
    asyncio.run(_fill(store_path))
    config = tmp_path / "config.toml"
    config.write_text(f'[helpdesk]\nfields_file = "{tmp_path / "missing.toml"}"\n')
    dest = tmp_path / "out.csv"
    assert main(["--config", str(config), "history", "--export", str(dest)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'missing.toml'}")
    assert not dest.exists()


def test_history_subprocess_smoke(store_path, tmp_path):
    asyncio.run(_fill(store_path))
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # conftest's DESKLINE_DATA_DIR is inherited
    out = subprocess.run([sys.executable, "-m", "tui.cli", "history", "--search", "Ada"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Ada Lovelace" in out.stdout and len(out.stdout.splitlines()) == 1


# -- outbox -------------------------------------------------------------------------------------------
def test_outbox_list_shows_what_needs_the_operator(store_path, capsys):
    ids = asyncio.run(_fill(store_path, outbox=True))
    assert main(["outbox"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [int(ln.split()[0]) for ln in lines] == [ids["c2"], ids["c1"]]  # attention first, then dead
    assert "attention  NewTicket for call c2" in lines[0] and "timeout after sending" in lines[0]
    assert "dead       CallJournal for call c1" in lines[1] and "HTTP 422: bad field Subject" in lines[1]
    assert "hunter2" not in out + err  # payloads are not printed
    assert err.startswith("2 need(s) attention (1 attention, 1 dead), 1 waiting, 1 done, 0 dropped")
    assert "deskline outbox retry|done|drop ID" in err
    assert main(["outbox", "list", "--all"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_outbox_retry_done_drop(store_path, capsys):
    ids = asyncio.run(_fill(store_path, outbox=True))
    assert main(["outbox", "retry", str(ids["c1"])]) == 0
    assert capsys.readouterr().out == f"outbox item {ids['c1']} (CallJournal for call c1) queued again (the console sends it)\n"
    assert main(["outbox", "done", str(ids["c2"]), "--note", "found it in the helpdesk"]) == 0
    assert "marked done" in capsys.readouterr().out
    assert main(["outbox", "drop", str(ids["pending"])]) == 0
    assert "dropped" in capsys.readouterr().out

    async def states():
        async with Store(store_path) as store:
            return {k: (await store.item(v)) for k, v in ids.items()}, await store.attempts(ids["c2"])
    items, attempts = asyncio.run(states())
    assert items["c1"].state == ItemState.PENDING and items["c1"].attempts == 0
    assert items["c2"].state == ItemState.DONE and items["pending"].state == ItemState.DROPPED
    assert attempts[-1].result == "operator: marked done" and attempts[-1].error == "found it in the helpdesk"


def test_outbox_refuses_unknown_items_and_wrong_states(store_path, capsys):
    ids = asyncio.run(_fill(store_path, outbox=True))
    assert main(["outbox", "retry", "999"]) == 2
    assert capsys.readouterr().err == "error: outbox item 999: no such outbox item\n"
    assert main(["outbox", "drop", str(ids["c3"])]) == 2  # already written
    assert capsys.readouterr().err.startswith(f"error: outbox item {ids['c3']}: the item is done;")


def test_outbox_without_a_store(store_path, capsys):
    assert main(["outbox"]) == 0
    assert "the outbox is empty" in capsys.readouterr().err
    assert main(["outbox", "done", "1"]) == 2
    assert capsys.readouterr().err.startswith("error: outbox item 1: no such outbox item")
    assert not store_path.exists()


def test_outbox_id_must_be_a_number(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["outbox", "retry", "abc"])
    assert exc.value.code == 2


def test_outbox_subprocess_smoke(store_path):
    ids = asyncio.run(_fill(store_path, outbox=True))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "tui.cli", "outbox", *a], cwd=REPO, env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    assert run("drop", str(ids["c1"])).returncode == 0
    out = run("list")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 1 and "NewTicket for call c2" in out.stdout
