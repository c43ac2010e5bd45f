"""Contract: values JSON cannot hold as they are (NaN, Infinity) are refused, nothing written."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

import adapters

NAN = math.nan
INF = math.inf


class Reading(msgspec.Struct):
    sensor: str
    value: float


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"x": NAN}, "x"),
        ({"ok": 1.5, "deep": {"list": [0.0, INF]}}, "deep.list[1]"),
        ({"neg": -INF}, "neg"),
    ],
)
async def test_insert_refuses_non_finite_floats(
    store: adapters.Store, doc: dict[str, Any], field: str
) -> None:
    coll = store.collection("values")
    with pytest.raises(adapters.InvalidValue) as info:
        await coll.insert(doc, key="k")
    assert isinstance(info.value, ValueError)
    assert (info.value.field, info.value.key, info.value.collection) == (field, "k", "values")
    assert repr(field) in str(info.value)
    assert await coll.get("k") is None
    assert await coll.count() == 0


async def test_insert_many_refuses_the_batch(store: adapters.Store) -> None:
    coll = store.collection("values")
    items = [{"_key": "a", "v": 1.0}, {"_key": "b", "v": NAN}, {"_key": "c", "v": 2.0}]
    with pytest.raises(adapters.InvalidValue) as info:
        await coll.insert_many(items)
    assert (info.value.key, info.value.field) == ("b", "v")
    assert await coll.count() == 0


async def test_update_and_replace_refuse_and_keep_the_record(store: adapters.Store) -> None:
    coll = store.collection("values")
    rec = await coll.insert({"v": 1.0}, key="k")
    with pytest.raises(adapters.InvalidValue, match="'v'"):
        await coll.update("k", {"v": INF})
    with pytest.raises(adapters.InvalidValue, match="'w'"):
        await coll.replace("k", {"w": NAN})
    assert await coll.get("k") == rec


async def test_typed_collections_refuse_them_too(store: adapters.Store) -> None:
    readings = store.collection("readings", model=Reading)
    with pytest.raises(adapters.InvalidValue) as info:
        await readings.insert(Reading("s1", NAN), key="r")
    assert info.value.field == "value"
    assert await readings.get("r") is None
    await readings.insert(Reading("s1", 0.5), key="r")
    with pytest.raises(adapters.InvalidValue):
        await readings.update("r", {"value": -INF})
    got = await readings.get("r")
    assert got is not None
    assert got.data == Reading("s1", 0.5)


async def test_finite_floats_and_look_alike_text_are_stored(store: adapters.Store) -> None:
    coll = store.collection("values")
    # Text with 0xcb lead bytes (U+02C0..U+02FF) next to float-like data.
    doc = {"f": 12345.678, "neg": -0.5, "text": "\u02c0\u02ff NaN Infinity", "n": 2**62}
    rec = await coll.insert(doc, key="k")
    got = await coll.get("k")
    assert got is not None
    assert got.data == rec.data == doc
