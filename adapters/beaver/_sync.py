"""The sync surface: ``BeaverClient``, a drop-in for the local ``BeaverDB``.

A thin layer over httpx's sync client: every method builds its call with the
shared operation builders and hands it to the one sync sender. ``as_async()``
returns the parallel async object, an :class:`AsyncBeaverClient` that runs this
client's calls on worker threads (as local BeaverDB's own async wrappers do), so
it is bound to no event loop and needs no closing of its own.
"""

from __future__ import annotations

import time
import weakref
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from adapters.beaver._async import (
    AsyncBeaverClient,
    AsyncBeaverDict,
    AsyncBeaverList,
    AsyncBeaverLog,
    AsyncBeaverQueue,
)
from adapters.beaver._errors import ClientClosed, QueueEmpty
from adapters.beaver._gaps import ClientGaps, DictGaps, ListGaps, LogGaps, QueueGaps, refuse_secret
from adapters.beaver._handle import Handle
from adapters.beaver._models import FieldIndex, LogEntry, QueueItem, codec_for
from adapters.beaver._ops import UNSET, DictOps, ListOps
from adapters.beaver._ops_stream import LogOps, Order, QueueGetPlan, QueueOps
from adapters.beaver._threads import ThreadedSender
from adapters.beaver._transport import Settings, SyncSender
from adapters.beaver._values import Key
from adapters.beaver._wire import Call

__all__ = ["BeaverClient", "BeaverDict", "BeaverList", "BeaverLog", "BeaverQueue"]

T = TypeVar("T")
D = TypeVar("D")


