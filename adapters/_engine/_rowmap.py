"""A row set held in a ``dict``, and detached copies of rows.

:class:`RowMap` serves the memory backend's collections, the BeaverDB backend's
folded mirror and the rows a remote backend loads for one decision. Rows in it
are never modified in place (a write replaces the row), so a row read under a
lock can be copied after the lock is released.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from .._stored import RawChange, Stored

__all__ = ["RowMap", "copy_change", "copy_doc", "copy_row"]

_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(dict[str, Any]).decode


def copy_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON document (a MessagePack round trip: much faster than deepcopy)."""
    try:
        return _unpack(_pack(doc))
    except OverflowError:  # an integer beyond 64 bits
        return copy.deepcopy(doc)


def copy_row(row: Stored) -> Stored:
    """``row`` with a private copy of its document."""
    return Stored(row.key, copy_doc(row.data), row.version, row.created_at, row.updated_at)


def copy_change(change: RawChange) -> RawChange:
    """``change`` with private copies of its rows."""
    new = None if change.new is None else copy_row(change.new)
    old = None if change.old is None else copy_row(change.old)
    return RawChange(change.collection, change.kind, change.key, new, old, change.cursor)


class RowMap:
    """The rows of one collection in a ``dict`` (a :class:`~adapters._engine.RowView`)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[str, Stored] | None = None) -> None:
        self._rows = {} if rows is None else rows

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: str) -> Stored | None:
        """The row stored under ``key``, or ``None``."""
        return self._rows.get(key)

    def taken(self, keys: Sequence[str]) -> str | None:
        """The first of ``keys`` held already, or ``None``."""
        rows = self._rows
        return next((key for key in keys if key in rows), None)

    def rows(self) -> Iterable[Stored]:
        """Every row (a live view: do not write while iterating)."""
        return self._rows.values()

    def clear(self) -> None:
        """Forget every row."""
        self._rows.clear()

    def commit(self, changes: list[RawChange]) -> list[RawChange]:
        """Store ``changes``; return copies of them that share nothing with the map."""
        rows = self._rows
        for change in changes:
            if change.new is None:
                rows.pop(change.key, None)
            else:
                rows[change.key] = change.new
        return [copy_change(change) for change in changes]
