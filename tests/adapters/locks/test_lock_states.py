"""``Lock`` itself, over a scripted lease: renewal, loss, cancellation and release.

The lease answers each renewal with what the test queued, so every outcome
(kept, taken over, backend failing) is reached on purpose, without a backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

import adapters
from adapters._lease import Lease, LockService
from adapters._lock import Lock

TTL = 0.3


class _ScriptedLease(Lease):
    """Acquires at once; each renewal takes its outcome from ``answers``."""

    def __init__(self, service: LockService, name: str, ttl: float) -> None:
        super().__init__(service, name, ttl)
        self.answers: asyncio.Queue[bool | Exception] = asyncio.Queue()
        self.asked = asyncio.Event()
        self.failing = False
        self.released = 0
        self.release_gate = asyncio.Event()
        self.release_gate.set()

    async def _acquire(self, deadline: float | None) -> bool:
        self.renewed_at = time.monotonic()
        return True

    async def _renew(self) -> bool:
        sent = time.monotonic()
        self.asked.set()
        if self.failing:
            raise adapters.BackendUnavailable("scripted://", "down")
        answer = await self.answers.get()
        if isinstance(answer, Exception):
            raise answer
        if answer:
            self.renewed_at = sent
        return answer

    async def _release(self) -> None:
        await self.release_gate.wait()
        self.released += 1


class _ScriptedLocks(LockService):
    def __init__(self) -> None:
        super().__init__("scripted://", "scripted")
        self.leases: list[_ScriptedLease] = []

    def lease(self, name: str, ttl: float) -> Lease:
        lease = _ScriptedLease(self, name, ttl)
        self.leases.append(lease)
        return lease


def _held(lock: Lock) -> bool:
    return lock.held


def _renewals() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("adapters lock")]


async def _block_until_cancelled(lock: Lock, inside: asyncio.Event) -> None:
    async with lock:
        inside.set()
        await asyncio.Event().wait()


async def _entered(locks: _ScriptedLocks, lock: Lock) -> tuple[asyncio.Task[None], _ScriptedLease]:
    inside = asyncio.Event()
    task = asyncio.create_task(_block_until_cancelled(lock, inside))
    await inside.wait()
    return task, locks.leases[-1]


async def test_a_kept_lease_is_renewed_and_released_once() -> None:
    locks = _ScriptedLocks()
    async with Lock(locks, "job", None, TTL) as lock:
        lease = locks.leases[0]
        for _ in range(3):
            await lease.asked.wait()
            lease.asked.clear()
            await lease.answers.put(True)
        assert lock.held
    assert lease.released == 1
    assert not _held(lock)  # a property: mypy would take it for unchanged
    assert _renewals() == []


async def test_a_taken_over_lease_cancels_the_block_with_lock_lost() -> None:
    locks = _ScriptedLocks()
    task, lease = await _entered(locks, Lock(locks, "job", None, TTL))
    await lease.asked.wait()
    await lease.answers.put(False)
    with pytest.raises(adapters.LockLost, match="taken over") as info:
        await task
    assert isinstance(info.value.__cause__, asyncio.CancelledError)
    assert lease.released == 1
    assert _renewals() == []


async def test_a_block_that_swallows_the_cancellation_still_gets_lock_lost() -> None:
    locks = _ScriptedLocks()
    lock = Lock(locks, "job", None, TTL)

    async def stubborn() -> int:
        async with lock:
            lease = locks.leases[0]
            await lease.asked.wait()
            await lease.answers.put(False)
            # The block ignores the cancellation of its lost lock.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        return 1

    with pytest.raises(adapters.LockLost):
        await stubborn()
    current = asyncio.current_task()
    assert current is not None
    assert current.cancelling() == 0  # the lock's own cancellation was taken back


async def test_renewals_failing_until_the_ttl_lose_the_lock() -> None:
    locks = _ScriptedLocks()
    lock = Lock(locks, "job", None, TTL)
    task, lease = await _entered(locks, lock)
    lease.failing = True
    with pytest.raises(adapters.LockLost, match="not renewed within its ttl"):
        await task
    assert not lock.held
    assert lease.released == 1


async def test_a_failed_renewal_is_retried_and_the_lock_kept() -> None:
    locks = _ScriptedLocks()
    async with Lock(locks, "job", None, TTL) as lock:
        lease = locks.leases[0]
        await lease.asked.wait()
        lease.asked.clear()
        await lease.answers.put(adapters.BackendUnavailable("scripted://", "blip"))
        await lease.asked.wait()  # retried
        await lease.answers.put(True)
        lease.asked.clear()
        await lease.asked.wait()  # the next regular renewal
        await lease.answers.put(True)
        assert lock.held


async def test_another_cancellation_wins_over_a_loss() -> None:
    locks = _ScriptedLocks()
    task, lease = await _entered(locks, Lock(locks, "job", None, TTL))
    await lease.asked.wait()
    task.cancel()  # e.g. an enclosing asyncio.timeout ...
    await lease.answers.put(False)  # ... while the lock is found lost
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lease.released == 1


async def test_cancelled_during_release_the_release_still_completes() -> None:
    locks = _ScriptedLocks()
    lock = Lock(locks, "job", None, TTL)
    exiting, released = asyncio.Event(), asyncio.Event()

    async def leave() -> None:
        async with lock:
            locks.leases[0].release_gate.clear()
            exiting.set()
        released.set()

    task = asyncio.create_task(leave())
    await exiting.wait()  # the task now waits in the release of its exit
    task.cancel()
    await asyncio.sleep(0)  # one loop turn: the task sees the cancellation
    assert not task.done()  # the exit waits for the release ...
    locks.leases[0].release_gate.set()
    with pytest.raises(asyncio.CancelledError):  # ... then the cancellation goes on
        await task
    assert locks.leases[0].released == 1
    assert not released.is_set()
