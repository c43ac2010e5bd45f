"""Typing contract: mypy checks these ``assert_type`` lines (the suite runs mypy --strict)."""

from __future__ import annotations

from typing import Any, assert_type

import msgspec

import adapters


class Person(msgspec.Struct):
    name: str


async def test_collection_and_record_types_follow_the_model() -> None:
    async with adapters.connect("memory://") as store:
        assert_type(store, adapters.Store)
        people = store.collection("people", model=Person)
        assert_type(people, adapters.Collection[Person])
        rec = await people.insert(Person("Ann"))
        assert_type(rec, adapters.Record[Person])
        assert_type(rec.data, Person)
        got = await people.get(rec.key)
        assert_type(got, adapters.Record[Person] | None)
        raw = store.collection("raw")
        assert_type(raw, adapters.Collection[dict[str, Any]])
        page = await raw.page(10)
        assert_type(page, adapters.Page[dict[str, Any]])
        stream = people.watch()
        assert_type(stream, adapters.ChangeStream[Person])
        await stream.aclose()
        assert got is not None
        assert got.data.name == "Ann"
