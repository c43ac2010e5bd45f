"""Async iterators over subscriptions: ``client.store.watch`` and ``client.rules.watch``.

::

    async with client.store.watch("all-users") as updates:
        async for users in updates:      # the initial result, then every change
            ...

    async with client.rules.watch("order.*") as events:
        async for topic, event in events:
            ...

Deliveries are buffered between the connection and the consumer in a bounded
buffer (``buffer_size``). The overflow policy depends on what is delivered:

* **Store results** (``overflow="keep_latest"``): every result is the whole
  new query result, so older unread results are worth nothing once a newer
  one exists. When the buffer is full the *oldest* unread result is dropped
  (counted in :attr:`Watch.dropped`); the consumer always sees the latest.
* **Rules events** (``overflow="raise"``): every event is distinct, so losing
  one silently would be wrong. When the buffer is full the watch stops
  collecting, and once the consumer has read the buffered events the
  iteration raises :class:`WatchOverflowError`. Give it a larger buffer or
  consume faster.

The iteration ends (``StopAsyncIteration``) when the block exits or
:meth:`Watch.close` is called. When the subscription ends for another reason
the iteration raises why, after the buffered items: ``DisconnectedError``
when the client disconnects or gives up reconnecting, the server's error when
it rejects the re-subscription after a reconnect. Results after a reconnect are fresh (store) or resume with new events
(rules); the subscription itself survives reconnects like a callback one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Generic, Literal, Self, TypeVar

from ._errors import NoexClientError

__all__ = ["OverflowPolicy", "Watch", "WatchOverflowError"]

T = TypeVar("T")

OverflowPolicy = Literal["keep_latest", "raise"]

#: Given the delivery callback and the end callback, subscribe and return a closer.
Starter = Callable[
    [Callable[[T], None], Callable[[Exception | None], None]], Awaitable[Callable[[], None]]
]


class WatchOverflowError(NoexClientError):
    """A rules watch received more events than its buffer holds; events were lost."""

    default_code = "WATCH_OVERFLOW"


class Watch(Generic[T]):
    """An async context manager and iterator over one subscription's deliveries.

    Created by ``client.store.watch(...)`` / ``client.rules.watch(...)``; it
    subscribes on ``async with`` entry and unsubscribes on exit.

    Attributes:
        dropped: Results discarded under the ``keep_latest`` policy.
    """

    def __init__(
        self, start: Starter[T], *, buffer_size: int, overflow: OverflowPolicy, what: str
    ) -> None:
        if not isinstance(buffer_size, int) or buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive int, got {buffer_size!r}")
        self._start = start
        self._size = buffer_size
        self._overflow = overflow
        self._what = what
        self._buffer: deque[T] = deque()
        self._wakeup = asyncio.Event()
        self._closer: Callable[[], None] | None = None
        self._entered = False
        self._finished = False
        self._error: Exception | None = None
        self.dropped = 0

    def __repr__(self) -> str:
        return f"Watch({self._what}, buffered={len(self._buffer)}, finished={self._finished})"

    async def __aenter__(self) -> Self:
        """Subscribe.

        Raises:
            RuntimeError: The watch was entered before.
            DisconnectedError: Not connected.
            NoexClientError: The server rejected the subscription.
        """
        if self._entered:
            raise RuntimeError(f"{self!r} can be entered only once")
        self._entered = True
        closer = await self._start(self._put, self._ended)
        if self._finished:  # ended while subscribing (e.g. the client disconnected)
            closer()
        else:
            self._closer = closer
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Unsubscribe and end the iteration after the buffered items (idempotent)."""
        self._finished = True
        closer, self._closer = self._closer, None
        if closer is not None:
            closer()
        self._wakeup.set()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        if not self._entered:
            raise RuntimeError(f"use `async with` around {self._what} before iterating")
        while True:
            if self._buffer:
                return self._buffer.popleft()
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._finished:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()

    def _put(self, item: T) -> None:
        if self._finished:
            return
        if len(self._buffer) >= self._size:
            if self._overflow == "keep_latest":
                self._buffer.popleft()
                self.dropped += 1
            else:
                self._error = WatchOverflowError(
                    message=f"{self._what}: more than {self._size} unread events; "
                    "increase buffer_size or consume faster",
                    details={"bufferSize": self._size},
                )
                self.close()
                return
        self._buffer.append(item)
        self._wakeup.set()

    def _ended(self, reason: Exception | None) -> None:
        if reason is not None and self._error is None:
            self._error = reason
        self._finished = True
        self._closer = None
        self._wakeup.set()
