"""Contract: ``store.transaction()`` commits or rolls back as a whole, where supported."""

from __future__ import annotations

from typing import Any

import pytest

import adapters


async def _move(store: adapters.Store, coll: adapters.Collection[Any], fail: bool) -> None:
    async with store.transaction():
        await coll.update("a", {"n": 0})
        await coll.insert({"n": 1}, key="b")
        if fail:
            await coll.update("missing", {"n": 1})


async def test_transaction_is_all_or_nothing(store: adapters.Store) -> None:
    coll = store.collection("tx")
    await coll.insert({"n": 1}, key="a")
    try:
        await _move(store, coll, fail=False)
    except NotImplementedError:
        pytest.skip(f"{type(store).__name__} has no transactions")
    got = await coll.get("a")
    assert got is not None
    assert got.data == {"n": 0}
    assert await coll.exists("b")
    await coll.delete("b")
    await coll.update("a", {"n": 1})
    with pytest.raises(adapters.NotFound):
        await _move(store, coll, fail=True)
    got = await coll.get("a")
    assert got is not None
    assert (got.data, got.version) == ({"n": 1}, 3)
    assert not await coll.exists("b")
