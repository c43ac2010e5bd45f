"""``Store``: a connection to one backend, handing out collections."""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from ._collection import Collection
from ._errors import BackendUnavailable
from ._keys import check_text
from ._lease import LockService
from ._lock import Lock, check_lock_args
from ._urls import redact_url

if TYPE_CHECKING:
    from ._changes import ChangeStream

__all__ = ["Store", "check_name"]

T = TypeVar("T")

logger = logging.getLogger("adapters")

_MAX_NAME = 255


def check_name(name: Any) -> str:
    """Validate a collection name: a non-empty string without NUL, at most 255 characters.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is empty, too long or contains NUL.
    """
    return check_text(name, "collection name", _MAX_NAME)


def _check_fields(kind: str, fields: Sequence[str]) -> tuple[str, ...]:
    if isinstance(fields, str):
        raise TypeError(f"{kind} must be a sequence of field names, not a string")
    out: list[str] = []
    for field in fields:
        if not isinstance(field, str) or not field or any(not p for p in field.split(".")):
            raise ValueError(f"invalid field name {field!r} in {kind}")
        out.append(field)
    return tuple(out)


class Store(abc.ABC):
    """An open connection to one backend. Use ``async with adapters.connect(url) as store``.

    States: *open* after ``open_store`` returned it; *closed* after
    :meth:`close` (every operation then raises
    :class:`~adapters.BackendUnavailable`, and open ``watch`` streams end).

    A backend's store names its collection class in :attr:`collection_class`;
    :meth:`collection` builds it as ``collection_class(store, name, model,
    indexes, unique)``.
    """

    collection_class: ClassVar[type[Collection[Any]]]
    """The backend's :class:`~adapters.Collection` subclass."""

    def __init__(self, url: str) -> None:
        self._url = redact_url(url)
        self._closed = False
        self._streams: set[ChangeStream[Any]] = set()
        self._locks: LockService | None = None

    @property
    def url(self) -> str:
        """The backend URL, with credentials removed."""
        return self._url

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self._url} {state}>"

    def _check_open(self) -> None:
        if self._closed:
            raise BackendUnavailable(self._url, "the store is closed")

    @abc.abstractmethod
    async def _collections(self) -> list[str]:
        """Names of the collections holding at least one record."""

    @abc.abstractmethod
    async def _drop(self, name: str) -> bool:
        """Remove the collection and its records; whether it held any."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Release the backend's resources."""

    @overload
    def collection(
        self,
        name: str,
        model: None = None,
        *,
        indexes: Sequence[str] = (),
        unique: Sequence[str] = (),
    ) -> Collection[dict[str, Any]]: ...

    @overload
    def collection(
        self,
        name: str,
        model: type[T],
        *,
        indexes: Sequence[str] = (),
        unique: Sequence[str] = (),
    ) -> Collection[T]: ...

    def collection(
        self,
        name: str,
        model: type[Any] | None = None,
        *,
        indexes: Sequence[str] = (),
        unique: Sequence[str] = (),
    ) -> Collection[Any]:
        """Return the collection ``name`` (created on first write; no I/O here).

        Args:
            name: The collection name.
            model: A ``msgspec.Struct`` type for a typed collection; records then hold
                instances of it. ``None`` for plain dicts.
            indexes: Dotted field paths to index (where the backend supports indexes).
            unique: Dotted field paths whose values must be unique in the collection;
                a clash raises :class:`~adapters.AlreadyExists` naming field and value.

        Raises:
            BackendUnavailable: the store is closed.
            TypeError, ValueError: invalid name or field lists.
        """
        self._check_open()
        check_name(name)
        return self.collection_class(
            self, name, model, _check_fields("indexes", indexes), _check_fields("unique", unique)
        )

    async def collections(self) -> list[str]:
        """Return the sorted names of the collections that hold records."""
        self._check_open()
        return sorted(await self._collections())

    async def drop(self, name: str) -> bool:
        """Remove collection ``name`` and all its records; ``True`` if it held any."""
        self._check_open()
        return await self._drop(check_name(name))

    def transaction(self) -> AbstractAsyncContextManager[Store]:
        """Group the operations awaited inside ``async with store.transaction():``.

        Backends with transactions (PostgreSQL) override this; the others raise.

        Raises:
            NotImplementedError: the backend has no multi-document transactions.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support transactions")

    def lock(self, name: str, *, timeout: float | None = None, ttl: float = 60.0) -> Lock:
        """An inter-process lock: ``async with store.lock("nightly-report"):``.

        Inside the block no other holder of ``name`` exists in any process using
        the same backend; waiters are served first come, first served. The lease
        is renewed every ``ttl / 3`` while the block runs; a holder that dies
        loses the lock when ``ttl`` runs out. A lock that could not be renewed in
        time cancels its block, which then raises :class:`~adapters.LockLost`
        (see :class:`~adapters.Lock`).

        Args:
            name: The lock name (1..255 characters, no NUL).
            timeout: Seconds to wait for the lock; ``None`` waits as long as it takes.
            ttl: Seconds a holder or waiter that stopped renewing keeps its place
                (at least 0.1).

        Raises:
            NotImplementedError: the backend cannot guarantee exclusion (noex, BeaverDB).
            BackendUnavailable: the store is closed.
            TypeError, ValueError: invalid arguments.

        Entering the returned lock raises :class:`~adapters.LockTimeout` when
        ``timeout`` expires first, :class:`~adapters.BackendUnavailable` when the
        backend cannot be reached.
        """
        self._check_open()
        name, timeout, ttl = check_lock_args(name, timeout, ttl)
        if self._locks is None:
            self._locks = self._lock_service()
        return Lock(self._locks, name, timeout, ttl)

    def _lock_service(self) -> LockService:
        """The backend's locks (made on the first ``lock()``).

        Raises:
            NotImplementedError: the backend has none.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support locks")

    async def close(self) -> None:
        """Close the store (idempotent); open ``watch`` streams end, held locks are lost."""
        if self._closed:
            return
        self._closed = True
        for stream in list(self._streams):
            await stream.aclose()
        if self._locks is not None:
            await self._locks.close()
        await self._close()
        logger.debug("closed store %s", self._url)

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
