"""``memory://`` — an in-process backend for tests and demos.

``memory://`` opens a private, empty data set. ``memory://NAME`` opens the
data set ``NAME`` shared by every store of this process that uses the same
name; it lives while at least one such store is open. Rows live in a ``dict``
per collection; the row engine decides every write and query; ``watch`` sees
every write of the process to the data set. ``store.lock()`` locks are shared
by the stores of the process on the same data set (``memory_lock``). No options.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .._engine import EngineCollection, Op, RowMap, apply, copy_row
from .._filters import FilterNode
from .._options import options_from
from .._store import Store
from .._stored import ChangeHub, RawChange, Stored, Subscription, utc_now
from .memory_lock import LockCells, MemoryLocks

__all__ = ["MemoryCollection", "MemoryOptions", "MemoryStore", "open_store"]

R = TypeVar("R")


@dataclass(frozen=True)
class MemoryOptions:
    """``memory://`` takes no options."""


@dataclass
class _DataSet:
    collections: dict[str, dict[str, Stored]] = field(default_factory=dict)
    hub: ChangeHub = field(default_factory=ChangeHub)
    lock: threading.Lock = field(default_factory=threading.Lock)
    locks: LockCells = field(default_factory=LockCells)
    users: int = 0


_named: dict[str, _DataSet] = {}
_named_lock = threading.Lock()


class MemoryCollection(EngineCollection):
    """A collection of a :class:`MemoryStore`: a ``dict`` of rows."""

    _store: MemoryStore

    @property
    def _rows(self) -> RowMap:
        return RowMap(self._store._data.collections.setdefault(self._name, {}))

    async def _commit(self, op: Op) -> list[RawChange]:
        with self._store._data.lock:
            rows = self._rows
            return rows.commit(apply(self._name, self._unique, rows, op, utc_now()))

    def _publish(self, changes: list[RawChange]) -> None:
        self._store._data.hub.publish(changes)

    async def _query(self, where: FilterNode | None, fn: Callable[[Iterable[Stored]], R]) -> R:
        with self._store._data.lock:
            return fn(self._rows.rows())

    def _detach(self, row: Stored) -> Stored:
        return copy_row(row)  # records handed out must not alias the stored rows

    async def _get(self, key: str) -> Stored | None:
        with self._store._data.lock:
            row = self._rows.get(key)
        return None if row is None else copy_row(row)

    async def _subscribe(self) -> Subscription:
        return self._store._data.hub.subscribe(self._name)


class MemoryStore(Store):
    """A store over an in-process data set (see the module docstring)."""

    collection_class = MemoryCollection

    def __init__(self, url: str, data: _DataSet, name: str | None) -> None:
        super().__init__(url)
        self._data = data
        self._shared_name = name

    async def _collections(self) -> list[str]:
        with self._data.lock:
            return [name for name, rows in self._data.collections.items() if rows]

    async def _drop(self, name: str) -> bool:
        with self._data.lock:
            rows = self._data.collections.pop(name, {})
        return bool(rows)

    def _lock_service(self) -> MemoryLocks:
        return MemoryLocks(self.url, self._data.locks)

    async def _close(self) -> None:
        if self._shared_name is None:
            return
        with _named_lock:
            self._data.users -= 1
            if self._data.users == 0:
                _named.pop(self._shared_name, None)


async def open_store(url: str, **options: Any) -> Store:
    """Open a ``memory://`` or ``memory://NAME`` store.

    Raises:
        ValueError: an option was given (``memory://`` has none).
    """
    parts = urlsplit(url)
    options_from(MemoryOptions, "memory", parts.query, options)
    name = (parts.netloc + parts.path).strip("/") or None
    if name is None:
        return MemoryStore(url, _DataSet(), None)
    with _named_lock:
        data = _named.setdefault(name, _DataSet())
        data.users += 1
    return MemoryStore(url, data, name)
