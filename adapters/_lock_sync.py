"""``with docs.lock(name):`` for the synchronous ``DocumentStore``.

The async :class:`~adapters.Lock` is held by a task on the store's event-loop
thread, which also renews it; the calling thread runs the block. A lost lock
cannot interrupt a thread, so it is reported when the block exits
(:class:`~adapters.LockLost`) and by :attr:`BlockingLock.held` meanwhile.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from ._errors import LockLost
from ._lock import Lock

__all__ = ["BlockingLock"]

R = TypeVar("R")

Submit = Callable[[Coroutine[Any, Any, R]], "concurrent.futures.Future[R]"]


class BlockingLock:
    """A synchronous context manager over an async :class:`~adapters.Lock`."""

    def __init__(self, lock: Lock, submit: Submit[None], loop: asyncio.AbstractEventLoop) -> None:
        self._lock = lock
        self._submit = submit
        self._loop = loop
        self._acquired: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._release: asyncio.Event | None = None
        self._holding: concurrent.futures.Future[None] | None = None

    @property
    def name(self) -> str:
        """The lock name."""
        return self._lock.name

    @property
    def held(self) -> bool:
        """Whether the block runs and the lock is still surely held."""
        return self._lock.held

    def __repr__(self) -> str:
        return f"<BlockingLock {self._lock!r}>"

    async def _hold(self) -> None:
        self._release = asyncio.Event()
        try:
            async with self._lock:
                self._acquired.set_result(None)
                await self._release.wait()
        except BaseException as exc:
            if not self._acquired.done():
                self._acquired.set_exception(exc)
                return
            raise

    def __enter__(self) -> BlockingLock:
        """Wait for the lock (see ``Lock.__aenter__`` for the errors)."""
        if self._holding is not None:
            raise RuntimeError("a lock is entered once; call store.lock() again")
        self._holding = self._submit(self._hold())
        try:
            self._acquired.result()
        except BaseException:
            self._holding.cancel()  # e.g. KeyboardInterrupt: leave the queue
            concurrent.futures.wait([self._holding])
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Release the lock.

        Raises:
            LockLost: the lock may have passed to another holder before the block ended.
        """
        assert self._holding is not None
        assert self._release is not None
        self._loop.call_soon_threadsafe(self._release.set)
        try:
            self._holding.result()
        except LockLost as lost:
            raise lost from exc
