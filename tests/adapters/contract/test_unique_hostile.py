"""Contract: unique fields, and hostile keys, field names and values."""

from __future__ import annotations

from typing import Any

import pytest

import adapters

HOSTILE_KEYS = [
    "'; DROP TABLE documents; --",
    'quote"double',
    "back\\slash",
    "percent %s %(x)s {0}",
    "slash/and.dot",
    "space and\ttab\nnewline",
    "émoji 🚀 ключ 鍵",
    "$dollar",
    "*",
    ">",
    "a" * 1024,
]

HOSTILE_FIELDS = [
    "'; DROP TABLE documents; --",
    'quo"te',
    "back\\slash",
    "percent %s",
    "{braces}",
    "émoji 🚀",
    "spa ce",
    "-dash",
]

HOSTILE_VALUES: list[Any] = [
    "'; DROP TABLE documents; --",
    '"}]',
    "\\u0000-not-a-nul",
    "%s %% {}",
    "émoji 🚀 \u2028 \ufeff",
    10**15,
    -1.5e-300,
    2.5,
    "",
    [],
    {},
]


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=range(len(HOSTILE_KEYS)))
async def test_hostile_keys(store: adapters.Store, key: str) -> None:
    coll = store.collection("hostile 'name' \"x\"")
    rec = await coll.insert({"k": key}, key=key)
    assert rec.key == key
    got = await coll.get(key)
    assert got is not None
    assert got.data == {"k": key}
    assert (await coll.update(key, {"v": 1})).version == 2
    assert [r.key for r in await coll.find({"k": key})] == [key]
    assert (await coll.page(10)).records[0].key == key
    assert await coll.delete(key)
    assert await coll.count() == 0
    assert await store.collections() == []


async def test_hostile_field_names_and_values(store: adapters.Store) -> None:
    coll = store.collection("hostile")
    doc = {field: value for field, value in zip(HOSTILE_FIELDS, HOSTILE_VALUES, strict=False)}
    doc["nested"] = {f: f for f in HOSTILE_FIELDS}
    rec = await coll.insert(doc, key="k")
    await coll.insert({"other": 1}, key="other")
    assert rec.data == doc
    for field, value in doc.items():
        found = await coll.find({field: value})
        assert [r.key for r in found] == ["k"], field
        assert await coll.count({field: {"$exists": True}}) == 1
        assert [r.key for r in await coll.find({field: {"$in": [value]}})] == ["k"]
    for field in HOSTILE_FIELDS:
        assert await coll.count({f"nested.{field}": field}) == 1
        assert await coll.count({f"nested.{field}": {"$startsWith": field[:2]}}) == 1
    ordered = await coll.find(order_by=f"-{HOSTILE_FIELDS[0]}")
    assert [r.key for r in ordered] == ["k", "other"]
    for value in HOSTILE_VALUES:
        if isinstance(value, str):
            assert await coll.count({HOSTILE_FIELDS[0]: {"$contains": value}}) >= 0


async def test_unique_fields(store: adapters.Store) -> None:
    users = store.collection("users", unique=["email", "profile.handle"])
    await users.insert({"email": "a@x", "profile": {"handle": "al"}}, key="a")
    await users.insert({"email": "b@x"}, key="b")
    await users.insert({"email": None}, key="n1")
    await users.insert({"email": None}, key="n2")
    with pytest.raises(adapters.AlreadyExists) as info:
        await users.insert({"email": "a@x"}, key="c")
    assert (info.value.field, info.value.value) == ("email", "a@x")
    assert "email" in str(info.value)
    assert "a@x" in str(info.value)
    with pytest.raises(adapters.AlreadyExists) as info:
        await users.insert({"email": "c@x", "profile": {"handle": "al"}}, key="c")
    assert info.value.field == "profile.handle"
    assert not await users.exists("c")
    with pytest.raises(adapters.AlreadyExists):
        await users.update("b", {"email": "a@x"})
    with pytest.raises(adapters.AlreadyExists):
        await users.replace("b", {"email": "a@x"})
    got = await users.get("b")
    assert got is not None
    assert (got.data, got.version) == ({"email": "b@x"}, 1)
    with pytest.raises(adapters.AlreadyExists):
        await users.insert_many([{"email": "z@x"}, {"email": "z@x"}])
    assert await users.count({"email": "z@x"}) == 0
    # Updating a record keeping its own unique value is not a clash.
    await users.update("a", {"extra": 1})
    await users.delete("a")
    await users.insert({"email": "a@x"}, key="a2")


async def test_insert_many_round_trips_hostile_keys_and_values(store: adapters.Store) -> None:
    coll = store.collection("bulk\t'hostile'\n")
    docs: list[dict[str, Any]] = [
        {"_key": key, "v": value, "k": key}
        for key, value in zip(HOSTILE_KEYS, [*HOSTILE_VALUES, "\\\\N", "\\."], strict=False)
    ]
    docs.append({"_key": "\\N", "v": "\t\n\r\\t\\n", "nested": {"\\": ["\\N", "\x01"]}})
    records = await coll.insert_many(docs)
    for doc, rec in zip(docs, records, strict=True):
        expected = {k: v for k, v in doc.items() if k != "_key"}
        assert rec.key == doc["_key"]
        assert rec.data == expected
        got = await coll.get(doc["_key"])
        assert got is not None
        assert got.data == expected
    assert await coll.count() == len(docs)
