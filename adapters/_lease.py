"""The backend side of ``store.lock``: a :class:`LockService` per store, a :class:`Lease` per lock.

A backend implements a :class:`LockService` (returned by its store's
``_lock_service()``) and its :class:`Lease`: ``_acquire`` joins the lock's
queue and waits to head it, ``_renew`` extends it by ``ttl``, ``_release``
leaves. :class:`~adapters.Lock` drives them. :class:`Waker` and
:class:`Broadcast` wake waiting leases; :func:`uninterrupted` keeps a backend
write from being abandoned half-way by a cancellation.

Timing: a lease's ``renewed_at`` is the ``time.monotonic()`` at which the
request that last extended it was *sent*; the backend keeps the lease at least
``ttl`` seconds after it processed that request, so the holder may count on the
lock until ``renewed_at + ttl``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Hashable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from ._errors import AdapterError, BackendUnavailable

if TYPE_CHECKING:
    from ._lock import Lock

__all__ = [
    "Broadcast",
    "Lease",
    "LockService",
    "Waker",
    "release_quietly",
    "uninterrupted",
]

T = TypeVar("T")

logger = logging.getLogger("adapters")


async def uninterrupted(aw: Awaitable[T]) -> T:
    """Await ``aw`` to its end even if the calling task is cancelled meanwhile.

    A cancellation that arrives while waiting is re-raised once ``aw`` is done,
    so a backend write is never abandoned half-way (it might land after the
    cleanup that should have followed it).
    """
    task = asyncio.ensure_future(aw)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not task.cancelled():
            task.exception()  # retrieved: the cancellation wins
        raise asyncio.CancelledError
    return task.result()


async def release_quietly(lease: Lease) -> None:
    """Release ``lease`` to its end; failures are logged (the entry then expires by ttl)."""
    try:
        await uninterrupted(lease.release())
    except AdapterError as exc:
        logger.warning(
            "lock %r: could not release (%s); it expires %g s after its last renewal",
            lease.name,
            exc,
            lease.ttl,
        )


class Waker:
    """A wake-up flag for one waiting task; :meth:`wake` may be called from any thread."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Wake the waiting task (thread-safe)."""
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._loop.call_soon_threadsafe(self._event.set)

    def clear(self) -> None:
        """Forget earlier wake-ups (call before reading the state to wait on)."""
        self._event.clear()

    async def wait(self, until: float | None) -> bool:
        """Wait until woken or until the monotonic time ``until``; whether woken."""
        if until is None:
            await self._event.wait()
            return True
        timeout = until - time.monotonic()
        if timeout > 0 and not self._event.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await self._event.wait()
            except TimeoutError:
                return False
        return self._event.is_set()


class Broadcast:
    """Wakes every :class:`Waker` listening on a key, from any thread of the process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._wakers: dict[Hashable, set[Waker]] = {}

    @contextmanager
    def listening(self, key: Hashable, waker: Waker) -> Iterator[None]:
        """Have ``waker`` woken by :meth:`notify` of ``key`` inside the block."""
        with self._guard:
            self._wakers.setdefault(key, set()).add(waker)
        try:
            yield
        finally:
            with self._guard:
                wakers = self._wakers.get(key)
                if wakers is not None:
                    wakers.discard(waker)
                    if not wakers:
                        del self._wakers[key]

    def notify(self, key: Hashable) -> None:
        """Wake every waker listening on ``key``."""
        with self._guard:
            wakers = list(self._wakers.get(key, ()))
        for waker in wakers:
            waker.wake()


class Lease(abc.ABC):
    """One waiter, then holder, of lock ``name`` in one backend.

    Subclasses implement :meth:`_acquire`, :meth:`_renew` and :meth:`_release`.

    Attributes:
        name: The lock name.
        ttl: Seconds the backend keeps the lease after a renewal.
        renewed_at: ``time.monotonic()`` when the request that last extended
            the lease was sent (``-inf`` before the first).
        waker: Wakes :meth:`_acquire` while it waits.
    """

    def __init__(self, service: LockService, name: str, ttl: float) -> None:
        self.service = service
        self.name = name
        self.ttl = ttl
        self.renewed_at = -math.inf
        self.waker = Waker()
        self.interrupted = False
        self._releasing: asyncio.Future[None] | None = None

    async def acquire(self, deadline: float | None) -> bool:
        """Join the lock's queue and wait until this lease heads it.

        Args:
            deadline: ``time.monotonic()`` after which to give up; ``None`` waits.

        Returns:
            ``True`` once held; ``False`` when ``deadline`` passed first.

        Raises:
            AdapterError: the backend failed (``BackendUnavailable`` once the
                store is closed).
        """
        return await self._acquire(deadline)

    async def renew(self) -> bool:
        """Extend the lease by ``ttl``; ``False`` if it is no longer held.

        Raises:
            AdapterError: the backend failed; whether the lease is held is unknown.
        """
        if self._releasing is not None:
            return False
        return await self._renew()

    async def release(self) -> None:
        """Leave the queue, or give the lock up (idempotent; safe after a failed acquire).

        Every call awaits the same release; cancelling a caller does not stop it.

        Raises:
            AdapterError: the backend failed (the entry then expires by ``ttl``).
        """
        if self._releasing is None:
            self._releasing = asyncio.ensure_future(self._release())
        await asyncio.shield(self._releasing)

    def interrupt(self) -> None:
        """Make a waiting :meth:`acquire` raise (the store is closing)."""
        self.interrupted = True
        self.waker.wake()

    def check_interrupted(self) -> None:
        """Raise if :meth:`interrupt` was called.

        Raises:
            BackendUnavailable: the store is closed.
        """
        if self.interrupted:
            raise BackendUnavailable(self.service.url, "the store is closed")

    @abc.abstractmethod
    async def _acquire(self, deadline: float | None) -> bool:
        """See :meth:`acquire`; must set :attr:`renewed_at`."""

    @abc.abstractmethod
    async def _renew(self) -> bool:
        """See :meth:`renew`; must update :attr:`renewed_at` on success."""

    @abc.abstractmethod
    async def _release(self) -> None:
        """See :meth:`release`; called at most once."""


class LockService(abc.ABC):
    """A store's locks in its backend: makes leases, closes with the store.

    Attributes:
        url: The store URL (without credentials), for error messages.
        backend: The backend's name (as in :class:`~adapters.BackendError`).
    """

    def __init__(self, url: str, backend: str) -> None:
        self.url = url
        self.backend = backend
        self.closing = False
        self._locks: set[Lock] = set()

    @abc.abstractmethod
    def lease(self, name: str, ttl: float) -> Lease:
        """A new, not yet acquired lease on lock ``name``."""

    async def _close(self) -> None:  # noqa: B027 - optional hook
        """Free the backend resources (after every lease was released)."""

    def track(self, lock: Lock) -> None:
        """Remember a lock from its acquisition to its release."""
        self._locks.add(lock)

    def untrack(self, lock: Lock) -> None:
        """Forget a released lock."""
        self._locks.discard(lock)

    async def close(self) -> None:
        """Give up every lock of the store, release their leases, free resources."""
        self.closing = True
        locks = list(self._locks)
        for lock in locks:
            lock._abandon("the store was closed")
        for lock in locks:
            if lock._lease is not None:
                await release_quietly(lock._lease)
        await self._close()
