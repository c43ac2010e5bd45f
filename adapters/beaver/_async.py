"""The async surface: ``AsyncBeaverClient`` and its structure proxies.

Every method builds its call with the shared operation builders and awaits the
one sender; there is no other logic here.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar, overload

from adapters.beaver._errors import ClientClosed, QueueEmpty
from adapters.beaver._gaps import ClientGaps, DictGaps, ListGaps, LogGaps, QueueGaps, refuse_secret
from adapters.beaver._handle import Handle
from adapters.beaver._models import FieldIndex, LogEntry, QueueItem, codec_for
from adapters.beaver._ops import UNSET, DictOps, ListOps
from adapters.beaver._ops_stream import LogOps, Order, QueueGetPlan, QueueOps
from adapters.beaver._threads import ThreadedSender
from adapters.beaver._transport import AsyncSender, Settings, SyncSender
from adapters.beaver._values import Key
from adapters.beaver._wire import Call

__all__ = [
    "AsyncBeaverClient",
    "AsyncBeaverDict",
    "AsyncBeaverList",
    "AsyncBeaverLog",
    "AsyncBeaverQueue",
]

T = TypeVar("T")
D = TypeVar("D")


class _Port(Protocol):
    """What the async client sends through: native httpx, or worker threads."""

    @property
    def closed(self) -> bool: ...
    async def send(self, call: Call[T]) -> T: ...
    async def aclose(self) -> None: ...


class AsyncBeaverClient(ClientGaps):
    """Async client for a BeaverDB REST server, mirroring ``AsyncBeaverDB``'s API.

    Args:
        base_url: ``http(s)://host:port`` of ``beaver serve``.
        api_key: The server's ``--api-key``, sent as a bearer token.
        timeout: HTTP timeout in seconds, ``None`` for none.
        queue_poll: Longest pause, in seconds, between two polls of an empty queue
            by a blocking ``queue.get`` (default 0.5).
        max_connections: Size of the connection pool.

    Raises:
        ValueError: Invalid URL or settings.

    Use ``async with AsyncBeaverClient(...) as db:`` or ``await db.close()``.
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
        settings = Settings.build(base_url, api_key, timeout, queue_poll, max_connections)
        self._init(settings)

    @classmethod
    def _over(cls, settings: Settings, sender: ThreadedSender) -> AsyncBeaverClient:
        """An async client sending through ``sender`` (the async side of a sync client)."""
        client = cls.__new__(cls)
        client._init(settings, sender)
        return client

    def _init(self, settings: Settings, sender: ThreadedSender | None = None) -> None:
        self.settings = settings
        self._sender: _Port = AsyncSender(settings) if sender is None else sender
        # Calls that take values (queue.get, pop) run on threads, safe from
        # cancellation (see adapters.beaver._threads); made on first use.
        self._taker = sender

    def __repr__(self) -> str:
        return f"AsyncBeaverClient({self.settings.safe_url!r})"

    async def _send(self, call: Call[T]) -> T:
        if self._sender.closed:
            raise ClientClosed("the BeaverDB client is closed")
        if call.undo is None:
            return await self._sender.send(call)
        if self._taker is None:
            self._taker = ThreadedSender(SyncSender(self.settings))
        return await self._taker.take(call)

    def as_async(self) -> AsyncBeaverClient:
        """Return ``self`` (already async)."""
        return self

    async def connect(self) -> AsyncBeaverClient:
        """Return ``self``: connections open on first use (kept for ``AsyncBeaverDB`` code)."""
        return self

    async def close(self) -> None:
        """Close the pooled connections; later calls raise :class:`ClientClosed`.

        On the object returned by ``BeaverClient.as_async()``, this closes that
        ``BeaverClient`` too: they share one connection pool.
        """
        await self._sender.aclose()
        if self._taker is not None and self._taker is not self._sender:
            await self._taker.aclose()

    aclose = close

    async def __aenter__(self) -> AsyncBeaverClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @overload
    def queue(self, name: str) -> AsyncBeaverQueue[Any]: ...
    @overload
    def queue(self, name: str, model: type[T]) -> AsyncBeaverQueue[T]: ...
    def queue(self, name: str, model: type[Any] | None = None) -> AsyncBeaverQueue[Any]:
        """The priority queue ``name`` (no I/O). Raises :class:`InvalidName`."""
        return AsyncBeaverQueue(self, QueueOps(name, codec_for(model)))

    @overload
    def log(self, name: str) -> AsyncBeaverLog[Any]: ...
    @overload
    def log(self, name: str, model: type[T]) -> AsyncBeaverLog[T]: ...
    def log(self, name: str, model: type[Any] | None = None) -> AsyncBeaverLog[Any]:
        """The time-indexed log ``name`` (no I/O). Raises :class:`InvalidName`."""
        return AsyncBeaverLog(self, LogOps(name, codec_for(model)))

    # dict/list last: inside the class body their names shadow the builtins.
    @overload
    def dict(
        self, name: str, model: None = None, secret: object = None
    ) -> AsyncBeaverDict[Any]: ...
    @overload
    def dict(self, name: str, model: type[T], secret: object = None) -> AsyncBeaverDict[T]: ...
    def dict(
        self, name: str, model: type[Any] | None = None, secret: object = None
    ) -> AsyncBeaverDict[Any]:
        """The dict ``name`` (no I/O).

        Raises:
            InvalidName: The name cannot be addressed over REST.
            NotSupportedRemotely: ``secret`` was given (encrypted dicts are local-only).
        """
        refuse_secret(secret)
        return AsyncBeaverDict(self, DictOps(name, codec_for(model)))

    @overload
    def list(self, name: str) -> AsyncBeaverList[Any]: ...
    @overload
    def list(self, name: str, model: type[T]) -> AsyncBeaverList[T]: ...
    def list(self, name: str, model: type[Any] | None = None) -> AsyncBeaverList[Any]:
        """The list ``name`` (no I/O). Raises :class:`InvalidName`."""
        return AsyncBeaverList(self, ListOps(name, codec_for(model)))


