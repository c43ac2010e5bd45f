"""``NoexWatch``: changes derived from a reactive whole-bucket query.

noex pushes the complete new query result, never a diff. Each result is
compared with the previous one per key and ``_version``: a new key is an
insertion, a higher version an update, a vanished key a deletion (with the
previous record as ``old``).

The server keeps no history, so cursors cannot be resumed from: each change's
cursor is the time it was seen (nanoseconds, forced to grow within a feed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from noex_client import NoexClientError

from ..._feed import format_cursor
from ..._stored import ChangeQueue, RawChange, Stored
from ._base import NoexBase
from ._records import record_to_stored

__all__ = ["NoexWatch", "diff"]


def diff(collection: str, old: dict[str, Stored], new: dict[str, Stored]) -> list[RawChange]:
    """The changes turning ``old`` into ``new``, oldest write first, deletions last."""
    changes: list[RawChange] = []
    for key, record in new.items():
        before = old.get(key)
        if before is None:
            changes.append(RawChange(collection, "inserted", key, record, None))
        elif before.version != record.version or before.created_at != record.created_at:
            changes.append(RawChange(collection, "updated", key, record, before))
    # Within one push, replay the writes in the order they happened.
    changes.sort(key=lambda c: (new[c.key].updated_at, c.key))
    changes.extend(
        RawChange(collection, "deleted", key, None, before)
        for key, before in old.items()
        if key not in new
    )
    return changes


class NoexWatch(ChangeQueue):
    """A :class:`~adapters._stored.Subscription` over ``store.subscribe``."""

    def __init__(self, store: NoexBase, collection: str) -> None:
        super().__init__()
        self._store = store
        self._collection = collection
        self._state: dict[str, Stored] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._seen = 0  # the position of the last change, in nanoseconds

    async def start(self) -> None:
        """Subscribe; the initial result becomes the baseline (changes start now)."""
        query = await self._store.ensure_watch_query(self._collection)
        try:
            self._unsubscribe = await self._store.call(
                "subscribe", lambda: self._store.client.store.subscribe(query, self._on_result)
            )
        except NoexClientError as exc:
            raise self._store.translate(exc, what="subscribe") from exc

    def _on_result(self, data: Any) -> None:
        if self._closed:
            return
        records = data if isinstance(data, list) else []
        current: dict[str, Stored] = {}
        for record in records:
            if isinstance(record, dict):
                stored = record_to_stored(record)
                current[stored.key] = stored
        previous, self._state = self._state, current
        if previous is None:
            return
        for change in diff(self._collection, previous, current):
            self._seen = max(self._seen + 1, time.time_ns())
            cursor = format_cursor("x", self._seen)
            self._queue.put_nowait(
                RawChange(
                    change.collection, change.kind, change.key, change.new, change.old, cursor
                )
            )

    async def aclose(self) -> None:
        """Unsubscribe (in the background) and end the feed."""
        if self._closed:
            return
        self._end()  # first: a result arriving meanwhile is ignored
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
