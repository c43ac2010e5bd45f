"""Locks of ``memory://`` stores: a compare-and-set register per lock name in the data set.

Every store of the process on the same data set (``memory://NAME``) shares the
locks, across threads and event loops; the register stamps writes with
``time.monotonic()``. The queue logic is ``adapters._lockqueue``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from .._lease import Broadcast, Lease, LockService, Waker
from .._lockqueue import QueueLease, Register, Snapshot

__all__ = ["LockCells", "MemoryLocks"]


@dataclass
class LockCells:
    """The lock registers of one memory data set."""

    values: dict[str, Snapshot] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)
    changes: Broadcast = field(default_factory=Broadcast)


class _MemoryRegister(Register):
    def __init__(self, cells: LockCells, name: str) -> None:
        self._cells = cells
        self._name = name

    async def read(self) -> Snapshot:
        with self._cells.guard:
            return self._cells.values.get(self._name, Snapshot(None, 0, 0.0))

    async def write(self, value: bytes | None, expected: int) -> bool:
        cells = self._cells
        with cells.guard:
            current = cells.values.get(self._name)
            revision = 0 if current is None else current.revision
            if revision != expected:
                return False
            # An emptied queue stays as a tombstone: revisions never repeat.
            cells.values[self._name] = Snapshot(value, revision + 1, time.monotonic())
        cells.changes.notify(self._name)
        return True

    def watch(self, waker: Waker) -> AbstractAsyncContextManager[None]:
        return self._watch(waker)

    @asynccontextmanager
    async def _watch(self, waker: Waker) -> AsyncIterator[None]:
        with self._cells.changes.listening(self._name, waker):
            yield


class MemoryLocks(LockService):
    """The locks of a memory store."""

    def __init__(self, url: str, cells: LockCells) -> None:
        super().__init__(url, "memory")
        self._cells = cells

    def lease(self, name: str, ttl: float) -> Lease:
        return QueueLease(self, name, ttl, _MemoryRegister(self._cells, name))