class AsyncBeaverDict(Handle[AsyncBeaverClient, DictOps[T]], DictGaps, Generic[T]):
    """A remote dict; the methods of ``AsyncBeaverDict`` in the local API.

    ``get``/``delete`` raise :class:`KeyNotFound` (a ``KeyError``) for a missing or
    expired key. Every ``str`` key works, including ``"count"``, ``"a/b"`` and ``""``;
    ``int``, ``float`` and ``bool`` keys are stored as local BeaverDB stores them.
    """

    __slots__ = ()

    def as_async(self) -> AsyncBeaverDict[T]:
        """Return ``self`` (already async)."""
        return self

    async def set(self, key: Key, value: T, ttl_seconds: float | None = None) -> None:
        """Write ``value`` under ``key``, expiring after ``ttl_seconds`` if given."""
        await self._client._send(self._ops.set(key, value, ttl_seconds))

    @overload
    async def get(self, key: Key) -> T: ...
    @overload
    async def get(self, key: Key, default: D) -> T | D: ...
    async def get(self, key: Key, default: Any = UNSET) -> Any:
        """Return the value of ``key``.

        Raises:
            KeyNotFound: The key is missing or expired, and no ``default`` was given
                (with one, it is returned instead, like ``dict.get``).
        """
        call = self._ops.get(key) if default is UNSET else self._ops.fetch(key, default)
        return await self._client._send(call)

    async def fetch(self, key: Key, default: Any = None) -> Any:
        """Return the value of ``key``, or ``default`` when missing or expired."""
        return await self._client._send(self._ops.fetch(key, default))

    async def delete(self, key: Key) -> None:
        """Remove ``key``. Raises :class:`KeyNotFound`."""
        await self._client._send(self._ops.delete(key))

    async def pop(self, key: Key, default: Any = None) -> Any:
        """Remove ``key`` and return its value, or ``default`` when missing."""
        return await self._client._send(self._ops.pop(key, default))

    async def contains(self, key: Key) -> bool:
        """Whether ``key`` is stored (the server ignores TTL here)."""
        return await self._client._send(self._ops.contains(key))

    async def count(self) -> int:
        """Number of keys (the server also counts expired ones)."""
        return await self._client._send(self._ops.count())

    async def clear(self) -> None:
        """Remove every key."""
        await self._client._send(self._ops.clear())


