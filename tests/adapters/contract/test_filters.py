"""Contract: every filter operator, combinators, dotted paths and errors."""

from __future__ import annotations

from typing import Any

import pytest

import adapters

DOCS: dict[str, dict[str, Any]] = {
    "a": {
        "name": "Alice",
        "age": 30,
        "role": "admin",
        "tags": ["x", "y"],
        "addr": {"city": "Oslo"},
    },
    "b": {"name": "Bob", "age": 25, "role": "user", "tags": ["y"], "addr": {"city": "Rome"}},
    "c": {"name": "Carol", "age": 35.5, "role": "user", "tags": [], "nick": None},
    "d": {"name": "dave", "age": "40", "role": "guest", "flag": True},
    "e": {"name": "Eve", "age": 1, "flag": 1, "addr": "not an object"},
}


@pytest.fixture
async def people(store: adapters.Store) -> adapters.Collection[dict[str, Any]]:
    coll = store.collection("people")
    for key, doc in DOCS.items():
        await coll.insert(doc, key=key)
    return coll


CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"a", "b", "c", "d", "e"}),
    ({"role": "user"}, {"b", "c"}),
    ({"role": "user", "age": 25}, {"b"}),
    ({"age": 30.0}, {"a"}),
    ({"flag": True}, {"d"}),
    ({"flag": 1}, {"e"}),
    ({"nick": None}, {"c"}),
    ({"tags": ["y"]}, {"b"}),
    ({"addr": {"city": "Oslo"}}, {"a"}),
    ({"addr.city": "Rome"}, {"b"}),
    ({"addr.city": {"$exists": True}}, {"a", "b"}),
    ({"role": {"$eq": "admin"}}, {"a"}),
    ({"role": {"$neq": "user"}}, {"a", "d", "e"}),
    ({"age": {"$gt": 25}}, {"a", "c"}),
    ({"age": {"$gte": 25}}, {"a", "b", "c"}),
    ({"age": {"$lt": 30}}, {"b", "e"}),
    ({"age": {"$lte": 30}}, {"a", "b", "e"}),
    ({"age": {"$gt": 20, "$lt": 33}}, {"a", "b"}),
    ({"age": {"$gte": "4"}}, {"d"}),
    ({"name": {"$lt": "a"}}, {"a", "b", "c", "e"}),
    ({"age": {"$between": [25, 35.5]}}, {"a", "b", "c"}),
    ({"name": {"$between": ["B", "Cz"]}}, {"b", "c"}),
    ({"role": {"$in": ["admin", "guest"]}}, {"a", "d"}),
    ({"age": {"$in": [25, "40"]}}, {"b", "d"}),
    ({"role": {"$nin": ["admin", "guest"]}}, {"b", "c", "e"}),
    ({"name": {"$contains": "o"}}, {"b", "c"}),
    ({"tags": {"$contains": "y"}}, {"a", "b"}),
    ({"name": {"$startsWith": "Ca"}}, {"c"}),
    ({"name": {"$endsWith": "e"}}, {"a", "d", "e"}),
    ({"nick": {"$exists": True}}, {"c"}),
    ({"nick": {"$exists": False}}, {"a", "b", "d", "e"}),
    ({"$or": [{"role": "admin"}, {"age": {"$lt": 26}}]}, {"a", "b", "e"}),
    ({"$and": [{"role": "user"}, {"age": {"$gt": 30}}]}, {"c"}),
    (
        {"$or": [{"role": "guest"}, {"$and": [{"role": "user"}, {"tags": {"$contains": "y"}}]}]},
        {"b", "d"},
    ),
    ({"missing.deep.path": 1}, set()),
    ({"addr.city.x": {"$exists": False}}, {"a", "b", "c", "d", "e"}),
]


@pytest.mark.parametrize(("where", "expected"), CASES, ids=[str(c[0]) for c in CASES])
async def test_filter(
    people: adapters.Collection[dict[str, Any]], where: dict[str, Any], expected: set[str]
) -> None:
    found = await people.find(where)
    assert {r.key for r in found} == expected
    assert [r.key for r in found] == sorted(expected)
    assert await people.count(where) == len(expected)


async def test_find_one(people: adapters.Collection[dict[str, Any]]) -> None:
    one = await people.find_one({"role": "user"})
    assert one is not None
    assert one.key == "b"
    assert await people.find_one({"role": "nobody"}) is None
    oldest = await people.find_one({"age": {"$gt": 0}}, order_by="-age")
    assert oldest is not None
    assert oldest.key == "c"


BAD: list[tuple[Any, str]] = [
    ({"age": {"$regex": "x"}}, "$regex"),
    ({"$nor": [{"a": 1}]}, "$nor"),
    ({"$or": []}, "$or"),
    ({"$or": {"a": 1}}, "$or"),
    ({"age": {"$in": 5}}, "$in"),
    ({"age": {"$between": [1]}}, "$between"),
    ({"age": {"$between": [1, "z"]}}, "$between"),
    ({"age": {"$gt": [1]}}, "$gt"),
    ({"age": {"$exists": 1}}, "$exists"),
    ({"name": {"$startsWith": 1}}, "$startsWith"),
    ({"age": {"$gt": 1, "plain": 2}}, "mixed"),
    ({"a..b": 1}, "a..b"),
    ({"": 1}, "''"),
    ({"a": object()}, "not JSON"),
    (["not", "a", "mapping"], "mapping"),
]


@pytest.mark.parametrize(("where", "needle"), BAD, ids=[b[1] for b in BAD])
async def test_bad_filters_raise_filter_error(
    store: adapters.Store, where: Any, needle: str
) -> None:
    coll = store.collection("people")
    with pytest.raises(adapters.FilterError) as info:
        await coll.find(where)
    assert needle in str(info.value)
    with pytest.raises(adapters.FilterError):
        await coll.count(where)
    with pytest.raises(adapters.FilterError):
        coll.watch(where)
