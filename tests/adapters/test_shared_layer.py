"""The shared Collection layer's batch paths: keys, record building, insert_many encoding."""

from __future__ import annotations

import dataclasses
import pickle
import uuid
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import msgspec
import pytest

import adapters
from adapters._codec import Codec
from adapters._keys import uuid4_strings
from adapters._records import Record, make_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("count", [1, 2, 3, 17, 1000])
def test_uuid4_strings_are_distinct_canonical_version_4_uuids(count: int) -> None:
    keys = uuid4_strings(count)
    assert len(keys) == count
    assert len(set(keys)) == count
    for key in keys:
        parsed = uuid.UUID(key)
        assert str(parsed) == key
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_uuid4_strings_of_nothing_is_empty() -> None:
    assert uuid4_strings(0) == []


def test_make_record_is_indistinguishable_from_the_constructor() -> None:
    data = {"a": [1, 2]}
    built = make_record("k", data, 3, NOW, NOW)
    plain = Record("k", data, 3, NOW, NOW)
    assert type(built) is Record
    assert built == plain
    assert hash(make_record("k", 1, 3, NOW, NOW)) == hash(Record("k", 1, 3, NOW, NOW))
    assert repr(built) == repr(plain)
    assert (built.key, built.data, built.version, built.created_at, built.updated_at) == (
        "k",
        data,
        3,
        NOW,
        NOW,
    )
    assert pickle.loads(pickle.dumps(built)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.version = 4  # type: ignore[misc]


def test_encode_batch_matches_encode_and_gives_up_on_bad_values() -> None:
    codec: Codec[Any] = Codec("c", None)
    values: list[dict[str, Any]] = [{"at": NOW, "s": {1, 2}}, {"n": None, "l": (1, 2)}]
    docs = codec.encode_batch(values)
    assert docs == [codec.encode(v) for v in values]
    assert docs is not None
    assert docs[1] is not values[1]
    assert codec.encode_batch([{"ok": 1}, {"bad": object()}]) is None


async def test_insert_many_reports_the_first_bad_item_in_order_and_writes_nothing() -> None:
    async with adapters.connect("memory://") as store:
        coll = store.collection("c")
        bad_doc: list[Any] = [{"a": 1}, {"b": object()}, {"_key": ""}]
        with pytest.raises(TypeError, match=r"^document for collection 'c': "):
            await coll.insert_many(bad_doc)
        bad_key: list[Any] = [{"a": 1}, {"_key": 5}, {"b": object()}]
        with pytest.raises(TypeError, match=r"^record keys are strings, got int$"):
            await coll.insert_many(bad_key)
        with pytest.raises(ValueError, match=r"^invalid record key ''"):
            await coll.insert_many([{"a": 1}, {"_key": ""}])
        not_mapping: list[Any] = [{"a": 1}, Record("k", 1, 1, NOW, NOW)]
        with pytest.raises(
            TypeError, match=r"^document for collection 'c' must be a mapping, got Record$"
        ):
            await coll.insert_many(not_mapping)
        assert await coll.count() == 0


@pytest.mark.parametrize("mapping", [dict, MappingProxyType])
async def test_insert_many_takes_keys_from_mappings_without_touching_the_input(
    mapping: Any,
) -> None:
    async with adapters.connect("memory://") as store:
        coll = store.collection("c")
        first = {"_key": "a", "v": 1}
        items: list[Any] = [first, mapping({"_key": "b", "v": 2}), {"v": 3, "at": NOW}]
        records = await coll.insert_many(items)
        assert [r.key for r in records[:2]] == ["a", "b"]
        assert uuid.UUID(records[2].key).version == 4
        expected = [{"v": 1}, {"v": 2}, {"v": 3, "at": "2026-01-02T03:04:05Z"}]
        assert [r.data for r in records] == expected
        assert first == {"_key": "a", "v": 1}
        assert [r.data for r in await coll.find(order_by="v")] == expected


async def test_typed_insert_many_still_validates_each_item() -> None:
    class Item(msgspec.Struct):
        v: int

    async with adapters.connect("memory://") as store:
        coll = store.collection("typed", model=Item)
        records = await coll.insert_many([Item(1), {"v": 2}])
        assert [r.data for r in records] == [Item(1), Item(2)]
        with pytest.raises(adapters.ValidationError):
            await coll.insert_many([Item(3), {"v": "no"}])
        assert await coll.count() == 2


def test_non_finite_finds_nan_and_infinity_with_their_path() -> None:
    from adapters._codec import non_finite

    assert non_finite({"a": [1.0, {"b": float("-inf")}]}) == ("a[1].b", float("-inf"))
    found = non_finite({"x": float("nan")})
    assert found is not None
    assert found[0] == "x"
    # Integers whose bytes look like a float64 NaN, and integers beyond 64 bits:
    # the fast scan may hit or fail, the exact walk decides.
    assert non_finite({"i": 0xCB7FF00000, "j": 2**70, "s": "\u02c0"}) is None
    assert non_finite({"j": 2**70, "k": float("inf")}) == ("k", float("inf"))
