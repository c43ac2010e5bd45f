"""Contract: typed collections (``model=`` a msgspec Struct)."""

from __future__ import annotations

import msgspec
import pytest

import adapters


class Address(msgspec.Struct):
    city: str


class Person(msgspec.Struct):
    name: str
    age: int
    address: Address | None = None
    tags: list[str] = msgspec.field(default_factory=list)


async def test_typed_insert_get_update(store: adapters.Store) -> None:
    people = store.collection("people", model=Person)
    rec = await people.insert(Person("Alice", 30, Address("Oslo")), key="alice")
    assert rec.data == Person("Alice", 30, Address("Oslo"))
    got = await people.get("alice")
    assert got is not None
    assert isinstance(got.data, Person)
    assert got.data.address == Address("Oslo")
    upd = await people.update("alice", {"age": 31}, if_version=1)
    assert upd.data == Person("Alice", 31, Address("Oslo"))
    assert upd.version == 2
    found = await people.find({"address.city": "Oslo"})
    assert [r.data.name for r in found] == ["Alice"]
    from_dict = await people.insert({"name": "Bob", "age": 5})
    assert from_dict.data == Person("Bob", 5)


async def test_typed_rejects_bad_input_naming_the_field(store: adapters.Store) -> None:
    people = store.collection("people", model=Person)
    with pytest.raises(adapters.ValidationError) as info:
        await people.insert({"name": "Bob", "age": "old"}, key="bob")
    assert info.value.field == "age"
    assert not await people.exists("bob")
    await people.insert(Person("Carol", 40), key="carol")
    with pytest.raises(adapters.ValidationError) as info:
        await people.update("carol", {"address": {"city": 7}})
    assert info.value.field == "address.city"
    got = await people.get("carol")
    assert got is not None
    assert got.version == 1
    with pytest.raises(adapters.Conflict):
        await people.update("carol", {"age": 41}, if_version=5)
    with pytest.raises(adapters.NotFound):
        await people.update("ghost", {"age": 41})


async def test_stored_document_that_no_longer_fits_raises(store: adapters.Store) -> None:
    raw = store.collection("people")
    await raw.insert({"name": "Dan", "age": "not a number"}, key="dan")
    await raw.insert({"name": "Eve", "age": 3}, key="eve")
    people = store.collection("people", model=Person)
    with pytest.raises(adapters.ValidationError) as info:
        await people.get("dan")
    assert (info.value.key, info.value.field) == ("dan", "age")
    assert "dan" in str(info.value)
    assert "age" in str(info.value)
    with pytest.raises(adapters.ValidationError):
        await people.find()
    eve = await people.get("eve")
    assert eve is not None
    assert eve.data == Person("Eve", 3)


async def test_typed_watch_decodes(store: adapters.Store) -> None:
    people = store.collection("people", model=Person)
    async with people.watch() as changes:
        await people.insert(Person("Zed", 9), key="z")
        change = await anext(changes)
    assert change.record is not None
    assert change.record.data == Person("Zed", 9)
