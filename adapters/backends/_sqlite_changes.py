"""The SQLite change log: one ``changes`` table in the database file (no I/O of its own).

Every write adds one row per changed record to ``changes`` in the transaction
of the write, so the log holds exactly the committed changes, in commit order
(SQLite has one writer at a time; ``AUTOINCREMENT`` never reuses a number, even
after pruning). A row keeps only what the write destroyed: an update or a
deletion stores the previous document, an insertion nothing. The record after
a change is therefore found, in the reader's snapshot, either as the previous
document of the key's *next* update or deletion, or, when there is none yet, as
the row in ``documents``: new documents are never written twice.

Retention: :func:`prune` removes changes older than ``feed_max_age`` and beyond
``feed_max_changes`` per collection, in small transactions; ``changes_pruned``
keeps, per collection, the newest pruned position, so a cursor older than it is
refused instead of skipping changes.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from typing import Any

import msgspec

from .._stored import RawChange, Stored, from_micros, to_micros, utc_now

__all__ = [
    "FEED_SCHEMA",
    "Expired",
    "head",
    "log_changes",
    "prune_age",
    "prune_count",
    "read_changes",
]

FEED_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        collection TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        updated_us INTEGER NOT NULL,
        old_data TEXT,
        old_updated_us INTEGER,
        at_us INTEGER NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS changes_by_collection ON changes (collection, seq)",
    "CREATE INDEX IF NOT EXISTS changes_by_key ON changes (collection, key, seq) WHERE kind != 'i'",
    """
    CREATE TABLE IF NOT EXISTS changes_pruned (
        collection TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
)
"""Statements creating the change log (idempotent)."""

