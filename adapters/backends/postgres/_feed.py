"""``PgFeed``: the change feeds of one PostgreSQL store — readers, wake-ups, pruning.

Feeds read the change log (:mod:`._changes`) through the pool. NOTIFY only
wakes them: every write notifies the schema's channel with the collection
name, the store's LISTEN connection (:mod:`._watch`) wakes the feeds of that
collection, and when that connection is lost and comes back every feed reads
the log again. A notification that never arrived therefore loses nothing: the
changes are in the log, and a feed whose reads fail (a server restart) retries
until they succeed. Retention is applied in the background after enough writes
or time, one short statement at a time.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import psycopg

from ..._errors import CursorExpired
from ..._feed import (
    FeedOptions,
    LogSubscription,
    Pruner,
    Waker,
    format_cursor,
    parse_cursor,
)
from ..._stored import RawChange, Subscription
from ._changes import LAST, Expired, prune_age, prune_count, read_changes, sequence
from ._watch import Listener

__all__ = ["PgFeed", "check_cursor"]

logger = logging.getLogger("adapters")

_TAG = "p"

Position = tuple[int, int]


class _Store(Protocol):
    """What the feed needs of the store."""

    @property
    def url(self) -> str: ...

    @property
    def schema(self) -> str: ...

    def pooled(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]: ...


def check_cursor(since: str) -> Position:
    """The log position of a PostgreSQL cursor.

    Raises:
        ValueError: not a cursor of the PostgreSQL backend.
    """
    pos, i = parse_cursor(since, _TAG, 2, "postgres")
    return pos, i


class _Reader:
    """Reads one collection's change log (a FeedReader)."""

    def __init__(self, store: _Store, collection: str) -> None:
        self._store = store
        self._collection = collection

    async def read(self, after: Position) -> tuple[list[RawChange], Position]:
        store = self._store
        async with store.pooled() as conn:
            await sequence(conn, store.schema)
            try:
                found = await read_changes(conn, store.schema, self._collection, after)
            except Expired:
                cursor = format_cursor(_TAG, *after)
                raise CursorExpired(self._collection, cursor) from None
        changes = [
            RawChange(c.collection, c.kind, c.key, c.new, c.old, format_cursor(_TAG, *position))
            for position, c in found
        ]
        return changes, found[-1][0] if found else after


class PgFeed:
    """The feeds of one store (see the module docstring)."""

    def __init__(self, store: _Store, conninfo: str, channel: str, options: FeedOptions) -> None:
        self._store = store
        self._options = options
        self._waker = Waker()
        self.listener = Listener(conninfo, channel, store.url, self._on_note, self._waker.wake)
        self.pruner = Pruner(options.feed_max_changes, self._prune, store.url)

    def _on_note(self, payload: str) -> None:
        self._waker.wake(payload)  # the payload is the collection written

    async def subscribe(self, collection: str, since: str | None) -> Subscription:
        """A feed of ``collection`` from now, or after the change at ``since``.

        Raises:
            CursorExpired: changes after ``since`` were pruned.
            ValueError: ``since`` is ahead of this schema's log (another schema's cursor).
            BackendUnavailable: the server cannot be reached.
        """
        # Listening first: whatever commits from here on wakes the feed.
        await self.listener.start()
        reader = _Reader(self._store, collection)
        async with self._store.pooled() as conn:
            last = await sequence(conn, self._store.schema)
        if since is None:
            position = (last, LAST)
        else:
            position = check_cursor(since)
            if position[0] > last:
                raise ValueError(f"cursor {since!r} is not from this PostgreSQL schema")
            await reader.read(position)  # CursorExpired now, not at the first change
        return LogSubscription(reader, position, self._waker.waiter(collection))

    def written(self, count: int) -> None:
        """``count`` changes were written: prune when it is time."""
        self.pruner.written(count)

    async def _prune(self) -> None:
        """Apply retention, one short statement at a time (writes never wait for it)."""
        schema = self._store.schema
        async with self._store.pooled() as conn:
            await sequence(conn, schema)
            if self._options.feed_max_age > 0:
                while await prune_age(conn, schema, self._options.feed_max_age):
                    pass
            if self._options.feed_max_changes > 0:
                while await prune_count(conn, schema, self._options.feed_max_changes):
                    pass

    async def close(self) -> None:
        """End every feed, stop listening and pruning."""
        self._waker.close_all()
        await self.listener.stop()
        await self.pruner.close()
