"""The store's SQL schema as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied; a database
whose version is higher than :data:`SCHEMA_VERSION` was written by a newer
deskline and is refused, never altered.  ``PRAGMA application_id`` marks the
file as deskline's, so a foreign SQLite file is refused too.

Rules for a new migration: append it (never edit an applied one), keep it one
transaction's worth of DDL/DML, and add a test that opens a database of the
previous version.
"""

from __future__ import annotations

# "DLN1" as a big-endian 32-bit integer.
APPLICATION_ID = 0x444C4E31

MIGRATIONS: tuple[str, ...] = (
    # 1: calls, outbox items and the attempts made for them.
    """
    CREATE TABLE calls (
        id              INTEGER PRIMARY KEY,  -- stable row id (the search index refers to it)
        call_id         TEXT NOT NULL UNIQUE,
        direction       TEXT NOT NULL DEFAULT '',
        caller_number   TEXT NOT NULL DEFAULT '',
        callee_number   TEXT NOT NULL DEFAULT '',
        caller_name     TEXT NOT NULL DEFAULT '',
        extension       TEXT NOT NULL DEFAULT '',
        started_at      REAL,
        answered_at     REAL,
        ended_at        REAL,
        ring_seconds    INTEGER,
        talk_seconds    INTEGER,
        status          TEXT NOT NULL DEFAULT '',
        contact_id      TEXT NOT NULL DEFAULT '',
        contact_name    TEXT NOT NULL DEFAULT '',
        contact_type    TEXT NOT NULL DEFAULT '',
        popup_url       TEXT NOT NULL DEFAULT '',
        number_digits   TEXT NOT NULL DEFAULT '',  -- digits of both numbers, for number search
        name_fold       TEXT NOT NULL DEFAULT '',  -- casefolded names and contact id, for text search
        updated_at      REAL NOT NULL
    );
    CREATE INDEX calls_started ON calls (started_at DESC, call_id DESC);
    CREATE INDEX calls_contact ON calls (contact_id);

    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        key             TEXT NOT NULL UNIQUE,
        call_id         TEXT NOT NULL,
        scenario        TEXT NOT NULL,
        request         TEXT NOT NULL DEFAULT '',
        payload         TEXT NOT NULL DEFAULT '{}',
        resend_safe     INTEGER NOT NULL DEFAULT 0,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        max_attempts    INTEGER NOT NULL,
        next_attempt_at REAL NOT NULL,
        last_error      TEXT NOT NULL DEFAULT '',
        outputs         TEXT NOT NULL DEFAULT '{}',
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
    CREATE INDEX outbox_call ON outbox (call_id);

    CREATE TABLE attempts (
        id              INTEGER PRIMARY KEY,
        item_id         INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        number          INTEGER NOT NULL,
        started_at      REAL NOT NULL,
        finished_at     REAL,
        result          TEXT NOT NULL DEFAULT 'unknown',
        http_status     INTEGER,
        error           TEXT NOT NULL DEFAULT '',
        trace_id        TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX attempts_item ON attempts (item_id, number);

    -- Who delivers the outbox: one runner per database, by a renewed lease.
    CREATE TABLE runner (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        holder          TEXT NOT NULL,
        expires_at      REAL NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

# The search index (not versioned: only built where SQLite has the trigram
# tokenizer; see Store._index).  External content: the triggers keep it in step
# with ``calls``.
SEARCH_INDEX = """
CREATE VIRTUAL TABLE calls_search USING fts5(
    number_digits, name_fold, content = 'calls', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER calls_search_insert AFTER INSERT ON calls BEGIN
    INSERT INTO calls_search (rowid, number_digits, name_fold) VALUES (new.id, new.number_digits, new.name_fold);
END;
CREATE TRIGGER calls_search_delete AFTER DELETE ON calls BEGIN
    INSERT INTO calls_search (calls_search, rowid, number_digits, name_fold)
    VALUES ('delete', old.id, old.number_digits, old.name_fold);
END;
CREATE TRIGGER calls_search_update AFTER UPDATE OF number_digits, name_fold ON calls BEGIN
    INSERT INTO calls_search (calls_search, rowid, number_digits, name_fold)
    VALUES ('delete', old.id, old.number_digits, old.name_fold);
    INSERT INTO calls_search (rowid, number_digits, name_fold) VALUES (new.id, new.number_digits, new.name_fold);
END;
"""
