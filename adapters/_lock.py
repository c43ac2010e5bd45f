"""Inter-process locks: what ``Store.lock(name, *, timeout=None, ttl=60.0)`` returns.

How the pieces fit::

    Lock         the async context manager: argument checks, waiting with a
                 timeout, the renewal task, a lost lock cancelling its block,
                 and a release that survives cancellation
    LockService  one per store, made on first use by the backend: a Lease per lock()
    Lease        one waiter, then holder, of a lock in one backend: acquire,
                 renew, release

Backends implement a :class:`LockService` and its :class:`Lease`: memory and
NATS keep each lock's queue in one compare-and-set register (``_lockqueue``),
SQLite in a waiters table, PostgreSQL uses advisory locks.

Timing: a lease's ``renewed_at`` is the ``time.monotonic()`` at which the
request that last extended it was *sent*; the backend keeps the lease at least
``ttl`` seconds after it processed that request, so the holder may count on the
lock until ``renewed_at + ttl``. The holder renews every ``ttl / 3`` and, when a
renewal fails, retries until that moment; then it gives the lock up.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import enum
import logging
import math
import threading
import time
from collections.abc import Awaitable, Hashable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from ._errors import AdapterError, BackendUnavailable, LockLost, LockTimeout
from ._keys import check_text

__all__ = [
    "MIN_TTL",
    "Broadcast",
    "Lease",
    "Lock",
    "LockService",
    "Waker",
    "check_lock_args",
    "uninterrupted",
]

T = TypeVar("T")

logger = logging.getLogger("adapters")

_MAX_NAME = 255
MIN_TTL = 0.1
"""The shortest ttl, in seconds (renewals every ttl/3 must stay affordable)."""


def check_lock_args(name: Any, timeout: Any, ttl: Any) -> tuple[str, float | None, float]:
    """Validate the arguments of ``Store.lock``.

    Raises:
        TypeError: ``name`` is not a string, or a number is not a number.
        ValueError: ``name`` is empty, too long or holds NUL; ``ttl`` is not a
            finite number of at least 0.1; ``timeout`` is negative or not finite.
    """
    check_text(name, "lock name", _MAX_NAME)
    for what, value, least in (("ttl", ttl, MIN_TTL), ("timeout", timeout, 0.0)):
        if what == "timeout" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"lock {what} must be a number of seconds, got {type(value).__name__}")
        if not math.isfinite(value) or value < least:
            raise ValueError(f"lock {what} must be finite and at least {least:g}, got {value!r}")
    return name, None if timeout is None else float(timeout), float(ttl)


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


async def _release_quietly(lease: Lease) -> None:
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
                await _release_quietly(lock._lease)
        await self._close()


class _State(enum.Enum):
    NEW = "new"  # made by store.lock(), not entered yet
    ACQUIRING = "acquiring"  # __aenter__ waits in the queue
    HELD = "held"  # the block runs; the renewal task keeps the lease
    RELEASING = "releasing"  # __aexit__ stops renewing and releases
    DONE = "done"  # released (or never acquired); cannot be entered again


class Lock:
    """An inter-process lock: ``async with store.lock("name"):``.

    Inside the block no other holder of ``name`` exists in any process using
    the same backend. Waiters are served first come, first served. While the
    block runs a background task renews the lease every ``ttl / 3``; a holder
    that dies (killed, crashed) loses the lock when ``ttl`` runs out.

    If the lease cannot be renewed in time (the backend is unreachable, the
    process was stalled) or is found taken over, the lock is *lost*: the task
    running the block is cancelled, as ``asyncio.timeout`` does, and the block
    exits with :class:`~adapters.LockLost` (its own exception, if any, chained
    as ``__cause__``). :attr:`held` tells a long computation whether it still
    holds the lock between awaits.

    A ``Lock`` is entered once; it is not re-entrant (entering the same name
    again inside the block waits behind itself until ``timeout``).
    """

    def __init__(self, service: LockService, name: str, timeout: float | None, ttl: float) -> None:
        self._service = service
        self.name = name
        self.timeout = timeout
        self.ttl = ttl
        self._state = _State.NEW
        self._lease: Lease | None = None
        self._owner: asyncio.Task[Any] | None = None
        self._level = 0
        self._renewer: asyncio.Task[None] | None = None
        self._lost: str | None = None
        self._cancelled = False

    def __repr__(self) -> str:
        return f"<Lock {self.name!r} {self._state.value} ttl={self.ttl:g}>"

    @property
    def held(self) -> bool:
        """Whether the block runs and the lock is still surely held (renewed within ``ttl``)."""
        lease = self._lease
        return (
            self._state is _State.HELD
            and self._lost is None
            and lease is not None
            and time.monotonic() < lease.renewed_at + self.ttl
        )

    async def __aenter__(self) -> Lock:
        """Wait for the lock (first come, first served) and start renewing it.

        Raises:
            LockTimeout: not granted within ``timeout`` (the waiter left the queue).
            BackendUnavailable: the backend cannot be reached, or the store is closed.
            AdapterError: the backend failed otherwise.
            RuntimeError: this ``Lock`` was entered before, or no task runs.
        """
        if self._state is not _State.NEW:
            raise RuntimeError("a Lock is entered once; call store.lock() again")
        owner = asyncio.current_task()
        if owner is None:
            raise RuntimeError("Lock must be entered from an asyncio task")
        service = self._service
        if service.closing:
            raise BackendUnavailable(service.url, "the store is closed")
        self._owner, self._level = owner, owner.cancelling()
        self._state = _State.ACQUIRING
        lease = self._lease = service.lease(self.name, self.ttl)
        service.track(self)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            if not await lease.acquire(deadline):
                assert self.timeout is not None
                raise LockTimeout(self.name, self.timeout)
        except BaseException:
            self._state = _State.DONE
            try:
                await _release_quietly(lease)
            finally:
                service.untrack(self)
            raise
        self._state = _State.HELD
        self._renewer = asyncio.get_running_loop().create_task(
            self._keep(lease), name=f"adapters lock {self.name!r}: renewal"
        )
        logger.debug("lock %r acquired (ttl %g s)", self.name, self.ttl)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop renewing and release the lock, even when cancelled meanwhile.

        Raises:
            LockLost: the lock may have passed to another holder before the block ended.
        """
        lease, owner = self._lease, self._owner
        if self._state is not _State.HELD or lease is None or owner is None:
            return
        if self._lost is None and time.monotonic() >= lease.renewed_at + self.ttl:
            self._lost = f"not renewed within its ttl of {self.ttl:g} s"
        self._state = _State.RELEASING  # from here on a loss no longer cancels the block
        work = asyncio.ensure_future(self._wind_down(lease))
        while not work.done():
            # A cancellation meanwhile is counted by owner.cancelling(), decided below.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait((work,))
        self._state = _State.DONE
        if self._cancelled:
            owner.uncancel()
        if owner.cancelling() > self._level:
            # Someone else cancelled the task too: that cancellation goes on.
            if isinstance(exc, asyncio.CancelledError):
                return
            raise asyncio.CancelledError
        if self._lost is not None:
            raise LockLost(self.name, self._lost) from exc
        logger.debug("lock %r released", self.name)

    async def _wind_down(self, lease: Lease) -> None:
        try:
            renewer = self._renewer
            if renewer is not None:
                renewer.cancel()
                await asyncio.wait((renewer,))
            await _release_quietly(lease)
        finally:
            self._service.untrack(self)

    async def _keep(self, lease: Lease) -> None:
        """The renewal task: extend the lease every ttl/3 until the block ends."""
        interval = self.ttl / 3
        retry = min(interval / 3, 1.0)
        due = lease.renewed_at + interval
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))  # the renewal timer
            remaining = lease.renewed_at + self.ttl - time.monotonic()
            if remaining <= 0:
                self._lose(f"not renewed within its ttl of {self.ttl:g} s")
                return
            try:
                async with asyncio.timeout(remaining):
                    held = await lease.renew()
            except AdapterError as exc:
                logger.warning("lock %r: renewal failed (%s); retrying", self.name, exc)
                due = time.monotonic() + retry
                continue
            except TimeoutError:
                self._lose(f"not renewed within its ttl of {self.ttl:g} s")
                return
            except Exception as exc:
                logger.exception("lock %r: renewal failed unexpectedly", self.name)
                self._lose(f"renewal failed: {type(exc).__name__}")
                return
            if not held:
                self._lose("it expired and was taken over or removed")
                return
            due = lease.renewed_at + interval

    def _lose(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason
            logger.warning("lock %r lost: %s", self.name, reason)
        if self._state is _State.HELD and not self._cancelled and self._owner is not None:
            self._cancelled = True
            self._owner.cancel(f"lock {self.name!r} lost: {reason}")

    def _abandon(self, reason: str) -> None:
        """The store closes: stop waiting, or lose the lock."""
        if self._lease is not None:
            self._lease.interrupt()
        if self._state is _State.HELD:
            self._lose(reason)
