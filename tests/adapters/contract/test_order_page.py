"""Contract: ordering, limit/offset and key-ordered paging."""

from __future__ import annotations

from typing import Any

import pytest

import adapters


@pytest.fixture
async def mixed(store: adapters.Store) -> adapters.Collection[dict[str, Any]]:
    coll = store.collection("mixed")
    docs: dict[str, dict[str, Any]] = {
        "k1": {"v": 10, "g": "b"},
        "k2": {"v": "abc", "g": "a"},
        "k3": {"v": None, "g": "b"},
        "k4": {"g": "a"},
        "k5": {"v": True, "g": "b"},
        "k6": {"v": 2.5, "g": "a"},
        "k7": {"v": "Abc", "g": "b"},
        "k8": {"v": [1], "g": "a"},
        "k9": {"v": 10, "g": "a"},
    }
    for key, doc in docs.items():
        await coll.insert(doc, key=key)
    return coll


ASCENDING = ["k4", "k3", "k5", "k6", "k1", "k9", "k7", "k2", "k8"]


async def test_order_by_ascending_over_mixed_types(
    mixed: adapters.Collection[dict[str, Any]],
) -> None:
    found = await mixed.find(order_by="v")
    assert [r.key for r in found] == ASCENDING


async def test_order_by_descending_keeps_key_order_for_ties(
    mixed: adapters.Collection[dict[str, Any]],
) -> None:
    found = await mixed.find(order_by="-v")
    assert [r.key for r in found] == ["k8", "k2", "k7", "k1", "k9", "k6", "k5", "k3", "k4"]


async def test_order_by_several_terms(mixed: adapters.Collection[dict[str, Any]]) -> None:
    found = await mixed.find({"v": {"$exists": True}}, order_by=["g", "-v"])
    assert [r.key for r in found] == ["k8", "k2", "k9", "k6", "k7", "k1", "k5", "k3"]


async def test_limit_and_offset(mixed: adapters.Collection[dict[str, Any]]) -> None:
    found = await mixed.find(order_by="v", limit=3, offset=2)
    assert [r.key for r in found] == ASCENDING[2:5]
    assert await mixed.find(order_by="v", offset=8) == [await mixed.get("k8")]
    assert await mixed.find(offset=100) == []
    assert await mixed.find(limit=0) == []
    default = await mixed.find(limit=4)
    assert [r.key for r in default] == ["k1", "k2", "k3", "k4"]


async def test_bad_order_by(store: adapters.Store) -> None:
    with pytest.raises(adapters.FilterError):
        await store.collection("x").find(order_by="-")
    with pytest.raises(adapters.FilterError):
        await store.collection("x").find(order_by=["a", ""])


async def test_page_to_the_end(store: adapters.Store) -> None:
    coll = store.collection("paged")
    keys = [f"key-{i:03d}" for i in range(23)]
    await coll.insert_many([{"_key": k, "i": i} for i, k in enumerate(reversed(keys))])
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await coll.page(5, after=cursor)
        pages += 1
        seen.extend(r.key for r in page.records)
        if not page.has_more:
            assert page.next_cursor is None
            break
        assert page.next_cursor == page.records[-1].key
        cursor = page.next_cursor
    assert seen == keys
    assert pages == 5


async def test_page_exact_multiple_and_empty(store: adapters.Store) -> None:
    coll = store.collection("paged")
    empty = await coll.page(3)
    assert (list(empty.records), empty.next_cursor, empty.has_more) == ([], None, False)
    await coll.insert_many([{"_key": k} for k in ["b", "a", "c"]])
    first = await coll.page(3)
    assert [r.key for r in first.records] == ["a", "b", "c"]
    assert not first.has_more
    assert first.next_cursor is None
    two = await coll.page(2)
    assert two.has_more
    rest = await coll.page(2, after=two.next_cursor)
    assert [r.key for r in rest.records] == ["c"]


async def test_page_key_order_is_code_point_order(store: adapters.Store) -> None:
    coll = store.collection("paged")
    keys = ["b", "B", "a", "Z", "é", "ä", "10", "9", "_", "~", "aa"]
    for key in keys:
        await coll.insert({}, key=key)
    page = await coll.page(len(keys))
    assert [r.key for r in page.records] == sorted(keys)
