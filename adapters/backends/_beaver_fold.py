"""The deterministic fold behind the ``beaver+http://`` backend (no I/O).

BeaverDB's REST API has no compare-and-set and cannot list dict keys, but its log
gives a total order: an entry written with timestamp ``t`` that is already taken
is stored at ``t + 1e-6``, then ``t + 2e-6``... inside one server transaction. The
backend therefore keeps each collection as a *log of operations* whose
timestamps form one dense chain (``1.0``, ``1.0 + 1e-6``, ...), always appending
at the slot after the last entry it knows: a stale writer is bumped past every
entry it has not seen, so entries land in commit order. Every store folds the
same entries in the same order with :func:`fold`, which lets the row engine
decide each one, so all stores agree on which writes won: an ``insert`` of a
taken key, or an ``update`` whose ``if_version`` no longer matches, is decided
once, the same way, everywhere.

An operation is a JSON object ``{"noex": 1, "id", "at", "op", ...}``:

============ ===========================================================
``insert``   ``docs: [[key, doc], ...]``, ``unique: [field, ...]`` (one atomic batch)
``update``   ``key``, ``doc`` (changes, merged shallowly), ``if_version``, ``unique``
``replace``  ``key``, ``doc``, ``if_version``, ``unique``
``delete``   ``key``, ``if_version``
``clear``    (no fields)
============ ===========================================================

``unique`` travels with the operation: the writer's unique fields decide, so
stores that declared other fields still agree.

A change's position in the feed is ``(entry timestamp, index of the change in
the entry's outcome)``, the timestamp as the integer of its IEEE bits (same
order for positive floats); its cursor is that position as text.
"""

from __future__ import annotations

import struct
from datetime import datetime
from typing import Any

from .._engine import CLEAR, Delete, Insert, Op, RowMap, Write, apply
from .._errors import AdapterError
from .._feed import format_cursor, parse_cursor
from .._stored import RawChange

__all__ = [
    "FIRST_SLOT",
    "Outcome",
    "Position",
    "check_cursor",
    "cursor_of",
    "entry_of",
    "fold",
    "head_of",
    "is_operation",
    "next_slot",
    "positioned",
]

FIRST_SLOT = 1.0
"""Timestamp of a collection's first operation."""
_STEP = 1e-6  # the server's collision bump: slots are prev + 1e-6, float addition

Outcome = list[RawChange] | AdapterError
"""What an operation produced: the changes it made, or the error it lost with."""


def next_slot(tail: float | None) -> float:
    """The chain slot after ``tail`` (the first slot when the log is empty)."""
    return FIRST_SLOT if tail is None else tail + _STEP


def is_operation(data: Any) -> bool:
    """Whether a log entry's data is one of our operations (others are ignored)."""
    return isinstance(data, dict) and data.get("noex") == 1 and isinstance(data.get("op"), str)


def entry_of(op_id: str, at: datetime, op: Op, unique: tuple[str, ...]) -> dict[str, Any]:
    """The log entry of ``op``."""
    head: dict[str, Any] = {"noex": 1, "id": op_id, "at": at.isoformat()}
    if isinstance(op, Insert):
        return {**head, "op": "insert", "docs": [[k, d] for k, d in op.docs], "unique": unique}
    if isinstance(op, Write):
        kind = "update" if op.merge else "replace"
        fields = {"key": op.key, "doc": op.doc, "if_version": op.if_version, "unique": unique}
        return {**head, "op": kind, **fields}
    if isinstance(op, Delete):
        return {**head, "op": "delete", "key": op.key, "if_version": op.if_version}
    return {**head, "op": "clear"}


def _op_of(entry: dict[str, Any]) -> Op | None:
    """The operation of an entry; ``None`` for a kind from a newer version.

    Raises:
        KeyError, TypeError, ValueError: a malformed entry.
    """
    kind = entry["op"]
    if kind == "insert":
        return Insert([(str(key), dict(doc)) for key, doc in entry["docs"]])
    if kind in ("update", "replace"):
        return Write(_key(entry), dict(entry["doc"]), kind == "update", entry.get("if_version"))
    if kind == "delete":
        return Delete(_key(entry), entry.get("if_version"))
    if kind == "clear":
        return CLEAR
    return None


def _key(entry: dict[str, Any]) -> str:
    key = entry["key"]
    if not isinstance(key, str):
        raise TypeError(f"entry key must be a string, got {type(key).__name__}")
    return key


def fold(collection: str, rows: RowMap, entry: dict[str, Any]) -> Outcome:
    """Apply one log entry to ``rows`` in place.

    Returns:
        The changes it made (detached from ``rows``, for ``watch`` and the
        writer), or the error it lost with; a losing operation changes nothing.

    Raises:
        KeyError, TypeError, ValueError: a malformed entry (it changes nothing).
    """
    at = datetime.fromisoformat(entry["at"])
    unique = tuple(entry.get("unique", ()))
    op = _op_of(entry)
    if op is None:
        return []  # an operation kind from a newer version: ignored
    try:
        return rows.commit(apply(collection, unique, rows, op, at))
    except AdapterError as exc:
        return exc


Position = tuple[int, int]
"""``(timestamp bits, change index)``."""

_TAG = "b"
_LAST = 2**62  # a change index after every change of an entry


def _bits(timestamp: float | None) -> int:
    if timestamp is None:
        return 0
    return int(struct.unpack(">Q", struct.pack(">d", timestamp))[0])


def head_of(tail: float | None) -> Position:
    """The position after every change of the entries up to ``tail``."""
    return _bits(tail), _LAST


def cursor_of(position: Position) -> str:
    """The cursor of a position."""
    return format_cursor(_TAG, *position)


def check_cursor(since: str) -> Position:
    """The position of a BeaverDB cursor.

    Raises:
        ValueError: not a cursor of the BeaverDB backend.
    """
    bits, i = parse_cursor(since, _TAG, 2, "beaver")
    return bits, i


def positioned(timestamp: float, changes: list[RawChange]) -> list[tuple[Position, RawChange]]:
    """The changes of the entry at ``timestamp`` with their positions, cursors set."""
    bits = _bits(timestamp)
    return [
        (
            (bits, i),
            RawChange(c.collection, c.kind, c.key, c.new, c.old, format_cursor(_TAG, bits, i)),
        )
        for i, c in enumerate(changes)
    ]
