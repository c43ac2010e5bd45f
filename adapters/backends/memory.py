"""``memory://`` — an in-process backend for tests and demos.

``memory://`` opens a private, empty data set. ``memory://NAME`` opens the
data set ``NAME`` shared by every store of this process that uses the same
name; it lives while at least one such store is open. Rows live in a ``dict``
per collection; the row engine decides every write and query. ``store.lock()``
locks are shared by the stores of the process on the same data set.

Every write also appends its changes to the data set's change log (in the same
locked step, so the log is in commit order); ``watch`` follows that log and
``watch(since=cursor)`` resumes from it. Options (:class:`MemoryOptions`):
``feed_max_changes`` and ``feed_max_age`` bound what the log retains (a store
applies its own limits to the collections it writes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .._changelog import ChangeLog, Expired, check_retention
from .._engine import EngineCollection, Op, RowMap, apply, copy_change, copy_row
from .._errors import CursorExpired
from .._feed import LogSubscription, Waker, format_cursor, parse_cursor
from .._filters import FilterNode
from .._options import options_from
from .._store import Store
from .._stored import RawChange, Stored, Subscription, utc_now
from ._memory_lock import LockCells, MemoryLocks

__all__ = ["MemoryCollection", "MemoryOptions", "MemoryStore", "open_store"]

_R = TypeVar("_R")


_TAG = "m"


@dataclass(frozen=True)
class MemoryOptions:
    """Options of a ``memory://`` store.

    Attributes:
        feed_max_changes: changes retained per collection for ``watch(since=...)``
            (0: no count limit).
        feed_max_age: seconds a change is retained (0: no age limit).
    """

    feed_max_changes: int = 10_000
    feed_max_age: float = 0.0

    def __post_init__(self) -> None:
        check_retention("memory", self.feed_max_changes, self.feed_max_age)


@dataclass
class _DataSet:
    collections: dict[str, dict[str, Stored]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    waker: Waker = field(default_factory=Waker)
    log: ChangeLog = field(default_factory=ChangeLog)
    locks: LockCells = field(default_factory=LockCells)
    users: int = 0
    seq: int = 0  # position of the last logged change

    def record(
        self, collection: str, changes: list[RawChange], options: MemoryOptions
    ) -> list[RawChange]:
        """Log ``changes`` (call under ``lock``); return them with their cursors set."""
        start = self.seq
        stamped = [
            RawChange(c.collection, c.kind, c.key, c.new, c.old, format_cursor(_TAG, start + i))
            for i, c in enumerate(changes, 1)
        ]
        self.seq = start + len(stamped)
        positions = range(start + 1, self.seq + 1)
        self.log.append(
            collection,
            zip(positions, stamped, strict=True),
            options.feed_max_changes,
            options.feed_max_age,
        )
        return stamped


class _Reader:
    """Reads one collection's changes from the data set's log (a FeedReader)."""

    def __init__(self, data: _DataSet, collection: str) -> None:
        self._data = data
        self._collection = collection

    async def read(self, after: int) -> tuple[list[RawChange], int]:
        try:
            found = self._data.log.read(self._collection, after)
        except Expired:
            raise CursorExpired(self._collection, format_cursor(_TAG, after)) from None
        if not found:
            return [], after
        return [copy_change(c) for c in found], parse_cursor(found[-1].cursor, _TAG, 1, "memory")[0]


_named: dict[str, _DataSet] = {}
_named_lock = threading.Lock()


class MemoryCollection(EngineCollection):
    """A collection of a :class:`MemoryStore`: a ``dict`` of rows."""

    _store: MemoryStore

    @property
    def _rows(self) -> RowMap:
        return RowMap(self._store._data.collections.setdefault(self._name, {}))

    async def _commit(self, op: Op) -> list[RawChange]:
        data = self._store._data
        with data.lock:
            rows = self._rows
            changes = rows.commit(apply(self._name, self._unique, rows, op, utc_now()))
            if changes:
                changes = data.record(self._name, changes, self._store._options)
        return changes

    def _publish(self, changes: list[RawChange]) -> None:
        self._store._data.waker.wake(self._name)

    async def _query(self, where: FilterNode | None, fn: Callable[[Iterable[Stored]], _R]) -> _R:
        with self._store._data.lock:
            return fn(self._rows.rows())

    def _detach(self, row: Stored) -> Stored:
        return copy_row(row)  # records handed out must not alias the stored rows

    async def _get(self, key: str) -> Stored | None:
        with self._store._data.lock:
            row = self._rows.get(key)
        return None if row is None else copy_row(row)

    def _check_since(self, since: str) -> None:
        parse_cursor(since, _TAG, 1, "memory")

    async def _subscribe(self, since: str | None) -> Subscription:
        data = self._store._data
        reader = _Reader(data, self._name)
        if since is None:
            with data.lock:
                position = data.seq
        else:
            (position,) = parse_cursor(since, _TAG, 1, "memory")
            if position > data.seq:
                raise ValueError(f"cursor {since!r} is not from this memory data set")
            await reader.read(position)  # CursorExpired now, not at the first change
        return LogSubscription(reader, position, data.waker.waiter(self._name))


class MemoryStore(Store):
    """A store over an in-process data set (see the module docstring)."""

    collection_class = MemoryCollection

    def __init__(self, url: str, data: _DataSet, name: str | None, options: MemoryOptions) -> None:
        super().__init__(url)
        self._data = data
        self._options = options
        self._shared_name = name

    async def _collections(self) -> list[str]:
        with self._data.lock:
            return [name for name, rows in self._data.collections.items() if rows]

    async def _drop(self, name: str) -> bool:
        return bool(await self.collection(name)._clear())

    def _lock_service(self) -> MemoryLocks:
        return MemoryLocks(self.url, self._data.locks)

    async def _close(self) -> None:
        if self._shared_name is None:
            self._data.waker.close_all()
            return
        with _named_lock:
            self._data.users -= 1
            if self._data.users == 0:
                _named.pop(self._shared_name, None)
                self._data.waker.close_all()


async def open_store(url: str, **options: Any) -> Store:
    """Open a ``memory://`` or ``memory://NAME`` store.

    Raises:
        ValueError: an unknown or malformed option (see :class:`MemoryOptions`).
    """
    parts = urlsplit(url)
    settings = options_from(MemoryOptions, "memory", parts.query, options)
    name = (parts.netloc + parts.path).strip("/") or None
    if name is None:
        return MemoryStore(url, _DataSet(), None, settings)
    with _named_lock:
        data = _named.setdefault(name, _DataSet())
        data.users += 1
    return MemoryStore(url, data, name, settings)
