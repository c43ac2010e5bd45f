"""``SqliteFeed``: the change feeds of one SQLite store — readers, wake-ups, polling, pruning.

The log itself (schema, what a write logs, how it is read and pruned) lives in
:mod:`._sqlite_changes`. Here: subscriptions read it through the store's worker
thread; writes of this process wake them at once (one :class:`Waker` per file
and process), writes of other processes are noticed by ``PRAGMA data_version``,
polled every ``poll_interval`` while a feed is open; retention is applied in
the background, in small transactions, after enough writes or time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from .._errors import AdapterError, CursorExpired
from .._feed import (
    FeedOptions,
    LogSubscription,
    Pruner,
    Waker,
    format_cursor,
    parse_cursor,
)
from .._stored import RawChange, Subscription, to_micros, utc_now
from ._sqlite_changes import Expired, head, prune_age, prune_count, read_changes

__all__ = ["SqliteFeed", "check_cursor"]

logger = logging.getLogger("adapters")

R = TypeVar("R")

_TAG = "s"
_PAGE = 1000  # changes per read of the log

# In-process wake-ups per file: stores of this process wake each other's feeds
# at once (other processes are noticed by polling).
_wakers: dict[str, Waker] = {}
_wakers_lock = threading.Lock()


class _Options(FeedOptions, Protocol):
    @property
    def poll_interval(self) -> float: ...


class _Store(Protocol):
    """What the feed needs of the store: its URL and its worker thread."""

    @property
    def url(self) -> str: ...

    def _read(self, fn: Callable[[sqlite3.Connection], R]) -> Awaitable[R]: ...

    def _write(self, fn: Callable[[sqlite3.Connection], R]) -> Awaitable[R]: ...


def check_cursor(since: str) -> int:
    """The log position of a SQLite cursor.

    Raises:
        ValueError: not a cursor of the SQLite backend.
    """
    return parse_cursor(since, _TAG, 1, "sqlite")[0]


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction (a consistent snapshot), unless one is open already."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class _Reader:
    """Reads one collection's change log (a FeedReader)."""

    def __init__(self, store: _Store, collection: str) -> None:
        self._store = store
        self._collection = collection

    async def read(self, after: int) -> tuple[list[RawChange], int]:
        def work(conn: sqlite3.Connection) -> list[tuple[int, RawChange]]:
            with _snapshot(conn):
                return read_changes(conn, self._collection, after, _PAGE)

        try:
            found = await self._store._read(work)
        except Expired:
            raise CursorExpired(self._collection, format_cursor(_TAG, after)) from None
        changes = [
            RawChange(c.collection, c.kind, c.key, c.new, c.old, format_cursor(_TAG, seq))
            for seq, c in found
        ]
        return changes, found[-1][0] if found else after


class SqliteFeed:
    """The feeds of one store (see the module docstring)."""

    def __init__(self, store: _Store, path: str, options: _Options) -> None:
        self._store = store
        self._options = options
        with _wakers_lock:
            self._waker = _wakers.setdefault(path, Waker())
        self._watchers = 0
        self._poller: asyncio.Task[None] | None = None
        self._written: set[str] = set()  # collections written since the last pruning
        self.pruner = Pruner(options.feed_max_changes, self._prune, store.url)

    async def subscribe(self, collection: str, since: str | None) -> Subscription:
        """A feed of ``collection`` from now, or after the change at ``since``.

        Raises:
            CursorExpired: changes after ``since`` were pruned.
            ValueError: ``since`` is ahead of this file's log (another file's cursor).
        """
        reader = _Reader(self._store, collection)
        if since is None:
            position = await self._store._read(head)
        else:
            position = check_cursor(since)
            if position > await self._store._read(head):
                raise ValueError(f"cursor {since!r} is not from this SQLite file")
            await reader.read(position)  # CursorExpired now, not at the first change
        waiter = self._waker.waiter(collection)
        self._watchers += 1
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        return LogSubscription(reader, position, waiter, self._unwatch)

    def _unwatch(self) -> None:
        self._watchers -= 1
        if self._watchers == 0 and self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def _poll(self) -> None:
        # data_version changes when another connection (or process) committed.
        # The first reading wakes the feeds too: a commit that landed between a
        # feed reading its start position and this first reading would
        # otherwise never be noticed (a spurious wake only re-reads the log).
        last: int | None = None
        while True:
            try:
                version: int | None = await self._store._read(_data_version)
            except AdapterError as exc:
                logger.debug("sqlite: polling %s failed: %s", self._store.url, exc)
                version = None
            if version is not None:
                if version != last:
                    self._waker.wake()
                last = version
            await asyncio.sleep(self._options.poll_interval)  # the polling period itself

    def committed(self, written: list[tuple[str, int]]) -> None:
        """``(collection, changes)`` were committed: wake their feeds, prune when due."""
        if not written:
            return
        self._waker.wake({name for name, _ in written})
        self._written.update(name for name, _ in written)
        self.pruner.written(sum(count for _, count in written))

    async def _prune(self) -> None:
        """Apply retention in small transactions, so writes go on in between."""
        written, self._written = self._written, set()
        if self._options.feed_max_age > 0:
            cutoff = to_micros(utc_now()) - int(self._options.feed_max_age * 1_000_000)
            while await self._store._write(lambda conn: prune_age(conn, cutoff)):
                pass
        keep = self._options.feed_max_changes
        for name in sorted(written) if keep > 0 else ():
            while await self._store._write(_counted(name, keep)):
                pass

    async def close(self) -> None:
        """Stop polling and pruning."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
        await self.pruner.close()


def _counted(collection: str, keep: int) -> Callable[[sqlite3.Connection], Any]:
    return lambda conn: prune_count(conn, collection, keep)