logger = logging.getLogger("adapters")

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_INSERT = (
    "INSERT INTO changes (collection, kind, key, version, created_us, updated_us, old_data,"
    " old_updated_us, at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_BATCH = 5000  # rows per pruning transaction


class Expired(Exception):
    """Changes after the requested position were pruned."""


def log_changes(conn: sqlite3.Connection, collection: str, changes: list[RawChange]) -> None:
    """Append ``changes`` to the log (inside the writing transaction)."""
    at = to_micros(utc_now())
    rows: list[tuple[Any, ...]] = []
    for ch in changes:
        new, old = ch.new, ch.old
        if ch.kind == "inserted" and new is not None:
            created = to_micros(new.created_at)
            rows.append((collection, "i", ch.key, new.version, created, created, None, None, at))
        elif ch.kind == "updated" and new is not None and old is not None:
            rows.append(
                (
                    collection,
                    "u",
                    ch.key,
                    new.version,
                    to_micros(new.created_at),
                    to_micros(new.updated_at),
                    _encode(old.data),
                    to_micros(old.updated_at),
                    at,
                )
            )
        elif old is not None:
            created, updated = to_micros(old.created_at), to_micros(old.updated_at)
            data = _encode(old.data)
            rows.append((collection, "d", ch.key, old.version, created, updated, data, None, at))
    conn.executemany(_INSERT, rows)


def head(conn: sqlite3.Connection) -> int:
    """The position of the newest change in the file (0 when none was ever logged)."""
    found = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return 0 if found is None else int(found[0])


def _horizon(conn: sqlite3.Connection, collection: str) -> int:
    found = conn.execute(
        "SELECT seq FROM changes_pruned WHERE collection = ?", (collection,)
    ).fetchone()
    return 0 if found is None else int(found[0])


def read_changes(
    conn: sqlite3.Connection, collection: str, after: int, limit: int
) -> list[tuple[int, RawChange]]:
    """Up to ``limit`` changes of ``collection`` after ``after``, with their positions.

    Call inside one read transaction (a snapshot), so the records resolved from
    ``documents`` belong to the same moment as the log.

    Raises:
        Expired: changes after ``after`` were pruned.
    """
    if after < _horizon(conn, collection):
        raise Expired
    rows = conn.execute(
        "SELECT seq, kind, key, version, created_us, updated_us, old_data, old_updated_us"
        " FROM changes WHERE collection = ? AND seq > ? ORDER BY seq LIMIT ?",
        (collection, after, limit),
    ).fetchall()
    out: list[tuple[int, RawChange]] = []
    for seq, kind, key, version, created_us, updated_us, old_data, old_updated_us in rows:
        created = from_micros(created_us)
        if kind == "d":
            old = Stored(key, _decode(old_data), version, created, from_micros(updated_us))
            out.append((seq, RawChange(collection, "deleted", key, None, old)))
            continue
        new = _after(conn, collection, key, seq, version, created)
        if kind == "i":
            out.append((seq, RawChange(collection, "inserted", key, new, None)))
        else:
            previous = Stored(
                key, _decode(old_data), version - 1, created, from_micros(old_updated_us)
            )
            out.append((seq, RawChange(collection, "updated", key, new, previous)))
    return out


def _after(
    conn: sqlite3.Connection, collection: str, key: str, seq: int, version: int, created: Any
) -> Stored | None:
    """The record as the change at ``seq`` left it (see the module docstring)."""
    following = conn.execute(
        "SELECT kind, version, updated_us, old_data, old_updated_us FROM changes"
        " WHERE collection = ? AND key = ? AND kind != 'i' AND seq > ? ORDER BY seq LIMIT 1",
        (collection, key, seq),
    ).fetchone()
    if following is not None:
        kind, next_version, updated_us, old_data, old_updated_us = following
        if kind == "u":
            updated_us, next_version = old_updated_us, next_version - 1
        return Stored(key, _decode(old_data), next_version, created, from_micros(updated_us))
    row = conn.execute(
        "SELECT data, version, updated_us FROM documents WHERE collection = ? AND key = ?",
        (collection, key),
    ).fetchone()
    if row is None or row[1] != version:
        # Written around the log (e.g. by an older version of this library).
        logger.warning(
            "change log of %r: record %r at version %d is gone", collection, key, version
        )
        return None
    return Stored(key, _decode(row[0]), version, created, from_micros(row[2]))


def _mark(conn: sqlite3.Connection, pruned: Iterable[tuple[str, int]]) -> None:
    conn.executemany(
        "INSERT INTO changes_pruned (collection, seq) VALUES (?, ?)"
        " ON CONFLICT (collection) DO UPDATE SET seq = max(seq, excluded.seq)",
        list(pruned),
    )


def prune_age(conn: sqlite3.Connection, cutoff_us: int) -> bool:
    """Remove up to one batch of the oldest changes logged before ``cutoff_us``.

    Returns whether more may remain (call again, in a new transaction).
    """
    rows = conn.execute(
        "SELECT seq, collection, at_us FROM changes ORDER BY seq LIMIT ?", (_BATCH,)
    ).fetchall()
    old = 0
    while old < len(rows) and rows[old][2] < cutoff_us:
        old += 1
    if not old:
        return False
    last = rows[old - 1][0]
    newest: dict[str, int] = {}
    for seq, collection, _ in rows[:old]:
        newest[collection] = seq
    conn.execute("DELETE FROM changes WHERE seq <= ?", (last,))
    _mark(conn, newest.items())
    return old == len(rows)


def prune_count(conn: sqlite3.Connection, collection: str, keep: int) -> bool:
    """Remove up to one batch of ``collection``'s changes beyond the newest ``keep``.

    Returns whether more may remain.
    """
    boundary = conn.execute(
        "SELECT seq FROM changes WHERE collection = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
        (collection, keep),
    ).fetchone()
    if boundary is None:
        return False
    last = conn.execute(
        "SELECT max(seq) FROM (SELECT seq FROM changes WHERE collection = ? AND seq <= ?"
        " ORDER BY seq LIMIT ?)",
        (collection, boundary[0], _BATCH),
    ).fetchone()[0]
    conn.execute("DELETE FROM changes WHERE collection = ? AND seq <= ?", (collection, last))
    _mark(conn, [(collection, last)])
    return bool(last < boundary[0])
