"""The procedures engine without sockets: validation, steps, templates, errors, atomicity."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client.testing._errors import RequestError
from noex_client.testing._procedures import ProcedureRegistry
from noex_client.testing._procedures.templates import lookup, render, strip_undefined
from noex_client.testing._rules import RuleEngine
from noex_client.testing._store import Store
from noex_client.testing._store._values import UNDEFINED

ITEMS = {"key": "id", "schema": {"id": {"type": "string", "generated": "uuid"},
                                 "orderId": {"type": "string", "required": True},
                                 "price": {"type": "number", "required": True}}}  # fmt: skip
ORDERS = {"key": "id", "schema": {"id": {"type": "string"}, "total": {"type": "number"}}}


@pytest.fixture
def store() -> Store:
    store = Store("procedures")
    store.define_bucket("items", ITEMS)
    store.define_bucket("orders", ORDERS)
    return store


def call(
    store: Store,
    steps: list[Any],
    given: dict[str, Any] | None = None,
    rules: RuleEngine | None = None,
    **config: Any,
) -> dict[str, Any]:
    registry = ProcedureRegistry()
    registry.register({"name": "p", "steps": steps, **config})
    return registry.call("p", given or {}, store, rules)


def failure(fn: Any, *args: Any, **kwargs: Any) -> RequestError:
    with pytest.raises(RequestError) as info:
        fn(*args, **kwargs)
    return info.value


# -- registration -----------------------------------------------------------------------------


def test_register_reports_every_issue_with_its_path() -> None:
    error = failure(
        ProcedureRegistry().register,
        {"name": "", "timeoutMs": 0, "input": {"n": {"type": "int"}},
         "steps": [{"action": "store.get", "bucket": ""},
                   {"action": "if", "condition": {"ref": "x", "operator": "like"}, "then": []},
                   {"action": "aggregate", "source": "s", "op": "median", "as": "m"},
                   "nope"]},
    )  # fmt: skip
    issues = [
        "name: expected non-empty string",
        "timeoutMs: expected positive number",
        "input.n.type: expected one of: string, number, boolean, object, array",
        "steps[0].bucket: expected non-empty string",
        "steps[0].key: required",
        "steps[0].as: required",
        "steps[1].condition.operator: expected one of: eq, neq, gt, gte, lt, lte, exists, not_exists",
        "steps[1].then: expected non-empty array",
        "steps[2].op: expected one of: sum, avg, min, max, count",
        "steps[2].field: required",
        "steps[3]: expected object",
    ]
    assert (error.code, error.details) == ("VALIDATION_ERROR", {"issues": issues})
    assert error.message == "Procedure validation failed: " + "; ".join(issues)


def test_nested_steps_are_checked_with_their_path_and_counted() -> None:
    nested = {"action": "if", "condition": {"ref": "input.a", "operator": "exists"},
              "then": [{"action": "store.delete", "bucket": "items"}],
              "else": [{"action": "return"}]}  # fmt: skip
    issues = failure(ProcedureRegistry().register, {"name": "n", "steps": [nested]}).details
    assert issues == {
        "issues": ["steps[0].then[0].key: required", "steps[0].else[0].value: required"]
    }
    many = [{"action": "return", "value": i} for i in range(101)]
    too_many = failure(ProcedureRegistry().register, {"name": "n", "steps": many})
    assert too_many.details == {"issues": ["steps: 101 steps exceed the maximum of 100"]}


def test_if_nesting_is_limited() -> None:
    step: dict[str, Any] = {"action": "return", "value": 1}
    for _ in range(5):
        step = {"action": "if", "condition": {"ref": "input.a", "operator": "exists"},
                "then": [step]}  # fmt: skip
    error = failure(ProcedureRegistry().register, {"name": "deep", "steps": [step]})
    assert "exceeds the maximum condition depth of 5" in error.message
    ProcedureRegistry().register({"name": "ok", "steps": step["then"]})  # four levels are fine


def test_update_merges_keeps_the_name_and_revalidates() -> None:
    registry = ProcedureRegistry()
    registry.register({"name": "p", "steps": [{"action": "return", "value": 1}]})
    assert registry.update("p", {"name": "q", "description": "d"}) == {"name": "p", "updated": True}
    assert registry.get("p")["description"] == "d"
    error = failure(registry.update, "p", {"steps": []})
    assert error.details == {"issues": ["steps: expected non-empty array"]}
    assert registry.get("p")["steps"] == [{"action": "return", "value": 1}]
    assert registry.summaries() == {
        "procedures": [{"name": "p", "description": "d", "stepsCount": 1}]
    }


def test_the_stored_config_is_a_copy() -> None:
    registry = ProcedureRegistry()
    config: dict[str, Any] = {"name": "p", "steps": [{"action": "return", "value": [1]}]}
    registry.register(config)
    config["steps"][0]["value"].append(2)
    registry.get("p")["steps"].clear()
    assert registry.get("p")["steps"] == [{"action": "return", "value": [1]}]


# -- input ------------------------------------------------------------------------------------


def test_input_defaults_optional_fields_and_type_errors(store: Store) -> None:
    spec = {"n": {"type": "number"}, "tag": {"type": "string", "default": "x"},
            "opt": {"type": "boolean", "required": False}}  # fmt: skip
    steps = [{"action": "return", "value": "{{ input }}"}]
    assert call(store, steps, {"n": 1}, input=spec)["result"] == {"n": 1, "tag": "x"}
    registry = ProcedureRegistry()
    registry.register({"name": "p", "input": spec, "steps": steps})
    error = failure(registry.call, "p", {"n": "1", "opt": None}, store, None)
    assert error.details == {
        "issues": [
            'Input "n": expected number, got string',
            'Input "opt": expected boolean, got null',
        ]
    }
    assert error.message.startswith("Invalid procedure input: ")
    assert failure(registry.call, "nope", {}, store, None).message == 'Procedure "nope" not found'


# -- steps ------------------------------------------------------------------------------------


def test_store_steps_templates_and_results(store: Store) -> None:
    steps: list[dict[str, Any]] = [
        {"action": "store.insert", "bucket": "orders", "data": {"id": "{{ input.id }}", "total": 0}},
        {"action": "store.insert", "bucket": "items", "data": {"orderId": "{{ input.id }}", "price": 4}},
        {"action": "store.insert", "bucket": "items", "data": {"orderId": "{{ input.id }}", "price": 6}},
        {"action": "store.count", "bucket": "items", "filter": {"orderId": "{{ input.id }}"}, "as": "n"},
        {"action": "store.findOne", "bucket": "items", "filter": {"price": 6}, "as": "six"},
        {"action": "store.get", "bucket": "orders", "key": "{{ input.id }}", "as": "order"},
        {"action": "store.delete", "bucket": "items", "key": "{{ six.id }}"},
        {"action": "return", "value": "order {{ order.id }} had {{ n }} items, total {{ order.total }}"},
    ]  # fmt: skip
    outcome = call(store, steps, {"id": "o1"})
    assert outcome["result"] == "order o1 had 2 items, total 0"
    assert set(outcome["results"]) == {"n", "six", "order"}
    assert [r["price"] for r in store.bucket("items").records()] == [4]


def test_aggregate_and_transform_steps(store: Store) -> None:
    for price in (1, 2, 3):
        store.bucket("items").insert({"orderId": "o", "price": price})
    steps: list[dict[str, Any]] = [
        {"action": "store.where", "bucket": "items", "filter": {}, "as": "items"},
        {"action": "aggregate", "source": "items", "op": "avg", "field": "price", "as": "avg"},
        {"action": "aggregate", "source": "items", "op": "max", "field": "price", "as": "max"},
        {"action": "aggregate", "source": "items", "op": "count", "as": "count"},
        {"action": "transform", "source": "items", "operation": "pluck", "args": "price", "as": "prices"},
        {"action": "transform", "source": "items", "operation": "filter", "args": {"price": 2}, "as": "two"},
        {"action": "transform", "source": "two", "operation": "map", "args": {"seen": True}, "as": "seen"},
        {"action": "transform", "source": "input", "operation": "pick", "args": ["a"], "as": "picked"},
        {"action": "return", "value": {"n": "{{ items.length }}", "first": "{{ prices.0 }}"}},
    ]  # fmt: skip
    outcome = call(store, steps, {"a": 1, "b": 2})
    results = outcome["results"]
    assert (results["avg"], results["max"], results["count"]) == (2, 3, 3)
    assert results["prices"] == [1, 2, 3]
    assert [r["price"] for r in results["two"]] == [2]
    assert results["seen"][0]["seen"] is True
    assert results["picked"] == {"a": 1}
    assert outcome["result"] == {"n": 3, "first": 1}


def test_aggregate_of_nothing_is_zero_and_bad_sources_fail(store: Store) -> None:
    steps = [
        {"action": "store.where", "bucket": "items", "filter": {"orderId": "none"}, "as": "items"},
        {"action": "aggregate", "source": "items", "op": "min", "field": "price", "as": "min"},
    ]
    assert call(store, steps)["results"]["min"] == 0
    bad = [{"action": "aggregate", "source": "input", "op": "sum", "field": "x", "as": "s"}]
    error = failure(call, store, bad)
    assert (error.code, error.message) == (
        "INTERNAL_ERROR",
        'aggregate: source "input" is not an array',
    )
    pick = [
        {"action": "transform", "source": "input.list", "operation": "pick", "args": [], "as": "x"}
    ]
    error = failure(call, store, pick, {"list": [1]})
    assert error.message == 'transform.pick: source "input.list" is not an object'


@pytest.mark.parametrize(
    ("operator", "value", "n", "expected"),
    [("eq", 3, 3, "then"), ("eq", "3", 3, "else"), ("neq", 3, 4, "then"), ("gte", 3, 3, "then"),
     ("lt", 3, 3, "else"), ("lte", 3, 3, "then"), ("gt", "a", 3, "else"),
     ("exists", None, 0, "then"), ("not_exists", None, 0, "else")],
)  # fmt: skip
def test_if_operators(store: Store, operator: str, value: Any, n: int, expected: str) -> None:
    step = {"action": "if", "condition": {"ref": "input.n", "operator": operator, "value": value},
            "then": [{"action": "return", "value": "then"}],
            "else": [{"action": "return", "value": "else"}]}  # fmt: skip
    assert call(store, [step], {"n": n})["result"] == expected


def test_without_a_return_there_is_no_result(store: Store) -> None:
    step = {"action": "if", "condition": {"ref": "input.x", "operator": "exists"},
            "then": [{"action": "return", "value": 1}]}  # fmt: skip
    assert call(store, [step]) == {"success": True, "results": {}}


def test_rules_steps(store: Store) -> None:
    rules = RuleEngine()
    seen: list[dict[str, Any]] = []
    rules.subscribe("s", "order.*", lambda _sid, event: seen.append(event))
    steps = [
        {"action": "rules.setFact", "key": "order:{{ input.id }}", "value": {"ok": True}},
        {"action": "rules.getFact", "key": "order:{{ input.id }}", "as": "fact"},
        {"action": "rules.emit", "topic": "order.checked", "data": {"id": "{{ input.id }}"}},
    ]
    assert call(store, steps, {"id": "7"}, rules=rules)["results"] == {"fact": {"ok": True}}
    assert [e["data"] for e in seen] == [{"id": "7"}]
    error = failure(call, store, steps[2:], {"id": "7"})
    assert (error.code, error.message) == (
        "INTERNAL_ERROR",
        "rules.emit: rule engine is not configured",
    )


# -- errors and atomicity ---------------------------------------------------------------------


def test_step_errors_map_as_the_server_does(store: Store) -> None:
    missing = [{"action": "store.get", "bucket": "nope", "key": 1, "as": "x"}]
    error = failure(call, store, missing)
    assert (error.code, error.message) == ("INTERNAL_ERROR", 'Bucket "nope" is not defined')
    invalid = [{"action": "store.insert", "bucket": "items", "data": {"orderId": 1, "price": 1}}]
    error = failure(call, store, invalid)
    assert error.code == "VALIDATION_ERROR"
    assert error.message.startswith('Validation failed for bucket "items"')
    assert not error.has_details
    unnamed = [{"action": "store.count", "bucket": "{{ input.bucket }}", "as": "n"}]
    error = failure(call, store, unnamed)
    assert (error.code, error.message) == ("INTERNAL_ERROR", 'Bucket "undefined" is not defined')
    update = [{"action": "store.update", "bucket": "orders", "key": "x", "data": {}}]
    error = failure(call, store, update)
    assert error.message == 'Record with key "x" not found in bucket "orders"'


def test_a_transactional_procedure_writes_nothing_when_a_step_fails(store: Store) -> None:
    steps = [
        {"action": "store.insert", "bucket": "orders", "data": {"id": "o1", "total": 1}},
        {"action": "store.get", "bucket": "orders", "key": "o1", "as": "seen"},
        {"action": "store.insert", "bucket": "items", "data": {"orderId": "o1"}},
    ]
    assert failure(call, store, steps, transaction=True).code == "VALIDATION_ERROR"
    assert store.bucket("orders").records() == []
    # Without the flag the first write stays (the real server's behaviour for every procedure).
    assert failure(call, store, steps).code == "VALIDATION_ERROR"
    assert [r["id"] for r in store.bucket("orders").records()] == ["o1"]


def test_a_transactional_procedure_reads_its_own_writes_and_commits(store: Store) -> None:
    steps: list[dict[str, Any]] = [
        {"action": "store.insert", "bucket": "orders", "data": {"id": "o2", "total": 1}},
        {"action": "store.update", "bucket": "orders", "key": "o2", "data": {"total": 5}},
        {"action": "store.get", "bucket": "orders", "key": "o2", "as": "order"},
        {"action": "return", "value": "{{ order.total }}"},
    ]
    assert call(store, steps, transaction=True)["result"] == 5
    stored = store.bucket("orders").get("o2")
    assert stored is not None
    assert stored["total"] == 5


def test_the_timeout_stops_a_run(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import noex_client.testing._procedures.runner as runner

    clock = iter([0.0, 0.0, 10.0])
    monkeypatch.setattr(runner, "clock", lambda: next(clock))
    steps: list[dict[str, Any]] = [{"action": "store.count", "bucket": "items", "as": "n"}] * 2
    error = failure(call, store, steps, timeoutMs=5)
    assert (error.code, error.message) == ("INTERNAL_ERROR", 'Procedure "p" timed out after 5ms')


# -- templates --------------------------------------------------------------------------------


def test_templates() -> None:
    context = {"input": {"a": {"b": [10, 20]}, "s": "xy", "n": None}, "r": {"id": 1}}
    assert lookup(context, "input.a.b.1") == 20
    assert lookup(context, "input.s.length") == 2
    assert lookup(context, "{{ r.id }}") == 1
    assert lookup(context, "input.missing.x") is UNDEFINED
    assert render("{{ input.a }}", context) == {"b": [10, 20]}
    assert render("a={{ input.a }} n={{input.n}} m={{ nope }}", context) == 'a={"b":[10,20]} n= m='
    assert render({"k": ["{{ r.id }}", "{{ nope }}"]}, context) == {"k": [1, UNDEFINED]}
    assert strip_undefined({"k": ["{{ nope }}", UNDEFINED], "x": UNDEFINED}) == {
        "k": ["{{ nope }}", None]
    }
