"""Async calls run on worker threads, and calls that take values made cancel-safe.

:class:`ThreadedSender` gives a :class:`~adapters.beaver._transport.SyncSender` an
async face: each call runs on a worker thread and the coroutine awaits it. Nothing
is bound to an event loop, so ``BeaverClient.as_async()`` objects work across any
number of ``asyncio.run()`` calls and leave nothing behind when a loop ends.

Calls that take a value out of the server (``queue.get``, ``pop``, ``deque``:
those whose :class:`~adapters.beaver._wire.Call` has an ``undo``) always run this
way, even on the native async client, because a thread finishes its request
whatever happens to the coroutine awaiting it. When that coroutine is cancelled
(``task.cancel()``, ``asyncio.wait_for``, ``asyncio.run`` ending), it waits for the
reply before it lets the cancellation through; if the server had taken a value, it
sends the ``undo`` request that puts it back first. A cancelled call therefore
never makes a value disappear. A restored queue item keeps its priority but gets a
new timestamp (it moves behind items of the same priority put meanwhile); a
restored dict value loses its TTL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from adapters.beaver._errors import ClientClosed
from adapters.beaver._transport import SyncSender
from adapters.beaver._wire import Call, result_of, undo_of

__all__ = ["ThreadedSender"]

logger = logging.getLogger("adapters")
T = TypeVar("T")
R = TypeVar("R")


class ThreadedSender:
    """Runs the calls of a :class:`SyncSender` on worker threads for async callers.

    Args:
        sync: The sender doing the I/O; closing this object closes it.
    """

    def __init__(self, sync: SyncSender) -> None:
        self._sync = sync
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """Whether the underlying sync sender is closed."""
        return self._sync.closed

    def _submit(self, fn: Callable[..., R], *args: Any) -> concurrent.futures.Future[R]:
        with self._lock:
            if self._sync.closed:
                raise ClientClosed("the BeaverDB client is closed")
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self._sync.settings.max_connections, thread_name_prefix="adapters-beaver"
                )
            return self._pool.submit(fn, *args)

    async def send(self, call: Call[T]) -> T:
        """Send ``call`` on a worker thread (same errors as :meth:`SyncSender.send`)."""
        if call.undo is not None:
            return await self.take(call)
        return await asyncio.wrap_future(self._submit(self._sync.send, call))

    async def take(self, call: Call[T]) -> T:
        """Send a call that takes a value; if cancelled meanwhile, put the value back."""
        future = self._submit(self._sync.exchange, call.request)
        try:
            status, body = await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            await self._settle(future, call)
            raise
        return result_of(call, status, body)

    async def _settle(
        self, future: concurrent.futures.Future[tuple[int, bytes]], call: Call[Any]
    ) -> None:
        if future.cancel():
            return  # still queued for a thread: nothing was sent
        reply = await _finish(future)
        undo = None if reply is None else undo_of(call, *reply)
        if undo is None:
            return
        restored = await _finish(self._submit(self._sync.exchange, undo))
        if restored is None or restored[0] >= 300:
            logger.error(
                "a value taken by a cancelled call could not be put back (%s %s)",
                undo.method,
                undo.target,
            )

    def close(self) -> None:
        """Close the sync sender and let the worker threads end."""
        with self._lock:
            self._sync.close()
            if self._pool is not None:
                self._pool.shutdown(wait=False)

    async def aclose(self) -> None:
        """Same as :meth:`close`."""
        self.close()


async def _finish(future: concurrent.futures.Future[R]) -> R | None:
    """Wait for ``future`` through any number of cancellations; ``None`` if it failed."""
    while True:
        try:
            return await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            continue  # the outcome decides whether a value must go back: keep waiting
        except Exception:
            return None