class BeaverClient(ClientGaps):
    """Sync client for a BeaverDB REST server, a drop-in for the local ``BeaverDB``.

    Args:
        base_url: ``http(s)://host:port`` of ``beaver serve``.
        api_key: The server's ``--api-key``, sent as a bearer token.
        timeout: HTTP timeout in seconds, ``None`` for none.
        queue_poll: Longest pause, in seconds, between two polls of an empty queue
            by a blocking ``queue.get`` (default 0.5).
        max_connections: Size of the connection pool (the client is thread-safe).

    Raises:
        ValueError: Invalid URL or settings.

    Use ``with BeaverClient(...) as db:`` or ``db.close()``, which also ends what
    ``as_async()`` made: both sides share one connection pool, in or out of
    ``asyncio.run()``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float | None = 30.0,
        queue_poll: float | None = None,
        max_connections: int = 20,
    ) -> None:
        self.settings = Settings.build(base_url, api_key, timeout, queue_poll, max_connections)
        self._sender = SyncSender(self.settings)
        self._threads: ThreadedSender | None = None
        self._async: AsyncBeaverClient | None = None
        # A client its owner never closes has its connections closed when it is
        # garbage-collected or at interpreter exit.
        self._finalizer = weakref.finalize(self, self._sender.close)

    def __repr__(self) -> str:
        return f"BeaverClient({self.settings.safe_url!r})"

    def _send(self, call: Call[T]) -> T:
        if self._sender.closed:
            raise ClientClosed("the BeaverDB client is closed")
        return self._sender.send(call)

    def as_async(self) -> AsyncBeaverClient:
        """This client with awaitable methods (created on first use, then reused).

        Its calls run on worker threads over this client's connections, so it works
        from any event loop, including several ``asyncio.run()`` in a row.

        Raises:
            ClientClosed: The client is closed.
        """
        if self._sender.closed:
            raise ClientClosed("the BeaverDB client is closed")
        if self._async is None:
            self._threads = ThreadedSender(self._sender)
            self._async = AsyncBeaverClient._over(self.settings, self._threads)
        return self._async

    def close(self) -> None:
        """Close the connections (both sides); later calls raise :class:`ClientClosed`."""
        if self._threads is not None:
            self._threads.close()
        self._finalizer()

    async def aclose(self) -> None:
        """Same as :meth:`close`, for ``async with`` and async code."""
        self.close()

    def __enter__(self) -> BeaverClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> BeaverClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @overload
    def queue(self, name: str) -> BeaverQueue[Any]: ...
    @overload
    def queue(self, name: str, model: type[T]) -> BeaverQueue[T]: ...
    def queue(self, name: str, model: type[Any] | None = None) -> BeaverQueue[Any]:
        """The priority queue ``name`` (no I/O). Raises :class:`InvalidName`."""
        return BeaverQueue(self, QueueOps(name, codec_for(model)))

    @overload
    def log(self, name: str) -> BeaverLog[Any]: ...
    @overload
    def log(self, name: str, model: type[T]) -> BeaverLog[T]: ...
    def log(self, name: str, model: type[Any] | None = None) -> BeaverLog[Any]:
        """The time-indexed log ``name`` (no I/O). Raises :class:`InvalidName`."""
        return BeaverLog(self, LogOps(name, codec_for(model)))

    # dict/list last: inside the class body their names shadow the builtins.
    @overload
    def dict(self, name: str, model: None = None, secret: object = None) -> BeaverDict[Any]: ...
    @overload
    def dict(self, name: str, model: type[T], secret: object = None) -> BeaverDict[T]: ...
    def dict(
        self, name: str, model: type[Any] | None = None, secret: object = None
    ) -> BeaverDict[Any]:
        """The dict ``name`` (no I/O).

        Raises:
            InvalidName: The name cannot be addressed over REST.
            NotSupportedRemotely: ``secret`` was given (encrypted dicts are local-only).
        """
        refuse_secret(secret)
        return BeaverDict(self, DictOps(name, codec_for(model)))

    @overload
    def list(self, name: str) -> BeaverList[Any]: ...
    @overload
    def list(self, name: str, model: type[T]) -> BeaverList[T]: ...
    def list(self, name: str, model: type[Any] | None = None) -> BeaverList[Any]:
        """The list ``name`` (no I/O). Raises :class:`InvalidName`."""
        return BeaverList(self, ListOps(name, codec_for(model)))


class BeaverDict(Handle[BeaverClient, DictOps[T]], DictGaps, Generic[T]):
    """A remote dict with the mapping protocol: ``d[k]``, ``d[k] = v``, ``del d[k]``,
    ``k in d``, ``len(d)``.

    ``d[k]``/``get``/``del d[k]``/``delete`` raise :class:`KeyNotFound` (a
    ``KeyError``) for a missing or expired key. Every ``str`` key works, including
    ``"count"``, ``"a/b"`` and ``""``; ``int``, ``float`` and ``bool`` keys are
    stored as local BeaverDB stores them (``d[42]`` is ``d["42"]``).
    """

    __slots__ = ()

    def as_async(self) -> AsyncBeaverDict[T]:
        """The same dict with awaitable methods of the same names."""
        return AsyncBeaverDict(self._client.as_async(), self._ops)

    def set(self, key: Key, value: T, ttl_seconds: float | None = None) -> None:
        """Write ``value`` under ``key``, expiring after ``ttl_seconds`` if given."""
        self._client._send(self._ops.set(key, value, ttl_seconds))

    @overload
    def get(self, key: Key) -> T: ...
    @overload
    def get(self, key: Key, default: D) -> T | D: ...
    def get(self, key: Key, default: Any = UNSET) -> Any:
        """Return the value of ``key``.

        Raises:
            KeyNotFound: The key is missing or expired, and no ``default`` was given
                (with one, it is returned instead, like ``dict.get``).
        """
        call = self._ops.get(key) if default is UNSET else self._ops.fetch(key, default)
        return self._client._send(call)

    def fetch(self, key: Key, default: Any = None) -> Any:
        """Return the value of ``key``, or ``default`` when missing or expired."""
        return self._client._send(self._ops.fetch(key, default))

    def delete(self, key: Key) -> None:
        """Remove ``key``. Raises :class:`KeyNotFound`."""
        self._client._send(self._ops.delete(key))

    def pop(self, key: Key, default: Any = None) -> Any:
        """Remove ``key`` and return its value, or ``default`` when missing."""
        return self._client._send(self._ops.pop(key, default))

    def contains(self, key: Key) -> bool:
        """Whether ``key`` is stored (the server ignores TTL here)."""
        return self._client._send(self._ops.contains(key))

    def count(self) -> int:
        """Number of keys (the server also counts expired ones)."""
        return self._client._send(self._ops.count())

    def clear(self) -> None:
        """Remove every key."""
        self._client._send(self._ops.clear())

    __getitem__ = get
    __setitem__ = set
    __delitem__ = delete
    __contains__ = contains
    __len__ = count


class BeaverList(Handle[BeaverClient, ListOps[T]], ListGaps, Generic[T]):
    """A remote list with ``l[i]``, ``l[i] = v``, ``del l[i]``, ``v in l``, ``len(l)``.

    Indexes out of range raise :class:`IndexOutOfRange` (an ``IndexError``); slices
    and iteration raise :class:`NotSupportedRemotely`.
    """

    __slots__ = ()

    def as_async(self) -> AsyncBeaverList[T]:
        """The same list with awaitable methods of the same names."""
        return AsyncBeaverList(self._client.as_async(), self._ops)

    def get(self, index: int) -> T:
        """The item at ``index`` (negative counts from the end)."""
        return self._client._send(self._ops.get(index))

    def set(self, index: int, value: T) -> None:
        """Replace the item at ``index``."""
        self._client._send(self._ops.set(index, value))

    def delete(self, index: int) -> None:
        """Remove the item at ``index``."""
        self._client._send(self._ops.delete(index))

    def contains(self, value: T) -> bool:
        """Whether an item equals ``value`` (compared as JSON; key order matters)."""
        return self._client._send(self._ops.contains(value))

    def push(self, value: T) -> None:
        """Append ``value``."""
        self._client._send(self._ops.push(value))

    def prepend(self, value: T) -> None:
        """Insert ``value`` at the front."""
        self._client._send(self._ops.prepend(value))

    def insert(self, index: int, value: T) -> None:
        """Insert before ``index`` (``<= 0`` prepends, ``>= len`` appends)."""
        self._client._send(self._ops.insert(index, value))

    def pop(self) -> T | None:
        """Remove and return the last item, ``None`` when empty."""
        return self._client._send(self._ops.pop())

    def deque(self) -> T | None:
        """Remove and return the first item, ``None`` when empty."""
        return self._client._send(self._ops.deque())

    def count(self) -> int:
        """Number of items."""
        return self._client._send(self._ops.count())

    def clear(self) -> None:
        """Remove every item."""
        self._client._send(self._ops.clear())

    __getitem__ = get
    __setitem__ = set
    __delitem__ = delete
    __contains__ = contains
    __len__ = count


class BeaverQueue(Handle[BeaverClient, QueueOps[T]], QueueGaps, Generic[T]):
    """A remote priority queue (a smaller priority comes out first); ``len(q)`` works."""

    __slots__ = ()

    def as_async(self) -> AsyncBeaverQueue[T]:
        """The same queue with awaitable methods of the same names."""
        return AsyncBeaverQueue(self._client.as_async(), self._ops)

    def put(self, data: T, priority: float) -> None:
        """Add ``data`` with ``priority``."""
        self._client._send(self._ops.put(data, priority))

    def get(self, block: bool = True, timeout: float | None = None) -> QueueItem[T]:
        """Remove and return the next item.

        Blocking calls poll the queue (pausing up to ``queue_poll`` seconds between
        polls); the server never waits on the client's behalf, so a call that timed
        out leaves nothing behind that could take a later item.

        Raises:
            QueueEmpty: ``block=False`` and the queue is empty.
            RemoteTimeout: No item arrived within ``timeout``.
        """
        plan = QueueGetPlan.start(
            block, timeout, self._client.settings.queue_poll, time.monotonic()
        )
        while True:
            try:
                return self._client._send(self._ops.take())
            except QueueEmpty:
                pause = plan.pause(time.monotonic())
                if pause is None and not block:
                    raise
            if pause is None:
                raise self._ops.timed_out(timeout)
            time.sleep(pause)

    def peek(self) -> QueueItem[T] | None:
        """The next item without removing it, ``None`` when empty."""
        return self._client._send(self._ops.peek())

    def count(self) -> int:
        """Number of waiting items."""
        return self._client._send(self._ops.count())

    def clear(self) -> None:
        """Remove every item."""
        self._client._send(self._ops.clear())

    __len__ = count


class BeaverLog(Handle[BeaverClient, LogOps[T]], LogGaps, Generic[T]):
    """A remote time-indexed log; ``len(log)`` works."""

    __slots__ = ()

    def as_async(self) -> AsyncBeaverLog[T]:
        """The same log with awaitable methods of the same names."""
        return AsyncBeaverLog(self._client.as_async(), self._ops)

    def log(self, data: T, timestamp: float | datetime | None = None) -> None:
        """Append ``data`` at ``timestamp`` (epoch seconds or aware datetime; default now)."""
        self._client._send(self._ops.log(data, timestamp))

    def range(
        self,
        start: float | datetime | None = None,
        end: float | datetime | None = None,
        limit: int | None = None,
        where: Any = None,
        order: Order = "ASC",
        offset: int | None = None,
    ) -> list[LogEntry[T]]:
        """Entries with ``start <= timestamp <= end``, oldest first unless ``order="DESC"``.

        Raises:
            NotSupportedRemotely: ``where`` was given (the server cannot decode filters).
        """
        return self._client._send(self._ops.range(start, end, limit, where, order, offset))

    def indexes(self) -> list[FieldIndex]:
        """The field indexes declared on this log (declared in-process only)."""
        return self._client._send(self._ops.indexes())

    def count(self) -> int:
        """Number of entries."""
        return self._client._send(self._ops.count())

    def clear(self) -> None:
        """Remove every entry."""
        self._client._send(self._ops.clear())

    __len__ = count
