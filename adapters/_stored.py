"""What backends hand to the shared layer: raw stored documents and raw changes.

Backends deal in plain JSON documents (``dict``); :class:`~adapters.Collection`
turns them into typed :class:`~adapters.Record` values. Change feeds are
:class:`Subscription` objects (see ``adapters._feed`` for the ones that read a
change log).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from ._records import ChangeKind

__all__ = [
    "ChangeQueue",
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
    """A feed of :class:`RawChange` values, from where it was opened (now, or a cursor)."""

    async def get(self) -> RawChange | None:
        """Wait for the next change; ``None`` once the feed is closed.

        Raises:
            CursorExpired: changes the feed has yet to deliver were pruned.
        """
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
