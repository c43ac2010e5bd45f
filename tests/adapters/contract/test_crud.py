"""Contract: insert, get, update, replace, delete, versions and timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta

import pytest

import adapters

from ..backends import StoreOpener


async def test_insert_generates_uuid4_key_and_version_one(store: adapters.Store) -> None:
    users = store.collection("users")
    rec = await users.insert({"name": "Alice", "tags": ["a", "b"], "n": 1.5, "ok": True})
    assert uuid.UUID(rec.key).version == 4
    assert rec.version == 1
    assert rec.data == {"name": "Alice", "tags": ["a", "b"], "n": 1.5, "ok": True}
    assert rec.created_at.tzinfo is not None
    assert rec.created_at.utcoffset() == timedelta(0)
    assert rec.created_at == rec.updated_at
    got = await users.get(rec.key)
    assert got == rec


async def test_insert_with_explicit_key_and_duplicate(store: adapters.Store) -> None:
    users = store.collection("users")
    await users.insert({"v": 1}, key="alice")
    with pytest.raises(adapters.AlreadyExists) as info:
        await users.insert({"v": 2}, key="alice")
    assert info.value.key == "alice"
    assert info.value.field is None
    got = await users.get("alice")
    assert got is not None
    assert got.data == {"v": 1}
    assert got.version == 1


async def test_get_missing_returns_none(store: adapters.Store) -> None:
    assert await store.collection("users").get("nobody") is None
    assert not await store.collection("users").exists("nobody")


async def test_update_merges_and_bumps_version(store: adapters.Store) -> None:
    users = store.collection("users")
    rec = await users.insert({"name": "Alice", "role": "admin", "deep": {"a": 1}}, key="a")
    upd = await users.update("a", {"role": "user", "deep": {"b": 2}})
    assert upd.version == 2
    assert upd.data == {"name": "Alice", "role": "user", "deep": {"b": 2}}
    assert upd.created_at == rec.created_at
    assert upd.updated_at >= rec.updated_at
    upd2 = await users.update("a", {"x": None}, if_version=2)
    assert upd2.version == 3
    assert upd2.data["x"] is None
    assert await users.get("a") == upd2


async def test_update_missing_raises_not_found(store: adapters.Store) -> None:
    with pytest.raises(adapters.NotFound) as info:
        await store.collection("users").update("ghost", {"a": 1})
    assert info.value.key == "ghost"
    with pytest.raises(adapters.NotFound):
        await store.collection("users").replace("ghost", {"a": 1})


async def test_cas_conflicts_leave_record_unchanged(store: adapters.Store) -> None:
    users = store.collection("users")
    rec = await users.insert({"n": 1}, key="k")
    await users.update("k", {"n": 2}, if_version=rec.version)
    with pytest.raises(adapters.Conflict) as info:
        await users.update("k", {"n": 3}, if_version=rec.version)
    assert info.value.expected == 1
    with pytest.raises(adapters.Conflict):
        await users.replace("k", {"n": 4}, if_version=1)
    with pytest.raises(adapters.Conflict):
        await users.delete("k", if_version=1)
    got = await users.get("k")
    assert got is not None
    assert (got.data, got.version) == ({"n": 2}, 2)
    assert await users.delete("k", if_version=2)
    assert await users.get("k") is None


async def test_replace_overwrites_whole_document(store: adapters.Store) -> None:
    users = store.collection("users")
    await users.insert({"a": 1, "b": 2}, key="k")
    rep = await users.replace("k", {"c": 3}, if_version=1)
    assert rep.data == {"c": 3}
    assert rep.version == 2


async def test_delete_reports_existence(store: adapters.Store) -> None:
    users = store.collection("users")
    await users.insert({"a": 1}, key="k")
    assert await users.exists("k")
    assert await users.delete("k") is True
    assert await users.delete("k") is False
    assert not await users.exists("k")
    # The key is free again after a delete.
    again = await users.insert({"a": 2}, key="k")
    assert again.version == 1


async def test_insert_many_returns_records_and_is_atomic(store: adapters.Store) -> None:
    items = store.collection("items")
    recs = await items.insert_many([{"i": i} for i in range(5)])
    assert [r.data["i"] for r in recs] == list(range(5))
    assert all(r.version == 1 for r in recs)
    assert len({r.key for r in recs}) == 5
    for rec in recs:
        parsed = uuid.UUID(rec.key)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, rec.key)
    assert await items.count() == 5
    assert await items.insert_many([]) == []
    await items.insert({"i": 99}, key="taken")
    with pytest.raises(adapters.AlreadyExists):
        await items.insert_many([{"_key": "fresh", "i": 1}, {"_key": "taken", "i": 2}])
    assert not await items.exists("fresh")
    with pytest.raises(adapters.AlreadyExists):
        await items.insert_many([{"_key": "dup"}, {"_key": "dup"}])
    assert not await items.exists("dup")
    assert await items.count() == 6


async def test_insert_many_honours_explicit_keys(store: adapters.Store) -> None:
    items = store.collection("items")
    recs = await items.insert_many([{"_key": "x", "v": 1}, {"v": 2}])
    assert recs[0].key == "x"
    assert recs[0].data == {"v": 1}
    got = await items.get("x")
    assert got is not None
    assert got.data == {"v": 1}


async def test_clear_drop_and_collections(store: adapters.Store) -> None:
    a = store.collection("alpha")
    b = store.collection("beta")
    await a.insert_many([{"i": 1}, {"i": 2}, {"i": 3}])
    await b.insert({"j": 1})
    assert await store.collections() == ["alpha", "beta"]
    assert await a.clear() == 3
    assert await a.count() == 0
    assert await a.clear() == 0
    assert await b.count() == 1
    assert await store.drop("beta") is True
    assert await store.drop("beta") is False
    assert await store.collections() == []


async def test_collections_are_isolated(store: adapters.Store) -> None:
    await store.collection("one").insert({"a": 1}, key="same")
    await store.collection("two").insert({"a": 2}, key="same")
    one = await store.collection("one").get("same")
    assert one is not None
    assert one.data == {"a": 1}
    assert await store.collection("two").count() == 1


async def test_datetimes_and_nested_values_round_trip(store: adapters.Store) -> None:
    from datetime import datetime

    items = store.collection("items")
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    rec = await items.insert({"when": when, "nested": {"list": [1, {"x": [None, 2.5]}]}})
    got = await items.get(rec.key)
    assert got is not None
    assert got.data == {"when": "2024-05-06T07:08:09Z", "nested": {"list": [1, {"x": [None, 2.5]}]}}


async def test_returned_data_is_not_shared(store: adapters.Store) -> None:
    items = store.collection("items")
    rec = await items.insert({"list": [1]}, key="k")
    rec.data["list"].append(2)
    got = await items.get("k")
    assert got is not None
    assert got.data == {"list": [1]}


async def test_argument_errors(store: adapters.Store) -> None:
    items = store.collection("items")
    with pytest.raises(ValueError, match="key"):
        await items.insert({"a": 1}, key="")
    with pytest.raises(TypeError):
        await items.insert(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await items.insert({"bad": object()})
    with pytest.raises(ValueError, match="if_version"):
        await items.update("k", {}, if_version=0)
    with pytest.raises(ValueError, match="limit"):
        await items.find(limit=-1)
    with pytest.raises(ValueError, match="limit"):
        await items.page(0)
    with pytest.raises(ValueError, match="collection name"):
        store.collection("")
    assert await items.count() == 0


async def test_closed_store_raises_backend_unavailable(open_store: StoreOpener) -> None:
    async with open_store() as store:
        items = store.collection("items")
    with pytest.raises(adapters.BackendUnavailable):
        await items.get("k")
    with pytest.raises(adapters.BackendUnavailable):
        store.collection("x")
    await store.close()  # idempotent
