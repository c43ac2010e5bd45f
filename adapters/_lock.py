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

The holder may count on the lock until ``renewed_at + ttl`` (see
``adapters._lease``); it renews every ``ttl / 3`` and, when a renewal fails,
retries until that moment; then it gives the lock up.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import time
from types import TracebackType
from typing import Any

from ._errors import AdapterError, BackendUnavailable, LockLost, LockTimeout
from ._keys import check_text
from ._lease import Lease, LockService, release_quietly

__all__ = ["MIN_TTL", "Lock", "check_lock_args"]

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
                await release_quietly(lease)
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
        lost = self._lost  # what a renewal finds from now on is after the block
        self._state = _State.RELEASING  # from here on a loss no longer cancels the block
        if self._renewer is not None:
            self._renewer.cancel()
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
        if lost is not None:
            raise LockLost(self.name, lost) from exc
        logger.debug("lock %r released", self.name)

    async def _wind_down(self, lease: Lease) -> None:
        try:
            renewer = self._renewer
            if renewer is not None:
                await asyncio.wait((renewer,))  # cancelled by __aexit__
            await release_quietly(lease)
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
