"""Contract: ``watch(since=cursor)`` replays every later change in order, then goes on live.

noex-server keeps no change history: there, every ``since`` is refused at once
with ``NotImplementedError`` naming the backend (asserted by each test).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import adapters

from ..backends import BackendEntry, StoreOpener

Coll = adapters.Collection[dict[str, Any]]


async def _next(stream: adapters.ChangeStream[Any]) -> adapters.Change[Any]:
    # A bound, so a missing change fails the test instead of hanging it.
    return await asyncio.wait_for(anext(stream), 10)


async def _take(stream: adapters.ChangeStream[Any], count: int) -> list[adapters.Change[Any]]:
    return [await _next(stream) for _ in range(count)]


def _resumable(coll: Coll, backend: BackendEntry) -> bool:
    """Whether the backend resumes feeds; if not, check that it says so at once."""
    if backend.resumable:
        return True
    with pytest.raises(NotImplementedError, match=backend.id):
        coll.watch(since="anything")
    return False


def _shape(change: adapters.Change[Any]) -> tuple[Any, ...]:
    record = change.record
    return (
        change.kind,
        change.key,
        None if record is None else record.data,
        None if record is None else record.version,
    )


def _ordered(changes: list[adapters.Change[Any]]) -> None:
    cursors = [c.cursor for c in changes]
    assert all(isinstance(c, str) and c for c in cursors)
    assert cursors == sorted(cursors)
    assert len(set(cursors)) == len(cursors)


async def test_since_replays_the_rest_in_order_then_continues_live(
    store: adapters.Store, backend: BackendEntry
) -> None:
    coll = store.collection("feed")
    if not _resumable(coll, backend):
        return
    async with coll.watch() as live:
        await coll.insert({"n": 1}, key="a")
        await coll.update("a", {"n": 2})
        await coll.insert({"n": 1}, key="b")
        await coll.delete("a")
        first = await _take(live, 4)
    _ordered(first)
    await coll.insert({"n": 1}, key="c")  # written while nobody watches
    await coll.update("b", {"n": 2})
    async with coll.watch(since=first[1].cursor) as resumed:
        replayed = await _take(resumed, 4)
        await coll.insert({"n": 1}, key="d")
        (after,) = await _take(resumed, 1)
    assert [_shape(c) for c in replayed] == [
        ("inserted", "b", {"n": 1}, 1),
        ("deleted", "a", None, None),
        ("inserted", "c", {"n": 1}, 1),
        ("updated", "b", {"n": 2}, 2),
    ]
    assert [c.cursor for c in replayed[:2]] == [c.cursor for c in first[2:]]
    assert _shape(after) == ("inserted", "d", {"n": 1}, 1)
    _ordered([*first, *replayed[2:], after])
    if backend.watch_old:
        assert replayed[1].old is not None
        assert replayed[1].old.data == {"n": 2}


async def test_a_replay_shows_every_change_as_it_was(
    store: adapters.Store, backend: BackendEntry
) -> None:
    coll = store.collection("history")
    if not _resumable(coll, backend):
        return
    async with coll.watch() as live:
        await coll.insert({"mark": True}, key="start")
        (start,) = await _take(live, 1)
    await coll.insert({"n": 1}, key="k")
    await coll.update("k", {"n": 2})
    await coll.replace("k", {"n": 3})
    await coll.delete("k")
    await coll.insert({"n": 9}, key="k")
    async with coll.watch(since=start.cursor) as replay:
        changes = await _take(replay, 5)
    assert [_shape(c) for c in changes] == [
        ("inserted", "k", {"n": 1}, 1),
        ("updated", "k", {"n": 2}, 2),
        ("updated", "k", {"n": 3}, 3),
        ("deleted", "k", None, None),
        ("inserted", "k", {"n": 9}, 1),
    ]
    _ordered(changes)


async def test_a_batch_resumes_in_its_middle(store: adapters.Store, backend: BackendEntry) -> None:
    coll = store.collection("batch")
    if not _resumable(coll, backend):
        return
    async with coll.watch() as live:
        await coll.insert_many([{"_key": f"r{i:03d}", "i": i} for i in range(50)])
        first = await _take(live, 20)
    async with coll.watch(since=first[-1].cursor) as resumed:
        rest = await _take(resumed, 30)
        await coll.clear()
        cleared = await _take(resumed, 50)
    inserted = [*first, *rest]
    assert sorted(c.key for c in inserted) == [f"r{i:03d}" for i in range(50)]
    assert all(c.kind == "inserted" and c.record is not None for c in inserted)
    assert all(c.record.data == {"i": int(c.key[1:])} for c in inserted if c.record)
    assert sorted(c.key for c in cleared) == [f"r{i:03d}" for i in range(50)]
    assert {c.kind for c in cleared} == {"deleted"}
    _ordered([*inserted, *cleared])


async def test_a_second_store_resumes_from_a_cursor(
    open_store: StoreOpener, backend: BackendEntry
) -> None:
    async with open_store() as first:
        coll = first.collection("shared")
        if not _resumable(coll, backend):
            return
        async with coll.watch() as live:
            await coll.insert({"n": 1}, key="x")
            (seen,) = await _take(live, 1)
        await coll.insert({"n": 2}, key="y")
    async with (
        open_store() as second,
        second.collection("shared").watch(since=seen.cursor) as resumed,
    ):
        (change,) = await _take(resumed, 1)
    assert _shape(change) == ("inserted", "y", {"n": 2}, 1)
    assert change.cursor > seen.cursor


async def test_since_applies_the_filter(store: adapters.Store, backend: BackendEntry) -> None:
    coll = store.collection("filtered")
    if not _resumable(coll, backend):
        return
    async with coll.watch() as live:
        await coll.insert({"role": "user"}, key="start")
        (start,) = await _take(live, 1)
    await coll.insert({"role": "user"}, key="u")
    await coll.insert({"role": "admin"}, key="a")
    async with coll.watch({"role": "admin"}, since=start.cursor) as admins:
        (change,) = await _take(admins, 1)
    assert (change.kind, change.key) == ("inserted", "a")


async def test_since_the_newest_cursor_waits_for_new_changes(
    store: adapters.Store, backend: BackendEntry
) -> None:
    coll = store.collection("tail")
    if not _resumable(coll, backend):
        return
    async with coll.watch() as live:
        await coll.insert({}, key="one")
        (last,) = await _take(live, 1)
    async with coll.watch(since=last.cursor) as resumed:
        pending = asyncio.ensure_future(anext(resumed))
        await coll.insert({}, key="two")
        change = await asyncio.wait_for(pending, 10)
    assert change.key == "two"


async def test_a_malformed_cursor_is_refused_at_once(
    store: adapters.Store, backend: BackendEntry
) -> None:
    coll = store.collection("c")
    if not _resumable(coll, backend):
        return
    with pytest.raises(ValueError, match="not a change cursor"):
        coll.watch(since="nonsense")
    with pytest.raises(TypeError, match="cursor string"):
        coll.watch(since=42)  # type: ignore[arg-type]


async def test_an_expired_cursor_raises_cursor_expired(
    open_store: StoreOpener, backend: BackendEntry
) -> None:
    async with open_store(**backend.retention) as store:
        coll = store.collection("pruned")
        if not _resumable(coll, backend):
            return
        async with coll.watch() as live:
            await coll.insert({"n": 0}, key="k")
            (start,) = await _take(live, 1)
        for n in range(1, 13):
            await coll.update("k", {"n": n})
        await coll.insert_many([{"i": i} for i in range(1200)])
        # Pruning runs in the background on some backends: poll, with a deadline.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while True:
            stream = coll.watch(since=start.cursor)
            try:
                await stream.start()
            except adapters.CursorExpired as exc:
                error = exc
                break
            finally:
                await stream.aclose()
            assert loop.time() < deadline, "the change log was never pruned"
            await asyncio.sleep(0.05)  # polling interval while pruning runs
    assert isinstance(error, adapters.AdapterError)
    assert (error.collection, error.cursor) == ("pruned", start.cursor)
