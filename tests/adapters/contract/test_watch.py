"""Contract: ``watch`` delivers changes in order, from now on, filtered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import adapters

from ..backends import BackendEntry, StoreOpener


async def _next(stream: adapters.ChangeStream[Any]) -> adapters.Change[Any]:
    # A bound, so a missing change fails the test instead of hanging it.
    return await asyncio.wait_for(anext(stream), 10)


async def test_watch_insert_update_delete_in_order(
    store: adapters.Store, backend: BackendEntry
) -> None:
    coll = store.collection("watched")
    await coll.insert({"before": True}, key="old")
    async with coll.watch() as changes:
        await coll.insert({"n": 1}, key="k")
        await coll.update("k", {"n": 2})
        await coll.replace("k", {"n": 3})
        await coll.delete("k")
        inserted = await _next(changes)
        updated = await _next(changes)
        replaced = await _next(changes)
        deleted = await _next(changes)
    assert (inserted.kind, inserted.key) == ("inserted", "k")
    assert inserted.record is not None
    assert (inserted.record.data, inserted.record.version) == ({"n": 1}, 1)
    assert updated.kind == "updated"
    assert updated.record is not None
    assert (updated.record.data, updated.record.version) == ({"n": 2}, 2)
    assert replaced.record is not None
    assert (replaced.kind, replaced.record.data) == ("updated", {"n": 3})
    assert (deleted.kind, deleted.key, deleted.record) == ("deleted", "k", None)
    if backend.watch_old:
        assert updated.old is not None
        assert updated.old.data == {"n": 1}
        assert deleted.old is not None
        assert deleted.old.data == {"n": 3}


async def test_watch_filters_and_ignores_other_collections(store: adapters.Store) -> None:
    coll = store.collection("watched")
    other = store.collection("other")
    async with coll.watch({"role": "admin"}) as changes:
        await other.insert({"role": "admin"}, key="elsewhere")
        await coll.insert({"role": "user"}, key="u")
        await coll.insert({"role": "admin"}, key="a")
        change = await _next(changes)
    assert (change.kind, change.key) == ("inserted", "a")


async def test_watch_sees_writes_of_a_second_store(open_store: StoreOpener) -> None:
    async with (
        open_store() as first,
        open_store() as second,
        first.collection("shared").watch() as changes,
    ):
        await second.collection("shared").insert({"from": "second"}, key="x")
        change = await _next(changes)
    assert change.key == "x"
    assert change.record is not None
    assert change.record.data == {"from": "second"}


async def test_watch_ends_when_store_closes(open_store: StoreOpener) -> None:
    async with open_store() as store:
        changes = store.collection("watched").watch()
        await changes.start()
    with pytest.raises(StopAsyncIteration):
        await _next(changes)


async def test_bare_async_for_starts_at_first_iteration(store: adapters.Store) -> None:
    coll = store.collection("watched")
    await coll.insert({"n": 0}, key="before")
    got: list[str] = []
    stream = coll.watch()
    async for change in _with_writes(stream, coll):
        got.append(change.key)
        if len(got) == 2:
            break
    await stream.aclose()
    assert got == ["w1", "w2"]


async def _with_writes(
    stream: adapters.ChangeStream[Any], coll: adapters.Collection[dict[str, Any]]
) -> Any:
    await stream.start()
    await coll.insert({}, key="w1")
    await coll.insert({}, key="w2")
    async for change in stream:
        yield change