class AsyncBeaverList(Handle[AsyncBeaverClient, ListOps[T]], ListGaps, Generic[T]):
    """A remote list; list indexes out of range raise :class:`IndexOutOfRange`."""

    __slots__ = ()

    def as_async(self) -> AsyncBeaverList[T]:
        """Return ``self`` (already async)."""
        return self

    async def get(self, index: int) -> T:
        """The item at ``index`` (negative counts from the end)."""
        return await self._client._send(self._ops.get(index))

    async def set(self, index: int, value: T) -> None:
        """Replace the item at ``index``."""
        await self._client._send(self._ops.set(index, value))

    async def delete(self, index: int) -> None:
        """Remove the item at ``index``."""
        await self._client._send(self._ops.delete(index))

    async def contains(self, value: T) -> bool:
        """Whether an item equals ``value`` (compared as JSON; key order matters)."""
        return await self._client._send(self._ops.contains(value))

    async def push(self, value: T) -> None:
        """Append ``value``."""
        await self._client._send(self._ops.push(value))

    async def prepend(self, value: T) -> None:
        """Insert ``value`` at the front."""
        await self._client._send(self._ops.prepend(value))

    async def insert(self, index: int, value: T) -> None:
        """Insert before ``index`` (``<= 0`` prepends, ``>= len`` appends)."""
        await self._client._send(self._ops.insert(index, value))

    async def pop(self) -> T | None:
        """Remove and return the last item, ``None`` when empty."""
        return await self._client._send(self._ops.pop())

    async def deque(self) -> T | None:
        """Remove and return the first item, ``None`` when empty."""
        return await self._client._send(self._ops.deque())

    async def count(self) -> int:
        """Number of items."""
        return await self._client._send(self._ops.count())

    async def clear(self) -> None:
        """Remove every item."""
        await self._client._send(self._ops.clear())


class AsyncBeaverQueue(Handle[AsyncBeaverClient, QueueOps[T]], QueueGaps, Generic[T]):
    """A remote priority queue (a smaller priority comes out first)."""

    __slots__ = ()

    def as_async(self) -> AsyncBeaverQueue[T]:
        """Return ``self`` (already async)."""
        return self

    async def put(self, data: T, priority: float) -> None:
        """Add ``data`` with ``priority``."""
        await self._client._send(self._ops.put(data, priority))

    async def get(self, block: bool = True, timeout: float | None = None) -> QueueItem[T]:  # noqa: ASYNC109 -- the local API's signature
        """Remove and return the next item.

        Blocking calls poll the queue (pausing up to ``queue_poll`` seconds between
        polls); the server never waits on the client's behalf. A call cancelled at
        any point takes no item: if its poll had just taken one, it is put back
        (same priority, new timestamp) before the cancellation goes through.

        Raises:
            QueueEmpty: ``block=False`` and the queue is empty.
            RemoteTimeout: No item arrived within ``timeout``.
        """
        plan = QueueGetPlan.start(
            block, timeout, self._client.settings.queue_poll, time.monotonic()
        )
        while True:
            try:
                return await self._client._send(self._ops.take())
            except QueueEmpty:
                pause = plan.pause(time.monotonic())
                if pause is None and not block:
                    raise
            if pause is None:
                raise self._ops.timed_out(timeout)
            await asyncio.sleep(pause)

    async def peek(self) -> QueueItem[T] | None:
        """The next item without removing it, ``None`` when empty."""
        return await self._client._send(self._ops.peek())

    async def count(self) -> int:
        """Number of waiting items."""
        return await self._client._send(self._ops.count())

    async def clear(self) -> None:
        """Remove every item."""
        await self._client._send(self._ops.clear())


class AsyncBeaverLog(Handle[AsyncBeaverClient, LogOps[T]], LogGaps, Generic[T]):
    """A remote time-indexed log."""

    __slots__ = ()

    def as_async(self) -> AsyncBeaverLog[T]:
        """Return ``self`` (already async)."""
        return self

    async def log(self, data: T, timestamp: float | datetime | None = None) -> None:
        """Append ``data`` at ``timestamp`` (epoch seconds or aware datetime; default now)."""
        await self._client._send(self._ops.log(data, timestamp))

    async def range(
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
        return await self._client._send(self._ops.range(start, end, limit, where, order, offset))

    async def indexes(self) -> list[FieldIndex]:
        """The field indexes declared on this log (declared in-process only)."""
        return await self._client._send(self._ops.indexes())

    async def count(self) -> int:
        """Number of entries."""
        return await self._client._send(self._ops.count())

    async def clear(self) -> None:
        """Remove every entry."""
        await self._client._send(self._ops.clear())
