"""The sans-I/O store engine: schema, unique fields, ordering, queries, transactions."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client.testing._store import Reactive, Store, StoreError, run_transaction
from noex_client.testing._store.errors import (
    TransactionConflictError,
    UniqueConstraintError,
    ValidationFailedError,
)
from noex_client.testing._store.queries import QueryContext, evaluate_declarative
from noex_client.testing._store.schema import validate_record


def _store(**buckets: dict[str, Any]) -> Store:
    store = Store("test")
    for name, definition in buckets.items():
        store.define_bucket(name, definition)
    return store


ITEMS = {
    "key": "id",
    "schema": {
        "id": {"type": "number", "generated": "autoincrement"},
        "sku": {"type": "string", "unique": True},
        "label": {"type": "string", "required": True},
        "price": {"type": "number", "min": 0},
        "tag": {"type": "string"},
    },
    "indexes": ["tag"],
}


@pytest.mark.parametrize(
    ("field", "value", "message", "code"),
    [
        ({"type": "string", "required": True}, None, "Field is required", "required"),
        ({"type": "number"}, "x", 'Expected type "number", got string', "type"),
        ({"type": "object"}, [1], 'Expected type "object", got array', "type"),
        ({"type": "string", "enum": ["a", "b"]}, "c", "Value must be one of: a, b", "enum"),
        ({"type": "string", "minLength": 3}, "ab", "Minimum length is 3", "minLength"),
        ({"type": "string", "maxLength": 1}, "ab", "Maximum length is 1", "maxLength"),
        ({"type": "string", "pattern": "^a+$"}, "b", 'Value must match pattern "^a+$"', "pattern"),
        ({"type": "string", "format": "email"}, "a@b", "Invalid email format", "format"),
        (
            {"type": "string", "format": "iso-date"},
            "2024-02-30",
            "Invalid iso-date format",
            "format",
        ),
        ({"type": "string", "format": "url"}, "not a url", "Invalid url format", "format"),
        ({"type": "number", "min": 1.5}, 1, "Minimum value is 1.5", "min"),
        ({"type": "number", "max": 10}, 11, "Maximum value is 10", "max"),
    ],
)
def test_validation_messages(field: dict[str, Any], value: Any, message: str, code: str) -> None:
    with pytest.raises(ValidationFailedError) as info:
        validate_record("b", {"f": field}, {"f": value})
    assert info.value.details == [{"field": "f", "message": message, "code": code}]
    assert info.value.message == f'Validation failed for bucket "b": f: {message}'


def test_valid_formats_pass() -> None:
    schema = {
        "e": {"type": "string", "format": "email"},
        "u": {"type": "string", "format": "url"},
        "d": {"type": "string", "format": "iso-date"},
        "t": {"type": "date"},
    }
    validate_record(
        "b", schema, {"e": "a@b.cz", "u": "https://x.org/p", "d": "2024-02-29T10:00:00Z", "t": 5}
    )


def test_nested_paths() -> None:
    schema = {
        "addr": {"type": "object", "properties": {"zip": {"type": "string", "required": True}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    }
    with pytest.raises(ValidationFailedError) as info:
        validate_record("b", schema, {"addr": {}, "tags": ["a", None, 3]})
    assert [i["field"] for i in info.value.details] == ["addr.zip", "tags[2]"]


def test_autoincrement_advances_on_failed_inserts() -> None:
    items = _store(items=ITEMS).bucket("items")
    assert items.insert({"label": "a"})["id"] == 1
    with pytest.raises(ValidationFailedError):
        items.insert({"price": 1})
    assert items.insert({"label": "c"})["id"] == 3


def test_unique_fields() -> None:
    items = _store(items=ITEMS).bucket("items")
    first = items.insert({"label": "a", "sku": "S1"})
    items.insert({"label": "b"})
    items.insert({"label": "c"})  # many missing values are fine
    with pytest.raises(UniqueConstraintError) as info:
        items.insert({"label": "d", "sku": "S1"})
    assert info.value.details == {"bucket": "items", "field": "sku", "value": "S1"}
    assert info.value.message == (
        'Unique constraint violation in bucket "items": field "sku" already has value "S1"'
    )
    items.update(first["id"], {"sku": "S1", "label": "a2"})  # keeping its own value is fine
    with pytest.raises(UniqueConstraintError):
        items.update(2, {"sku": "S1"})


def test_update_ignores_meta_key_and_generated_fields() -> None:
    items = _store(items=ITEMS).bucket("items")
    record = items.insert({"label": "a"})
    updated = items.update(1, {"id": 99, "_version": 50, "_createdAt": 0, "label": "b"})
    assert (updated["id"], updated["_version"], updated["label"]) == (1, 2, "b")
    assert updated["_createdAt"] == record["_createdAt"]
    assert items.update(1, {})["_version"] == 3
    with pytest.raises(StoreError, match='Record with key "7" not found in bucket "items"'):
        items.update(7, {})


def test_table_order_and_index_order() -> None:
    items = _store(items=ITEMS).bucket("items")
    for label, tag in [("a", "x"), ("b", "y"), ("c", "x")]:
        items.insert({"label": label, "tag": tag})
    items.update(1, {"tag": "y"})  # moves to the end of the "y" index set
    assert [r["label"] for r in items.where({"tag": "y"})] == ["b", "a"]
    assert [r["label"] for r in items.records()] == ["a", "b", "c"]
    items.delete(1)
    items.put({**items.build({"label": "a"}), "id": 1})
    assert [r["label"] for r in items.records()] == ["b", "c", "a"]


def test_ordered_set_first_last_paginate() -> None:
    codes = _store(
        codes={"key": "k", "etsType": "ordered_set", "schema": {"k": {"type": "string"}}}
    ).bucket("codes")
    for key in ["b", "10", "a", "9"]:
        codes.insert({"k": key})
    assert [r["k"] for r in codes.records()] == ["b", "10", "a", "9"]
    assert [r["k"] for r in codes.first(4)] == ["10", "9", "a", "b"]
    assert [r["k"] for r in codes.last(2)] == ["a", "b"]
    page = codes.paginate(3)
    assert (page["hasMore"], page["nextCursor"]) == (True, "a")
    last = codes.paginate(3, "a")
    assert ([r["k"] for r in last["records"]], last["hasMore"], last["nextCursor"]) == (
        ["b"],
        False,
        "b",
    )
    assert codes.paginate(3, None) == {"records": [], "hasMore": False}


def test_filter_operators() -> None:
    items = _store(items=ITEMS).bucket("items")
    for label, price in [("Apple", 1), ("banana", 5), ("cherry", 10)]:
        items.insert({"label": label, "price": price})

    def labels(flt: dict[str, Any]) -> list[str]:
        return [r["label"] for r in items.where(flt)]

    assert labels({"price": {"$gte": 5}}) == ["banana", "cherry"]
    assert labels({"price": {"$between": [2, 10]}}) == ["banana", "cherry"]
    assert labels({"label": {"$contains": "AN"}}) == ["banana"]
    assert labels({"label": {"$startsWith": "a"}}) == []
    assert labels({"price": {"$in": [1, 10]}}) == ["Apple", "cherry"]
    assert labels({"tag": {"$exists": False}, "price": {"$neq": 5}}) == ["Apple", "cherry"]
    assert labels({"$or": [{"price": 1}, {"label": "cherry"}]}) == ["Apple", "cherry"]
    assert labels({"tag": None}) == []  # null never equals a missing field
    assert labels({"price": [1]}) == []  # object/array conditions never match
    assert items.aggregate("avg", "price", None) == pytest.approx(16 / 3)
    assert items.aggregate("min", "price", {"label": "none"}) is None


def test_declarative_queries() -> None:
    store = _store(items=ITEMS)
    items = store.bucket("items")
    for label, price, tag in [("a", 3, "x"), ("b", 1, None), ("c", 2, "x"), ("d", 9, "y")]:
        items.insert({"label": label, "price": price, **({"tag": tag} if tag else {})})
    ctx = QueryContext(store.bucket)
    config = {
        "bucket": "items",
        "filter": {"price": {"$gt": "{{ params.min }}"}},
        "sort": {"tag": "asc", "price": "desc"},
        "offset": 1,
        "limit": 2,
        "fields": ["label", "nope"],
    }
    assert evaluate_declarative(ctx, config, {"min": 1}) == [{"label": "c"}, {"label": "d"}]
    grouped = {"bucket": "items", "aggregate": {"function": "count", "groupBy": "tag"}}
    assert evaluate_declarative(ctx, grouped, None) == [
        {"key": {"tag": "x"}, "value": 2},
        {"key": {"tag": None}, "value": 1},
        {"key": {"tag": "y"}, "value": 1},
    ]
    empty = {
        "bucket": "items",
        "filter": {"tag": "zzz"},
        "aggregate": {"function": "max", "field": "price"},
    }
    assert evaluate_declarative(ctx, empty, None) is not None  # UNDEFINED, not null
    assert ctx.deps.buckets == {"items"}


def test_reactive_push_rule() -> None:
    store = _store(items=ITEMS)
    items = store.bucket("items")
    store.define_query("count", function=lambda ctx, _p: ctx.count("items"))
    store.define_query("one", function=lambda ctx, p: ctx.get("items", p["key"]))
    reactive = Reactive(store)
    pushes: list[tuple[str, Any]] = []
    assert reactive.subscribe("sub-1", "count", None, lambda s, d: pushes.append((s, d))) == 0
    reactive.subscribe("sub-2", "one", {"key": 2}, lambda s, d: pushes.append((s, d)))
    items.insert({"label": "a"})
    items.insert({"label": "b"})
    assert reactive.flush() == 2  # coalesced: one count push, plus record 2 appeared
    assert pushes[0] == ("sub-1", 2)
    pushes.clear()
    items.update(1, {"label": "a2"})  # count unchanged, record 1 not watched
    assert reactive.flush() == 0
    items.clear()  # no events at all
    assert not reactive.pending
    items.insert({"label": "c"})
    items.insert({"label": "d"})
    # Compared with the stale result of before the clear (2): equal, no push.
    assert reactive.flush() == 0
    assert pushes == []


def test_transaction_semantics() -> None:
    store = _store(items=ITEMS)
    items = store.bucket("items")
    items.insert({"label": "a"})
    results = run_transaction(
        store,
        [
            {"op": "update", "bucket": "items", "key": 1, "data": {"price": 1}},
            {"op": "update", "bucket": "items", "key": 1, "data": {"price": 2}},
            {"op": "insert", "bucket": "items", "data": {"label": "b"}},
            {"op": "count", "bucket": "items"},
            {"op": "where", "bucket": "items", "filter": {"label": "b"}},
        ],
    )
    assert results[1]["data"]["_version"] == 3
    assert results[3] == {"index": 3, "data": 2}
    assert [r["label"] for r in results[4]["data"]] == ["b"]
    assert items.get(1)["price"] == 2  # type: ignore[index]
    with pytest.raises(TransactionConflictError, match="Version mismatch: expected 4, got 3"):
        run_transaction(
            store,
            [
                {"op": "update", "bucket": "items", "key": 1, "data": {"price": 5}},
                {"op": "delete", "bucket": "items", "key": 1},
            ],
        )
    with pytest.raises(ValidationFailedError):
        run_transaction(
            store,
            [
                {"op": "insert", "bucket": "items", "data": {"label": "c"}},
                {"op": "insert", "bucket": "items", "data": {}},
            ],
        )
    assert len(items) == 2
    with pytest.raises(StoreError, match='Bucket "ghost" is not defined'):
        run_transaction(store, [{"op": "get", "bucket": "ghost", "key": 1}])


def test_max_size_evicts_oldest() -> None:
    logs = _store(
        logs={
            "key": "id",
            "maxSize": 2,
            "schema": {"id": {"type": "number", "generated": "autoincrement"}},
        }
    )
    bucket = logs.bucket("logs")
    for _ in range(3):
        bucket.insert({})
    assert [r["id"] for r in bucket.records()] == [2, 3]


def test_bad_definitions() -> None:
    store = Store("x")
    with pytest.raises(StoreError, match='Key field "k" does not exist in schema for bucket "b"'):
        store.define_bucket("b", {"key": "k", "schema": {"id": {"type": "string"}}})
    with pytest.raises(StoreError, match='Index field "z" does not exist'):
        store.define_bucket(
            "b", {"key": "id", "schema": {"id": {"type": "string"}}, "indexes": ["z"]}
        )


def test_ttl_sets_expiry_and_purges() -> None:
    store = _store(
        tmp={"key": "id", "ttl": "1h", "schema": {"id": {"type": "string", "generated": "uuid"}}}
    )
    tmp = store.bucket("tmp")
    fresh = tmp.insert({})
    assert fresh["_expiresAt"] == fresh["_createdAt"] + 3_600_000
    tmp.insert({"_expiresAt": 0})  # a supplied expiry is kept
    assert store.purge_expired() == 1
    assert tmp.records() == [fresh]
    with pytest.raises(StoreError, match="Invalid TTL"):
        store.define_bucket(
            "bad", {"key": "id", "ttl": "soon", "schema": {"id": {"type": "string"}}}
        )


def test_missing_query_parameter_is_undefined() -> None:
    store = _store(items=ITEMS)
    items = store.bucket("items")
    items.insert({"label": "tagged", "tag": "x"})
    items.insert({"label": "untagged"})
    config = {"bucket": "items", "filter": {"tag": "{{ params.tag }}"}}
    ctx = QueryContext(store.bucket)
    assert [r["label"] for r in evaluate_declarative(ctx, config, {"tag": "x"})] == ["tagged"]
    assert [r["label"] for r in evaluate_declarative(ctx, config, {})] == ["untagged"]
