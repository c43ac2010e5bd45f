"""Per-key write locks of the NATS backend (pure asyncio, no server)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.backends.nats._keylocks import KeyLocks


async def _hold_until(
    locks: KeyLocks, keys: list[str], entered: asyncio.Event, leave: asyncio.Event
) -> None:
    async with locks.hold(keys):
        entered.set()
        await leave.wait()


async def test_a_held_key_makes_the_next_holder_wait() -> None:
    locks = KeyLocks()
    first_in, first_out = asyncio.Event(), asyncio.Event()
    second_in, second_out = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_hold_until(locks, ["a"], first_in, first_out))
    await first_in.wait()
    second = asyncio.create_task(_hold_until(locks, ["a"], second_in, second_out))
    for _ in range(5):
        await asyncio.sleep(0)  # give the second holder every chance to get in
    assert not second_in.is_set()
    first_out.set()
    await asyncio.wait_for(second_in.wait(), 5)
    second_out.set()
    await asyncio.gather(first, second)
    assert len(locks) == 0


async def test_different_keys_do_not_wait_for_each_other() -> None:
    locks = KeyLocks()
    async with locks.hold(["a", "b"]), asyncio.timeout(5), locks.hold(["c"]):
        assert len(locks) == 3
    assert len(locks) == 0


async def test_overlapping_batches_in_opposite_orders_do_not_deadlock() -> None:
    locks = KeyLocks()
    order: list[str] = []

    async def batch(name: str, keys: list[str]) -> None:
        async with locks.hold(keys):
            order.append(name)
            await asyncio.sleep(0)

    async with asyncio.timeout(5):
        await asyncio.gather(
            batch("x", [f"k{i}" for i in range(100)]),
            batch("y", [f"k{i}" for i in reversed(range(100))]),
            batch("z", ["k50"]),
        )
    assert sorted(order) == ["x", "y", "z"]
    assert len(locks) == 0


async def test_cancelled_waiter_releases_what_it_took() -> None:
    locks = KeyLocks()
    held_in, held_out = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold_until(locks, ["b"], held_in, held_out))
    await held_in.wait()
    waiter_in = asyncio.Event()
    waiter = asyncio.create_task(_hold_until(locks, ["a", "b"], waiter_in, asyncio.Event()))
    for _ in range(3):  # one turn is enough to take "a" and wait for "b"
        await asyncio.sleep(0)
    assert len(locks) == 2
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert len(locks) == 1  # only the holder's "b" is left
    async with asyncio.timeout(5), locks.hold(["a"]):
        pass
    held_out.set()
    await holder
    assert not waiter_in.is_set()
    assert len(locks) == 0


async def test_an_error_in_the_block_releases_the_keys() -> None:
    locks = KeyLocks()
    inside: list[int] = []

    async def failing() -> None:
        async with locks.hold(["a", "a", "b"]):
            inside.append(len(locks))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    assert inside == [2]
    assert len(locks) == 0
