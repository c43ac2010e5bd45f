"""A FIFO lock queue kept in one compare-and-set register (the memory and NATS locks).

The whole queue of a lock is one value, ``{"name": ..., "queue": [[waiter,
ttl, renewed], ...]}`` in arrival order; its head holds the lock. Every change
(join, renew, leave) is a compare-and-set on the register's revision, so joins
are totally ordered (first come, first served) and two waiters can never both
remove an expired head.

Time comes from the register, never from the waiters' clocks: every write is
stamped by the backend (the JetStream message time, the memory backend's
clock). An entry's ``renewed`` is the stamp of the write that last renewed it;
``None`` stands for "the stamp of the write holding this value", because a
writer cannot know its own stamp in advance. A reader *settles* a value at its
stamp: ``None`` becomes the stamp, and entries whose ``renewed + ttl`` lies
before it are gone. A dead head therefore disappears once a live waiter writes
after its expiry: waiters renew their own entries every ``ttl / 3`` and also
write when the head is due to expire.

Safety: a holder counts on the lock until ``renewed_at + ttl`` of its own
clock, where ``renewed_at`` is when it *sent* its last renewal; the backend
stamped that write later, so every value that drops the entry is stamped after
the holder stopped counting on it.
"""

from __future__ import annotations

import abc
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple

import msgspec

from ._errors import BackendError
from ._lease import Lease, LockService, Waker, uninterrupted

__all__ = ["Entry", "QueueLease", "Register", "Snapshot", "decode", "encode", "settle"]

logger = logging.getLogger("adapters")

# Without a wake-up, a waiter reads the register at least this often (a missed
# notification, e.g. across a reconnect, costs at most this delay).
_QUIET = 1.0
# Margin added to the head's expected expiry before writing to settle it.
_MARGIN = 0.005


class Entry(msgspec.Struct, array_like=True, frozen=True):
    """One waiter of the queue (the first one holds the lock)."""

    waiter: str
    ttl: float
    renewed: float | None  # the stamp of its last renewal; None: this value's stamp


class _Value(msgspec.Struct, frozen=True):
    name: str
    queue: list[Entry]


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_Value).decode


def encode(name: str, queue: list[Entry]) -> bytes:
    """The register value of ``queue``."""
    return _encode(_Value(name, queue))


def decode(value: bytes | None) -> list[Entry]:
    """The queue in a register value (``None``: empty).

    Raises:
        msgspec.DecodeError: the value is not a lock queue.
    """
    return [] if value is None else _decode(value).queue


def settle(queue: list[Entry], stamp: float) -> list[Entry]:
    """The queue as of ``stamp``: every ``renewed`` resolved, expired entries dropped."""
    out = []
    for entry in queue:
        renewed = stamp if entry.renewed is None else entry.renewed
        if renewed + entry.ttl >= stamp:
            out.append(
                entry if entry.renewed is not None else Entry(entry.waiter, entry.ttl, stamp)
            )
    return out


class Snapshot(NamedTuple):
    """A register's value, its revision (``0``: never written) and the backend's stamp of it."""

    value: bytes | None
    revision: int
    stamp: float


class Register(abc.ABC):
    """The compare-and-set register holding one lock's queue in a backend."""

    @abc.abstractmethod
    async def read(self) -> Snapshot:
        """The current value.

        Raises:
            AdapterError: the backend failed.
        """

    @abc.abstractmethod
    async def write(self, value: bytes | None, expected: int) -> bool:
        """Write ``value`` (``None``: delete) if the revision is still ``expected``.

        Returns:
            Whether it was written (``False``: another write came first).

        Raises:
            AdapterError: the backend failed.
        """

    @abc.abstractmethod
    def watch(self, waker: Waker) -> AbstractAsyncContextManager[None]:
        """Wake ``waker`` on every write to the register while inside the block."""


class QueueLease(Lease):
    """A lease whose lock queue lives in a :class:`Register`."""

    def __init__(self, service: LockService, name: str, ttl: float, register: Register) -> None:
        super().__init__(service, name, ttl)
        self._register = register
        self._me = uuid.uuid4().hex

    def _mine(self, queue: list[Entry]) -> bool:
        return any(entry.waiter == self._me for entry in queue)

    async def _change(
        self, edit: Callable[[list[Entry]], list[Entry] | None]
    ) -> tuple[list[Entry], float]:
        """Apply ``edit`` to the settled queue by compare-and-set until it lands.

        ``edit`` returns the new queue, or ``None`` to write nothing. Returns the
        queue as written (or as read, when nothing was written) and the stamp of
        the value it was based on. A write is never abandoned half-way.
        """
        while True:
            snap = await self._register.read()
            try:
                queue = settle(decode(snap.value), snap.stamp)
            except msgspec.DecodeError as exc:
                raise BackendError(
                    self.service.backend, None, f"lock {self.name!r} holds a foreign value"
                ) from exc
            new = edit(queue)
            if new is None:
                return queue, snap.stamp
            sent = time.monotonic()
            value = encode(self.name, new) if new else None
            if await uninterrupted(self._register.write(value, snap.revision)):
                if any(e.waiter == self._me and e.renewed is None for e in new):
                    self.renewed_at = sent
                return new, snap.stamp

    def _join(self, queue: list[Entry]) -> list[Entry] | None:
        return None if self._mine(queue) else [*queue, Entry(self._me, self.ttl, None)]

    def _touch(self, queue: list[Entry]) -> list[Entry] | None:
        if not self._mine(queue):
            return None
        return [Entry(e.waiter, e.ttl, None) if e.waiter == self._me else e for e in queue]

    def _leave(self, queue: list[Entry]) -> list[Entry] | None:
        return [e for e in queue if e.waiter != self._me] if self._mine(queue) else None

    async def _acquire(self, deadline: float | None) -> bool:
        async with self._register.watch(self.waker):
            self.waker.clear()
            queue, stamp = await self._change(self._join)
            while True:
                self.check_interrupted()
                if not self._mine(queue):
                    logger.warning(
                        "lock %r: this waiter's entry expired before it could renew it; "
                        "joining again at the back of the queue",
                        self.name,
                    )
                    queue, stamp = await self._change(self._join)
                    continue
                if queue[0].waiter == self._me:
                    return True
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return False
                head = queue[0]
                renewed = stamp if head.renewed is None else head.renewed
                head_left = max(0.0, renewed + head.ttl - stamp) + _MARGIN
                settle_at = min(self.renewed_at + self.ttl / 3, now + head_left)
                wake = min(settle_at, now + _QUIET)
                if deadline is not None:
                    wake = min(wake, deadline)
                woken = await self.waker.wait(wake)
                self.waker.clear()
                if not woken and time.monotonic() >= settle_at:
                    # Renew this entry; the write also moves the register's
                    # clock past an expired head, which the next read drops.
                    queue, stamp = await self._change(self._touch)
                else:
                    queue, stamp = await self._change(lambda _: None)

    async def _renew(self) -> bool:
        queue, _ = await self._change(self._touch)
        return bool(queue) and queue[0].waiter == self._me

    async def _release(self) -> None:
        await self._change(self._leave)
