"""What backends hand to the shared layer: raw stored documents and raw changes.

Backends deal in plain JSON documents (``dict``); :class:`~adapters.Collection`
turns them into typed :class:`~adapters.Record` values. :class:`ChangeHub` is the
in-process fan-out used by the backends whose changes are only visible inside
the process (memory, SQLite).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from ._records import ChangeKind

__all__ = [
    "ChangeHub",
    "ChangeQueue",
    "ClosingSubscription",
    "QueueSubscription",
    "RawChange",
    "Stored",
    "Subscription",
    "from_micros",
    "from_millis",
    "from_seconds",
    "to_micros",
    "utc_now",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def to_micros(when: datetime) -> int:
    """Microseconds since the Unix epoch (exact, no float rounding)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime:
    """The UTC datetime of epoch microseconds (exact)."""
    return _EPOCH + timedelta(microseconds=us)


def from_millis(ms: float) -> datetime:
    """The UTC datetime of epoch milliseconds."""
    return datetime.fromtimestamp(float(ms) / 1000.0, tz=UTC)


def from_seconds(seconds: float) -> datetime:
    """The UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class Stored:
    """A document as stored by a backend (``data`` is a plain JSON object)."""

    key: str
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RawChange:
    """A change as observed by a backend, before decoding and filtering.

    ``cursor`` is set by the backend's change feed (empty while the engine
    decides a write, before the change has a place in the feed).
    """

    collection: str
    kind: ChangeKind
    key: str
    new: Stored | None
    old: Stored | None
    cursor: str = ""


class Subscription(Protocol):
    """A live feed of :class:`RawChange` values, from the moment it was opened."""

    async def get(self) -> RawChange | None:
        """Wait for the next change; ``None`` once the feed is closed."""
        ...

    async def aclose(self) -> None:
        """Stop the feed; a pending or later ``get`` returns ``None``."""
        ...


class ChangeQueue:
    """The ``get`` half of a :class:`Subscription`: changes queued, ``None`` at the end."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[RawChange | None] = asyncio.Queue()
        self._closed = False

    async def get(self) -> RawChange | None:
        if self._closed and self._queue.empty():
            return None
        change = await self._queue.get()
        if change is None:
            self._closed = True
        return change

    def _end(self) -> None:
        """Close the feed: a pending or later ``get`` returns ``None``."""
        self._closed = True
        self._queue.put_nowait(None)


class QueueSubscription(ChangeQueue):
    """A :class:`Subscription` fed by a :class:`ChangeHub`, bound to one event loop."""

    def __init__(self, hub: ChangeHub, collection: str) -> None:
        super().__init__()
        self._hub = hub
        self._collection = collection
        self._loop = asyncio.get_running_loop()

    def _deliver(self, change: RawChange | None) -> None:
        # Called from whichever thread wrote; hop onto the subscriber's loop
        # unless we are already on it (keeps writes from that loop in order).
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._queue.put_nowait(change)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._queue.put_nowait, change)

    async def aclose(self) -> None:
        if not self._closed:
            self._hub.unsubscribe(self)
            self._end()


class ClosingSubscription:
    """A :class:`Subscription` that runs ``on_close`` once when it is closed.

    Backends use it to count open feeds (e.g. to stop a poller when none is left).
    """

    def __init__(self, inner: Subscription, on_close: Callable[[], None]) -> None:
        self._inner = inner
        self._on_close: Callable[[], None] | None = on_close

    async def get(self) -> RawChange | None:
        return await self._inner.get()

    async def aclose(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()
        await self._inner.aclose()


class ChangeHub:
    """Fans raw changes out to the subscriptions of one data set, across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[QueueSubscription, str] = {}

    def subscribe(self, collection: str) -> QueueSubscription:
        """Open a subscription to ``collection``; must be called on the subscriber's loop."""
        sub = QueueSubscription(self, collection)
        with self._lock:
            self._subs[sub] = collection
        return sub

    def unsubscribe(self, sub: QueueSubscription) -> None:
        """Forget ``sub``; later changes are not delivered to it."""
        with self._lock:
            self._subs.pop(sub, None)

    def publish(self, changes: list[RawChange]) -> None:
        """Deliver ``changes`` (in order) to every subscription of their collection."""
        with self._lock:
            targets = list(self._subs.items())
        for sub, collection in targets:
            for change in changes:
                if change.collection == collection:
                    sub._deliver(change)

    def close_all(self) -> None:
        """End every subscription (their ``get`` returns ``None``)."""
        with self._lock:
            targets = list(self._subs)
            self._subs.clear()
        for sub in targets:
            sub._deliver(None)
