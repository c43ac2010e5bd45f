"""The deterministic state machine behind the ``beaver+http://`` backend (no I/O).

BeaverDB's REST API has no compare-and-set and cannot list dict keys, but its log
gives a total order: an entry written with timestamp ``t`` that is already taken
is stored at ``t + 1e-6``, then ``t + 2e-6``... inside one server transaction. The
backend therefore keeps each collection as a *log of operations* whose
timestamps form one dense chain (``1.0``, ``1.0 + 1e-6``, ...), always appending
at the slot after the last entry it knows: a stale writer is bumped past every
entry it has not seen, so entries land in commit order. Every store folds the
same entries in the same order with :func:`apply`, so all stores agree on which
writes won: an ``insert`` of a taken key, or an ``update`` whose ``if_version``
no longer matches, is decided once, the same way, everywhere.

An operation is a JSON object ``{"noex": 1, "id", "at", "op", ...}``:

============ ===========================================================
``insert``   ``docs: [[key, doc], ...]``, ``unique: [field, ...]`` (one atomic batch)
``update``   ``key``, ``doc`` (changes, merged shallowly), ``if_version``, ``unique``
``replace``  ``key``, ``doc``, ``if_version``, ``unique``
``delete``   ``key``, ``if_version``
``clear``    (no fields)
============ ===========================================================
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from .._errors import AdapterError, AlreadyExists, Conflict, NotFound
from .._stored import RawChange, Stored
from .._unique import check_unique

__all__ = ["FIRST_SLOT", "Outcome", "apply", "is_operation", "next_slot", "operation"]

FIRST_SLOT = 1.0
"""Timestamp of a collection's first operation."""
_STEP = 1e-6  # the server's collision bump: slots are prev + 1e-6, float addition

Outcome = list[Stored] | Stored | bool | int | AdapterError
"""What an operation produced: records, ``delete``'s bool, ``clear``'s count, or its error."""


def next_slot(tail: float | None) -> float:
    """The chain slot after ``tail`` (the first slot when the log is empty)."""
    return FIRST_SLOT if tail is None else tail + _STEP


def operation(op_id: str, at: datetime, op: str, **fields: Any) -> dict[str, Any]:
    """Build an operation entry."""
    return {"noex": 1, "id": op_id, "at": at.isoformat(), "op": op, **fields}


def is_operation(data: Any) -> bool:
    """Whether a log entry's data is one of our operations (others are ignored)."""
    return isinstance(data, dict) and data.get("noex") == 1 and isinstance(data.get("op"), str)


def _copy(stored: Stored) -> Stored:
    return Stored(
        stored.key, copy.deepcopy(stored.data), stored.version, stored.created_at, stored.updated_at
    )


def apply(
    collection: str, rows: dict[str, Stored], entry: dict[str, Any]
) -> tuple[Outcome, list[RawChange]]:
    """Apply one operation to ``rows`` in place.

    Returns:
        The operation's outcome (an error instance when it lost) and the changes it
        made, for ``watch``. A losing operation changes nothing.

    Raises:
        KeyError, TypeError, ValueError: A malformed entry (it changes nothing).
    """
    at = datetime.fromisoformat(entry["at"])
    unique = tuple(entry.get("unique", ()))
    kind = entry["op"]
    try:
        if kind == "insert":
            return _insert(collection, rows, entry["docs"], unique, at)
        if kind in ("update", "replace"):
            return _write(collection, rows, entry, kind == "update", unique, at)
        if kind == "delete":
            return _delete(collection, rows, entry["key"], entry.get("if_version"))
        if kind == "clear":
            removed = list(rows.values())
            rows.clear()
            return len(removed), [RawChange(collection, "deleted", s.key, None, s) for s in removed]
    except AdapterError as exc:
        return exc, []
    return 0, []  # an operation kind from a newer version: ignored


def _insert(
    collection: str,
    rows: dict[str, Stored],
    docs: list[list[Any]],
    unique: tuple[str, ...],
    at: datetime,
) -> tuple[Outcome, list[RawChange]]:
    writes = [(str(key), dict(doc)) for key, doc in docs]
    keys: set[str] = set()
    for key, _ in writes:
        if key in rows or key in keys:
            raise AlreadyExists(collection, key)
        keys.add(key)
    check_unique(collection, unique, writes, [(k, s.data) for k, s in rows.items()])
    out = [Stored(key, doc, 1, at, at) for key, doc in writes]
    for stored in out:
        rows[stored.key] = stored
    return [_copy(s) for s in out], [
        RawChange(collection, "inserted", s.key, _copy(s), None) for s in out
    ]


def _write(
    collection: str,
    rows: dict[str, Stored],
    entry: dict[str, Any],
    merge: bool,
    unique: tuple[str, ...],
    at: datetime,
) -> tuple[Outcome, list[RawChange]]:
    key: str = entry["key"]
    old = rows.get(key)
    if old is None:
        raise NotFound(collection, key)
    expected = entry.get("if_version")
    if expected is not None and old.version != expected:
        raise Conflict(collection, key, expected, old.version)
    data = {**copy.deepcopy(old.data), **entry["doc"]} if merge else dict(entry["doc"])
    others = [(k, s.data) for k, s in rows.items() if k != key]
    check_unique(collection, unique, [(key, data)], others)
    new = Stored(key, data, old.version + 1, old.created_at, max(at, old.updated_at))
    rows[key] = new
    return _copy(new), [RawChange(collection, "updated", key, _copy(new), _copy(old))]


def _delete(
    collection: str, rows: dict[str, Stored], key: str, expected: int | None
) -> tuple[Outcome, list[RawChange]]:
    old = rows.get(key)
    if old is None:
        return False, []
    if expected is not None and old.version != expected:
        raise Conflict(collection, key, expected, old.version)
    del rows[key]
    return True, [RawChange(collection, "deleted", key, None, _copy(old))]
