"""Derived views without sockets: joins, select paths and expressions, grouping, errors."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client.testing._errors import RequestError
from noex_client.testing._logic import LogicEngine
from noex_client.testing._store import Store
from noex_client.testing._store.errors import BucketNotDefinedError

KEYED = {"key": "id", "schema": {"id": {"type": "string"}}}


@pytest.fixture
def engine() -> LogicEngine:
    store = Store("views")
    for name in ("customers", "orders", "items", "regions"):
        store.define_bucket(name, KEYED)
    customers = store.bucket("customers")
    customers.insert({"id": "c1", "name": "Ann", "region": "r1"})
    customers.insert({"id": "c2", "name": "Bob", "region": "r2"})
    customers.insert({"id": "c3", "name": "Cy", "region": None})
    orders = store.bucket("orders")
    orders.insert({"id": "o1", "customerId": "c1", "total": 10})
    orders.insert({"id": "o2", "customerId": "c2", "total": 20})
    orders.insert({"id": "o3", "customerId": "c1", "total": 30})
    orders.insert({"id": "o4", "customerId": None, "total": 40})
    store.bucket("regions").insert({"id": "r1", "label": "North"})
    store.bucket("regions").insert({"id": "r2", "label": "South"})
    return LogicEngine(store)


def rows(engine: LogicEngine, definition: dict[str, Any]) -> list[dict[str, Any]]:
    engine.define_view({"name": "v", **definition})
    return engine.query_view("v")


def test_single_source_paths_with_or_without_the_alias(engine: LogicEngine) -> None:
    view = {"from": {"o": "orders"},
            "select": {"id": "o.id", "total": "$total", "missing": "o.nope",
                       "double": {"$multiply": ["$o.total", 2]}}}  # fmt: skip
    assert rows(engine, view)[0] == {"id": "o1", "total": 10, "missing": None, "double": 20}
    assert len(rows(engine, view)) == 4


def test_an_inner_equality_join_skips_unmatched_and_null_values(engine: LogicEngine) -> None:
    view = {"from": {"o": "orders", "c": "customers"}, "join": {"o.customerId": "c.id"},
            "select": {"order": "o.id", "customer": "c.name"}}  # fmt: skip
    assert rows(engine, view) == [
        {"order": "o1", "customer": "Ann"},
        {"order": "o2", "customer": "Bob"},
        {"order": "o3", "customer": "Ann"},
    ]


def test_three_sources_join_in_a_chain_in_any_direction(engine: LogicEngine) -> None:
    view = {"from": {"r": "regions", "o": "orders", "c": "customers"},
            "join": {"c.region": "r.id", "o.customerId": "c.id"},
            "select": {"order": "o.id", "region": "r.label"}}  # fmt: skip
    assert rows(engine, view) == [
        {"order": "o1", "region": "North"},
        {"order": "o3", "region": "North"},
        {"order": "o2", "region": "South"},
    ]
    explained = engine.explain_view("v")
    assert [step["alias"] for step in explained["plan"]] == ["r", "c", "o"]
    assert explained["plan"][2] == {"alias": "o", "bucket": "orders", "access": "hash join",
                                    "on": ["o.customerId = c.id"]}  # fmt: skip


def test_several_conditions_between_two_sources_all_hold(engine: LogicEngine) -> None:
    view = {"from": {"a": "orders", "b": "orders"},
            "join": {"a.customerId": "b.customerId", "a.id": "b.id"},
            "select": {"id": "a.id"}}  # fmt: skip
    assert rows(engine, view) == [{"id": "o1"}, {"id": "o2"}, {"id": "o3"}]


def test_aggregates_group_by_the_other_select_entries(engine: LogicEngine) -> None:
    view = {"from": {"o": "orders", "c": "customers"}, "join": {"o.customerId": "c.id"},
            "select": {"customer": "c.name", "orders": {"$count": "*"},
                       "spent": {"$sum": "o.total"}, "avg": {"$round": [{"$avg": "o.total"}, 1]}}}  # fmt: skip
    assert rows(engine, view) == [
        {"customer": "Ann", "orders": 2, "spent": 40, "avg": 20},
        {"customer": "Bob", "orders": 1, "spent": 20, "avg": 20},
    ]
    explained = engine.explain_view("v")
    assert (explained["aggregate"], explained["groupBy"]) == (True, ["customer"])


def test_only_aggregates_give_one_row_even_over_no_rows(engine: LogicEngine) -> None:
    view = {"from": {"o": "orders"},
            "select": {"n": {"$count": "*"}, "max": {"$max": "o.total"}, "sum": {"$sum": "total"}}}  # fmt: skip
    assert rows(engine, view) == [{"n": 4, "max": 40, "sum": 100}]
    engine.store.bucket("orders").clear()
    assert engine.query_view("v") == [{"n": 0, "max": None, "sum": 0}]
    grouped = {"from": {"o": "orders"}, "select": {"c": "o.customerId", "n": {"$count": "*"}}}
    assert rows(engine, grouped) == []


def test_views_follow_writes(engine: LogicEngine) -> None:
    pushed: list[list[dict[str, Any]]] = []
    engine.define_view({"name": "v", "from": {"c": "customers"}, "select": {"name": "c.name"}})
    initial = engine.subscribe_view("sub-1", "v", lambda _sid, data: pushed.append(data))
    assert len(initial) == 3
    engine.store.bucket("customers").insert({"id": "c4", "name": "Dee"})
    engine.store.bucket("orders").insert({"id": "o9", "total": 1})  # not a source: no work
    assert engine.flush() == 1
    assert pushed[-1][-1] == {"name": "Dee"}
    engine.store.bucket("customers").update("c4", {"note": "x"})
    assert engine.flush() == 0  # same result, no push
    engine.store.drop_bucket("customers")
    engine.store.bucket("orders").insert({"id": "o10"})
    assert engine.flush() == 0
    with pytest.raises(BucketNotDefinedError):
        engine.query_view("v")


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"from": {"o": "orders"}}, "definition.name: expected non-empty string"),
        ({"name": "v", "from": {}, "select": {"a": "o.id"}},
         "definition.from: expected a non-empty object of alias -> bucket"),
        ({"name": "v", "from": {"o.x": "orders"}, "select": {"a": "o.id"}},
         'definition.from: alias "o.x" must be non-empty, without "."'),
        ({"name": "v", "from": {"o": ""}, "select": {"a": "o.id"}},
         "definition.from.o: expected non-empty string (a bucket)"),
        ({"name": "v", "from": {"o": "orders", "c": "customers"}, "select": {"a": "o.id"}},
         'definition.join: source "c" is not joined to o (views use inner equality joins)'),
        ({"name": "v", "from": {"o": "orders", "c": "customers"}, "join": {"o.customerId": "x.id"},
          "select": {"a": "o.id"}}, 'definition.join: unknown alias "x" (sources: o, c)'),
        ({"name": "v", "from": {"o": "orders", "c": "customers"}, "join": {"customerId": "c.id"},
          "select": {"a": "o.id"}}, 'definition.join: "customerId" must be "alias.field"'),
        ({"name": "v", "from": {"o": "orders"}, "join": {"o.a": "o.b"}, "select": {"a": "o.id"}},
         'definition.join: "o.a" and "o.b" are in the same source'),
        ({"name": "v", "from": {"o": "orders"}, "join": [], "select": {"a": "o.id"}},
         'definition.join: expected an object {"a.field": "b.field"}'),
        ({"name": "v", "from": {"o": "orders"}, "select": {}},
         "definition.select: expected a non-empty object of field -> path"),
        ({"name": "v", "from": {"o": "orders"}, "select": {"a": ""}}, "definition.select.a: empty path"),
        ({"name": "v", "from": {"o": "orders", "c": "customers"}, "join": {"o.customerId": "c.id"},
          "select": {"a": "total"}}, 'definition.select.a: "total" does not start with a source alias (o, c)'),
        ({"name": "v", "from": {"o": "orders"}, "select": {"a": {"$nope": 1}}},
         'Invalid expression at definition.select.a: unknown operator "$nope"'),
        ({"name": "v", "from": {"o": "orders"}, "select": {"a": "o.id"}, "where": {}},
         'definition: unknown key "where" (expected name, from, join, select)'),
    ],
)  # fmt: skip
def test_bad_definitions_name_the_problem(
    engine: LogicEngine, definition: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestError) as info:
        engine.define_view(definition)
    assert (info.value.code, info.value.message) == ("VALIDATION_ERROR", message)


def test_unknown_source_buckets_are_refused(engine: LogicEngine) -> None:
    with pytest.raises(BucketNotDefinedError, match='Bucket "nope" is not defined'):
        engine.define_view({"name": "v", "from": {"n": "nope"}, "select": {"a": "n.id"}})
    assert engine.list_views() == []


def test_definitions_are_copies(engine: LogicEngine) -> None:
    definition: dict[str, Any] = {
        "name": "v",
        "from": {"c": "customers"},
        "select": {"n": "c.name"},
    }
    engine.define_view(definition)
    definition["select"]["x"] = "c.id"
    engine.list_views()[0]["select"].clear()
    assert engine.list_views() == [
        {"name": "v", "from": {"c": "customers"}, "select": {"n": "c.name"}}
    ]
