"""``store.lock`` in one process, on every backend with locks (memory, SQLite, PostgreSQL, NATS).

Several stores stand for several processes; a store in another thread with
its own event loop stands for a stalled process.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import adapters

from ..backends import BACKENDS, BackendEntry
from .procs import eventually
from .targets import Place

NAME = "rebuild-index"


def _renewals() -> list[asyncio.Task[Any]]:
    """The lock renewal tasks alive in this event loop."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("adapters lock")]


async def _queued(place: Place, count: int) -> None:
    async def reached() -> bool:
        return await place.queue(NAME) == count

    await eventually(reached, within=30)


async def _hold_until_cancelled(lock: adapters.Lock, inside: asyncio.Event) -> None:
    async with lock:
        inside.set()
        await asyncio.Event().wait()


async def test_one_holder_among_stores_and_tasks(place: Place) -> None:
    stores = [await place.open() for _ in range(3)]
    inside: list[int] = []
    overlaps: list[list[int]] = []

    async def section(store: adapters.Store, who: int) -> None:
        for _ in range(3):
            async with store.lock(NAME, ttl=10):
                inside.append(who)
                if len(inside) > 1:
                    overlaps.append(list(inside))
                for _ in range(3):
                    await asyncio.sleep(0)  # let the other tasks run while inside
                inside.remove(who)

    await asyncio.gather(*(section(stores[i % 3], i) for i in range(6)))
    assert overlaps == []
    assert await place.queue(NAME) == 0
    assert _renewals() == []
    assert await stores[0].collections() == []  # locks are not collections


async def test_waiters_are_served_in_arrival_order(place: Place) -> None:
    holder, *others = [await place.open() for _ in range(4)]
    served: list[int] = []

    async def wait_turn(store: adapters.Store, who: int) -> None:
        async with store.lock(NAME, timeout=30):
            served.append(who)

    async with holder.lock(NAME):
        waiting = []
        for who, store in enumerate(others):
            waiting.append(asyncio.create_task(wait_turn(store, who)))
            await _queued(place, who + 2)
    await asyncio.gather(*waiting)
    assert served == [0, 1, 2]


async def test_timeout_raises_lock_timeout_and_leaves_the_queue(place: Place) -> None:
    first, second = await place.open(), await place.open()
    async with first.lock(NAME):
        with pytest.raises(adapters.LockTimeout) as info:
            async with second.lock(NAME, timeout=0.3):
                pytest.fail("acquired a held lock")
        assert isinstance(info.value, TimeoutError)
        assert (info.value.name, info.value.timeout) == (NAME, 0.3)
        assert await place.queue(NAME) == 1
        with pytest.raises(adapters.LockTimeout):
            async with second.lock(NAME, timeout=0):
                pytest.fail("acquired a held lock")
        assert await place.queue(NAME) == 1
    async with second.lock(NAME, timeout=0) as lock:
        assert lock.held
    assert not lock.held


async def test_live_holder_renews_past_many_ttls(place: Place) -> None:
    first, second = await place.open(), await place.open()
    async with first.lock(NAME, ttl=0.5) as lock:
        # The waiter gives up after four of the holder's ttls.
        with pytest.raises(adapters.LockTimeout):
            async with second.lock(NAME, timeout=2.0):
                pytest.fail("took the lock of a live holder")
        assert lock.held
    assert _renewals() == []


