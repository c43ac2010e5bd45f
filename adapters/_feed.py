"""Resumable change feeds: cursors, wake-ups and the subscription that reads a change log.

Backends that keep a change log (memory, SQLite, PostgreSQL, the BeaverDB
mirror) answer one question, :meth:`FeedReader.read`: *which changes come after
this position?* :class:`LogSubscription` asks it again whenever its
:class:`Waiter` is woken (a write in this process, a notification, a poll), so
replaying history and following live changes are one loop: a resumed feed has
no gap and no duplicate between the two by construction, and a change is
delivered exactly once per subscription.

A cursor is the text form of a position: a backend tag and fixed-width hex
numbers, so cursors of one collection compare as strings in feed order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from ._errors import AdapterError, BackendUnavailable
from ._stored import RawChange

__all__ = [
    "FeedOptions",
    "FeedReader",
    "LogSubscription",
    "Pruner",
    "Waiter",
    "Waker",
    "format_cursor",
    "parse_cursor",
    "retry_delays",
]

logger = logging.getLogger("adapters")

P = TypeVar("P")

_WIDTH = 16  # hex digits per number: any 64-bit value


def format_cursor(tag: str, *parts: int) -> str:
    """The cursor text of a position: ``tag`` then each number as 16 hex digits, dot-separated."""
    return tag + ".".join(format(part, f"0{_WIDTH}x") for part in parts)


def parse_cursor(cursor: Any, tag: str, count: int, backend: str) -> tuple[int, ...]:
    """The numbers of a cursor made by :func:`format_cursor` with ``tag`` and ``count`` parts.

    Raises:
        TypeError: ``cursor`` is not a string.
        ValueError: it is not a cursor of this backend (the message names the backend).
    """
    if not isinstance(cursor, str):
        raise TypeError(f"since must be a cursor string, got {type(cursor).__name__}")
    body = cursor[len(tag) :].split(".")
    if (
        not cursor.startswith(tag)
        or len(body) != count
        or any(len(part) != _WIDTH for part in body)
    ):
        raise ValueError(f"{cursor!r} is not a change cursor of the {backend} backend")
    try:
        return tuple(int(part, 16) for part in body)
    except ValueError:
        raise ValueError(f"{cursor!r} is not a change cursor of the {backend} backend") from None


class FeedOptions(Protocol):
    """The retention options every change log takes (see each backend's options)."""

    @property
    def feed_max_changes(self) -> int: ...

    @property
    def feed_max_age(self) -> float: ...


class Pruner:
    """Applies a store's retention in the background: after enough changes, or enough time.

    Enough changes is an eighth of ``max_changes`` (at least 1,000), so a log
    stays within about 1.125 times its limit; enough time is ``every`` seconds
    since the last pruning (age limits, slow writers). ``prune`` does the work,
    in short transactions so that writes go on meanwhile; one runs at a time,
    and a failure is logged (the next one tries again).
    """

    def __init__(
        self,
        max_changes: int,
        prune: Callable[[], Awaitable[None]],
        url: str,
        every: float = 60.0,
    ) -> None:
        self._step = max(1000, max_changes // 8) if max_changes > 0 else 0
        self._prune = prune
        self._url = url
        self._every = every
        self._count = 0
        self.last = time.monotonic()
        self.task: asyncio.Task[None] | None = None

    def written(self, count: int) -> None:
        """``count`` more changes were committed: start pruning if it is due."""
        self._count += count
        due = (self._step and self._count >= self._step) or (
            time.monotonic() - self.last >= self._every
        )
        if due and self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        self._count = 0
        self.last = time.monotonic()
        try:
            await self._prune()
        except AdapterError as exc:
            logger.warning("pruning the change log of %s failed: %s", self._url, exc)
        finally:
            self.task = None

    async def close(self) -> None:
        """Stop a pruning under way."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def retry_delays(first: float = 0.05, cap: float = 2.0) -> Iterator[float]:
    """Exponential delays between attempts while a backend is unavailable."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


class Waiter:
    """One subscription's wake-up flag; may be set from any thread.

    States: *open*, then *closed* (:meth:`close`; :meth:`wait` returns at once).
    """

    def __init__(self, waker: Waker, collection: str) -> None:
        self._waker = waker
        self.collection = collection
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self.closed = False

    def clear(self) -> None:
        """Forget earlier wake-ups (call before reading the log)."""
        self._event.clear()

    def set(self) -> None:
        """Wake the subscription (thread-safe)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._event.set()
        elif not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, at_most: float | None = None) -> None:
        """Return once woken (or after ``at_most`` seconds, or at once when closed)."""
        if self.closed:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await self._event.wait()

    def close(self) -> None:
        """Stop waiting for good; a pending :meth:`wait` returns."""
        if not self.closed:
            self.closed = True
            self._waker.discard(self)
            self.set()


class Waker:
    """The waiters of one data set, woken per collection from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[Waiter, None] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiters)

    def waiter(self, collection: str) -> Waiter:
        """A new waiter for ``collection``; call on the subscriber's event loop."""
        waiter = Waiter(self, collection)
        with self._lock:
            self._waiters[waiter] = None
        return waiter

    def discard(self, waiter: Waiter) -> None:
        """Forget ``waiter``."""
        with self._lock:
            self._waiters.pop(waiter, None)

    def wake(self, collections: Any = None) -> None:
        """Wake the waiters of ``collections`` (a name or a set of names; ``None``: all)."""
        if isinstance(collections, str):
            collections = (collections,)
        with self._lock:
            targets = [
                w for w in self._waiters if collections is None or w.collection in collections
            ]
        for waiter in targets:
            waiter.set()

    def close_all(self) -> None:
        """Close every waiter: their subscriptions end."""
        with self._lock:
            targets = list(self._waiters)
        for waiter in targets:
            waiter.close()


class FeedReader(Protocol[P]):
    """Reads a collection's change log after a position."""

    async def read(self, after: P) -> tuple[list[RawChange], P]:
        """The changes after ``after``, oldest first (cursors set), and the position they end at.

        May return only a page of them; the subscription reads again at once.

        Raises:
            CursorExpired: changes after ``after`` were pruned.
            BackendUnavailable: the log cannot be read right now (the feed retries).
        """
        ...


class LogSubscription(Generic[P]):
    """A :class:`~adapters._stored.Subscription` that follows a change log from a position.

    Reads when woken and delivers in log order. The position only moves once a
    read has returned, so a cancelled ``get`` loses nothing. While the backend
    is unavailable it retries with backoff (and at every wake-up), so a feed
    survives restarts of the server; errors other than unavailability (e.g.
    :class:`~adapters.CursorExpired`) are raised by ``get``.
    """

    def __init__(
        self,
        reader: FeedReader[P],
        position: P,
        waiter: Waiter,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._reader = reader
        self.position = position
        self._waiter = waiter
        self._on_close = on_close
        self._buffer: deque[RawChange] = deque()
        self._delays: Iterator[float] | None = None

    async def get(self) -> RawChange | None:
        while True:
            if self._buffer:
                return self._buffer.popleft()
            if self._waiter.closed:
                return None
            self._waiter.clear()
            try:
                changes, position = await self._reader.read(self.position)
            except BackendUnavailable as exc:
                if self._delays is None:
                    logger.warning("change feed of %r paused: %s", self._waiter.collection, exc)
                    self._delays = retry_delays()
                await self._waiter.wait(next(self._delays))
                continue
            if self._delays is not None:
                logger.info("change feed of %r resumed", self._waiter.collection)
                self._delays = None
            self.position = position
            if changes:
                self._buffer.extend(changes)
            else:
                await self._waiter.wait()

    async def aclose(self) -> None:
        self._waiter.close()
        self._buffer.clear()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()