async def test_cancelled_waiter_leaves_no_entry(place: Place) -> None:
    first, second, third = [await place.open() for _ in range(3)]
    async with first.lock(NAME):
        waiting = asyncio.create_task(_hold_until_cancelled(second.lock(NAME), asyncio.Event()))
        await _queued(place, 2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await place.queue(NAME) == 1
    async with third.lock(NAME, timeout=0):
        pass
    assert _renewals() == []


async def test_cancelled_holder_releases_and_stops_renewing(place: Place) -> None:
    first, second = await place.open(), await place.open()
    inside = asyncio.Event()
    holding = asyncio.create_task(_hold_until_cancelled(first.lock(NAME, ttl=0.6), inside))
    await inside.wait()
    assert len(_renewals()) == 1
    holding.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holding
    assert _renewals() == []
    assert await place.queue(NAME) == 0
    async with second.lock(NAME, timeout=0):
        pass


async def test_exception_in_the_block_propagates_and_releases(place: Place) -> None:
    first, second = await place.open(), await place.open()
    with pytest.raises(KeyError):
        async with first.lock(NAME):
            raise KeyError("boom")
    async with second.lock(NAME, timeout=0):
        pass


async def test_closing_the_store_ends_waits_and_loses_held_locks(place: Place) -> None:
    holder = await adapters.connect(place.url)
    waiter = await adapters.connect(place.url)
    other = await place.open()
    inside = asyncio.Event()
    holding = asyncio.create_task(_hold_until_cancelled(holder.lock(NAME), inside))
    await inside.wait()
    waiting = asyncio.create_task(_hold_until_cancelled(waiter.lock(NAME), asyncio.Event()))
    await _queued(place, 2)
    await waiter.close()
    with pytest.raises(adapters.BackendUnavailable, match="closed"):
        await waiting
    assert await place.queue(NAME) == 1
    await holder.close()
    with pytest.raises(adapters.LockLost, match="closed") as info:
        await holding
    assert info.value.name == NAME
    assert await place.queue(NAME) == 0
    async with other.lock(NAME, timeout=0):
        pass
    with pytest.raises(adapters.BackendUnavailable):
        holder.lock(NAME)


async def test_stalled_holder_is_taken_over_and_its_block_raises_lock_lost(place: Place) -> None:
    acquired, taken_over = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    async def stalled_holder() -> None:
        async with adapters.connect(place.url) as store:
            lock = store.lock(NAME, ttl=0.5)
            try:
                async with lock:
                    acquired.set()
                    # Block this thread's event loop, as a stalled process would:
                    # no renewal runs until another store holds the lock.
                    taken_over.wait(30)
                    seen["held"] = lock.held
                    await asyncio.Event().wait()  # cancelled when the loss is found
            except adapters.LockLost as exc:
                seen["lost"] = exc
            seen["renewals"] = _renewals()

    thread = threading.Thread(target=asyncio.run, args=(stalled_holder(),))
    thread.start()
    try:
        await asyncio.to_thread(acquired.wait, 30)
        store = await place.open()
        async with store.lock(NAME, timeout=30):
            taken_over.set()
            await asyncio.to_thread(thread.join, 30)
            assert not thread.is_alive()
    finally:
        taken_over.set()
        await asyncio.to_thread(thread.join, 30)
    assert seen["held"] is False
    assert isinstance(seen["lost"], adapters.LockLost)
    assert "ttl" in seen["lost"].reason
    assert isinstance(seen["lost"].__cause__, asyncio.CancelledError)
    assert seen["renewals"] == []


async def test_a_lock_is_entered_once(place: Place) -> None:
    store = await place.open()
    lock = store.lock(NAME)
    async with lock:
        with pytest.raises(RuntimeError, match="once"):
            await lock.__aenter__()
    with pytest.raises(RuntimeError, match="once"):
        async with lock:
            pass
    assert repr(lock) == f"<Lock {NAME!r} done ttl=60>"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"name": ""}, ValueError),
        ({"name": "x" * 256}, ValueError),
        ({"name": 7}, TypeError),
        ({"ttl": 0}, ValueError),
        ({"ttl": 0.09}, ValueError),
        ({"ttl": -1.0}, ValueError),
        ({"ttl": float("inf")}, ValueError),
        ({"ttl": float("nan")}, ValueError),
        ({"ttl": True}, TypeError),
        ({"ttl": "10"}, TypeError),
        ({"timeout": -0.1}, ValueError),
        ({"timeout": float("inf")}, ValueError),
        ({"timeout": "1"}, TypeError),
    ],
)
async def test_arguments_are_checked(args: dict[str, Any], error: type[Exception]) -> None:
    async with adapters.connect("memory://") as store:
        with pytest.raises(error, match="lock"):
            store.lock(**{"name": NAME, **args})


_NO_LOCKS = [b for b in BACKENDS if b.id in ("noex", "beaver")]


@pytest.mark.parametrize("entry", [pytest.param(b, id=b.id, marks=b.marks) for b in _NO_LOCKS])
async def test_backends_without_exclusion_say_so(entry: BackendEntry) -> None:
    async with entry.factory() as opener, opener() as store:
        with pytest.raises(NotImplementedError, match=r"no locks: .+"):
            store.lock(NAME)
