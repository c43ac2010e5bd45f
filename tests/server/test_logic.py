"""``logic.*`` over the wire: every row of ``logic.md`` against ``LocalServer``.

The expression operators are covered one by one in ``test_logic_expr.py``;
view joins and grouping in ``test_logic_views.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from noex_client.testing import ConfigError, LocalServer, ServerConfig
from tests.server.conftest import Client, ClientFactory

ORDERS: dict[str, Any] = {
    "name": "orders",
    "schema": {
        "status": {"type": "string", "default": "new"},
        "qty": {"type": "number", "required": True},
        "price": {"type": "number", "required": True},
        "total": {"type": "number"},
    },
}
TOTAL = {"total": {"depends": ["qty", "price"], "expr": {"$multiply": ["$qty", "$price"]}}}
POSITIVE = {"name": "positive-qty", "on": "orders", "expr": {"$gt": ["$qty", 0]},
            "message": "qty must be positive"}  # fmt: skip
BIG = {"name": "big", "from": {"o": "orders"},
       "select": {"id": "o.id", "total": "o.total", "big": {"$gte": ["$o.total", 100]}}}  # fmt: skip


@pytest.fixture
async def logic_server() -> AsyncIterator[LocalServer]:
    """A server with the logic engine and an ``orders`` bucket."""
    async with LocalServer.from_config({"buckets": [ORDERS], "logic": True}) as srv:
        yield srv


@pytest.fixture
async def client(logic_server: LocalServer, client_factory: ClientFactory) -> Client:
    return await client_factory(logic_server)


async def insert(client: Client, **data: Any) -> dict[str, Any]:
    record = await client.ok("store.insert", bucket="orders", data=data)
    assert isinstance(record, dict)
    return record


# -- availability -----------------------------------------------------------------------------

ALL_OPS: dict[str, dict[str, Any]] = {
    "logic.defineComputed": {"bucket": "orders", "fields": TOTAL},
    "logic.dropComputed": {"bucket": "orders"},
    "logic.listComputed": {},
    "logic.defineView": {"definition": BIG},
    "logic.dropView": {"name": "big"},
    "logic.queryView": {"name": "big"},
    "logic.explainView": {"name": "big"},
    "logic.listViews": {},
    "logic.subscribeView": {"name": "big"},
    "logic.unsubscribeView": {"subscriptionId": "sub-1"},
    "logic.defineConstraint": {"constraint": POSITIVE},
    "logic.dropConstraint": {"name": "positive-qty"},
    "logic.listConstraints": {},
    "logic.evaluateExpr": {"expr": {"$add": [2, 3]}},
}


async def test_without_a_logic_engine_every_logic_op_fails_like_rules_do(
    client_factory: ClientFactory,
) -> None:
    async with LocalServer(buckets=[ORDERS]) as srv:
        client = await client_factory(srv)
        for op, fields in ALL_OPS.items():
            error = await client.error(op, **fields)
            assert (error["code"], error["message"]) == (
                "LOGIC_NOT_AVAILABLE",
                "Logic engine is not configured",
            ), op
            assert "details" not in error
        unknown = await client.error("logic.nope")
        assert unknown["code"] == "LOGIC_NOT_AVAILABLE"


async def test_with_the_engine_every_op_is_routed(client: Client) -> None:
    for op, fields in ALL_OPS.items():
        frame = await client.request(op, **fields)
        assert frame["type"] == "result" or frame["code"] != "UNKNOWN_OPERATION", op
    unknown = await client.error("logic.nope")
    assert (unknown["code"], unknown["message"]) == (
        "UNKNOWN_OPERATION",
        'Unknown logic operation "logic.nope"',
    )


# -- computed fields ----------------------------------------------------------------------------


async def test_computed_fields_are_set_on_insert_and_recomputed_when_a_dependency_changes(
    client: Client,
) -> None:
    defined = await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
    assert defined == {"bucket": "orders", "defined": True}
    record = await insert(client, qty=2, price=5, total=999)
    assert record["total"] == 10  # the server owns computed fields
    status_only = await client.ok(
        "store.update", bucket="orders", key=record["id"], data={"status": "paid", "total": 1}
    )
    assert status_only["total"] == 10
    assert status_only["_version"] == 2
    repriced = await client.ok("store.update", bucket="orders", key=record["id"], data={"qty": 3})
    assert repriced["total"] == 15
    stored = await client.ok("store.get", bucket="orders", key=record["id"])
    assert stored["total"] == 15


async def test_computed_fields_chain_and_default_their_dependencies(client: Client) -> None:
    fields = {
        "total": {"expr": {"$multiply": ["$qty", "$price"]}},
        "label": {"depends": ["total"], "expr": {"$concat": ["$status", ":", "$total"]}},
    }
    await client.ok("logic.defineComputed", bucket="orders", fields=fields)
    record = await insert(client, qty=1, price=4)
    assert (record["total"], record["label"]) == (4, "new:4")
    updated = await client.ok("store.update", bucket="orders", key=record["id"], data={"qty": 2})
    assert (updated["total"], updated["label"]) == (8, "new:8")
    listed = await client.ok("logic.listComputed")
    assert listed == [{"bucket": "orders", "fields": fields}]


async def test_a_computed_value_must_fit_the_schema(client: Client) -> None:
    fields = {"total": {"depends": ["qty"], "expr": {"$concat": ["$qty"]}}}
    await client.ok("logic.defineComputed", bucket="orders", fields=fields)
    error = await client.error("store.insert", bucket="orders", data={"qty": 1, "price": 1})
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [
        {"field": "total", "message": 'Expected type "number", got string', "code": "type"}
    ]
    assert await client.ok("store.count", bucket="orders") == 0


async def test_the_schema_may_require_a_computed_field(client_factory: ClientFactory) -> None:
    required = {
        **ORDERS,
        "schema": {**ORDERS["schema"], "total": {"type": "number", "required": True}},
    }
    async with LocalServer.from_config({"buckets": [required], "logic": True}) as srv:
        client = await client_factory(srv)
        missing = await client.error("store.insert", bucket="orders", data={"qty": 1, "price": 2})
        assert missing["details"][0]["message"] == "Field is required"
        await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
        record = await insert(client, qty=1, price=2)
        assert record["total"] == 2
        # A value sent for the computed field is replaced before validation.
        updated = await client.ok(
            "store.update", bucket="orders", key=record["id"], data={"total": "x", "qty": 2}
        )
        assert updated["total"] == 4


async def test_computed_fields_apply_in_transactions(client: Client) -> None:
    await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
    ops = [{"op": "insert", "bucket": "orders", "data": {"qty": 3, "price": 3}}]
    result = await client.ok("store.transaction", operations=ops)
    assert result["results"][0]["data"]["total"] == 9


async def test_drop_and_replace_computed_fields(client: Client) -> None:
    await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
    double = {"total": {"depends": ["qty"], "expr": {"$multiply": ["$qty", 2]}}}
    await client.ok("logic.defineComputed", bucket="orders", fields=double)
    assert (await insert(client, qty=4, price=1))["total"] == 8
    assert await client.ok("logic.dropComputed", bucket="orders") == {"dropped": True}
    assert await client.ok("logic.dropComputed", bucket="orders") == {"dropped": False}
    assert "total" not in await insert(client, qty=4, price=1)
    assert await client.ok("logic.listComputed") == []


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        (None, "VALIDATION_ERROR", 'Missing or invalid "fields": expected object'),
        ({}, "VALIDATION_ERROR", '"fields" must define at least one computed field'),
        ({"t": 1}, "VALIDATION_ERROR", "fields.t: expected an object {depends, expr}"),
        ({"t": {"depends": []}}, "VALIDATION_ERROR", 'fields.t: missing "expr"'),
        ({"t": {"depends": "qty", "expr": 1}}, "VALIDATION_ERROR",
         "fields.t.depends: expected an array of field names"),
        ({"id": {"expr": 1}}, "VALIDATION_ERROR", 'fields.id: the key field "id" cannot be computed'),
        ({"_version": {"expr": 1}}, "VALIDATION_ERROR", "fields._version: metadata fields cannot be computed"),
        ({"t": {"expr": {"$nope": 1}}}, "VALIDATION_ERROR",
         'Invalid expression at fields.t.expr: unknown operator "$nope"'),
    ],
)  # fmt: skip
async def test_bad_computed_definitions(
    client: Client, fields: Any, code: str, message: str
) -> None:
    error = await client.error("logic.defineComputed", bucket="orders", fields=fields)
    assert (error["code"], error["message"]) == (code, message)


async def test_computed_fields_need_an_existing_bucket(client: Client) -> None:
    error = await client.error("logic.defineComputed", bucket="nope", fields=TOTAL)
    assert (error["code"], error["message"]) == (
        "BUCKET_NOT_DEFINED",
        'Bucket "nope" is not defined',
    )
    missing = await client.error("logic.defineComputed", fields=TOTAL)
    assert missing["message"] == 'Missing or invalid "bucket": expected non-empty string'


# -- constraints --------------------------------------------------------------------------------


async def test_a_constraint_refuses_inserts_and_updates_and_writes_nothing(client: Client) -> None:
    assert await client.ok("logic.defineConstraint", constraint=POSITIVE) == {
        "name": "positive-qty",
        "defined": True,
    }
    error = await client.error("store.insert", bucket="orders", data={"qty": 0, "price": 1})
    assert error == {
        "id": error["id"],
        "type": "error",
        "code": "VALIDATION_ERROR",
        "message": "qty must be positive",
        "details": {"constraint": "positive-qty", "bucket": "orders"},
    }
    assert await client.ok("store.count", bucket="orders") == 0
    record = await insert(client, qty=1, price=1)
    refused = await client.error(
        "store.update", bucket="orders", key=record["id"], data={"qty": -1}
    )
    assert refused["message"] == "qty must be positive"
    stored = await client.ok("store.get", bucket="orders", key=record["id"])
    assert (stored["qty"], stored["_version"]) == (1, 1)


async def test_constraints_see_computed_fields(client: Client) -> None:
    await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
    cap = {"name": "cap", "on": "orders", "expr": {"$lte": ["$total", 100]}, "message": "too big"}
    await client.ok("logic.defineConstraint", constraint=cap)
    error = await client.error("store.insert", bucket="orders", data={"qty": 11, "price": 10})
    assert error["message"] == "too big"


async def test_constraints_hold_inside_transactions(client: Client) -> None:
    await client.ok("logic.defineConstraint", constraint=POSITIVE)
    ops = [
        {"op": "insert", "bucket": "orders", "data": {"qty": 1, "price": 1}},
        {"op": "insert", "bucket": "orders", "data": {"qty": 0, "price": 1}},
    ]
    error = await client.error("store.transaction", operations=ops)
    assert (error["code"], error["message"]) == ("VALIDATION_ERROR", "qty must be positive")
    assert await client.ok("store.count", bucket="orders") == 0


async def test_constraints_hold_inside_procedures(client: Client) -> None:
    await client.ok("logic.defineConstraint", constraint=POSITIVE)
    steps = [{"action": "store.insert", "bucket": "orders", "data": {"qty": 0, "price": 1}}]
    await client.ok("procedures.register", procedure={"name": "p", "steps": steps})
    error = await client.error("procedures.call", name="p")
    assert error == {"id": error["id"], "type": "error", "code": "VALIDATION_ERROR",
                     "message": "qty must be positive"}  # fmt: skip


async def test_dropping_a_constraint_lifts_the_check(client: Client) -> None:
    await client.ok("logic.defineConstraint", constraint=POSITIVE)
    assert await client.ok("logic.listConstraints") == [POSITIVE]
    assert await client.ok("logic.dropConstraint", name="positive-qty") == {"dropped": True}
    assert await client.ok("logic.dropConstraint", name="positive-qty") == {"dropped": False}
    assert (await insert(client, qty=0, price=1))["qty"] == 0
    assert await client.ok("logic.listConstraints") == []


@pytest.mark.parametrize(
    ("constraint", "code", "message"),
    [
        ({"on": "orders", "expr": True}, "VALIDATION_ERROR", "constraint.name: expected non-empty string"),
        ({"name": "c", "expr": True}, "VALIDATION_ERROR",
         "constraint.on: expected non-empty string (a bucket name)"),
        ({"name": "c", "on": "orders"}, "VALIDATION_ERROR", 'constraint.expr: missing "expr"'),
        ({"name": "c", "on": "orders", "expr": {"$gt": 1}}, "VALIDATION_ERROR",
         "Invalid expression at constraint.expr: $gt expects a list of arguments, got number"),
        ({"name": "c", "on": "nope", "expr": True}, "BUCKET_NOT_DEFINED", 'Bucket "nope" is not defined'),
    ],
)  # fmt: skip
async def test_bad_constraints(client: Client, constraint: Any, code: str, message: str) -> None:
    error = await client.error("logic.defineConstraint", constraint=constraint)
    assert (error["code"], error["message"]) == (code, message)


async def test_a_constraint_without_message_has_a_default_one(client: Client) -> None:
    await client.ok(
        "logic.defineConstraint", constraint={"name": "never", "on": "orders", "expr": False}
    )
    error = await client.error("store.insert", bucket="orders", data={"qty": 1, "price": 1})
    assert error["message"] == 'Constraint "never" violated'


# -- views ------------------------------------------------------------------------------------


async def test_define_query_explain_list_and_drop_a_view(client: Client) -> None:
    await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
    small, large = await insert(client, qty=1, price=5), await insert(client, qty=10, price=20)
    assert await client.ok("logic.defineView", definition=BIG) == {"name": "big", "defined": True}
    assert await client.ok("logic.queryView", name="big") == [
        {"id": small["id"], "total": 5, "big": False},
        {"id": large["id"], "total": 200, "big": True},
    ]
    explained = await client.ok("logic.explainView", name="big")
    assert explained["name"] == "big"
    assert explained["sources"] == {"o": "orders"}
    assert explained["plan"] == [{"alias": "o", "bucket": "orders", "access": "scan"}]
    assert (explained["aggregate"], explained["subscriptions"]) == (False, 0)
    assert await client.ok("logic.listViews") == [BIG]
    assert await client.ok("logic.dropView", name="big") == {"dropped": True}
    assert await client.ok("logic.dropView", name="big") == {"dropped": False}
    missing = await client.error("logic.queryView", name="big")
    assert (missing["code"], missing["message"]) == ("NOT_FOUND", 'View "big" not found')
    assert (await client.error("logic.explainView", name="big"))["code"] == "NOT_FOUND"


async def test_view_subscriptions_push_only_when_the_result_changes(client: Client) -> None:
    await client.ok("logic.defineView", definition=BIG)
    subscribed = await client.ok("logic.subscribeView", name="big")
    assert subscribed == {"subscriptionId": "sub-1", "data": []}
    record = await insert(client, qty=1, price=1, total=150)
    await client.ok("logic.listViews")  # the push of the insert precedes this result
    assert client.pushes == [{"type": "push", "channel": "subscription", "subscriptionId": "sub-1",
                              "data": [{"id": record["id"], "total": 150, "big": True}]}]  # fmt: skip
    await client.ok("store.update", bucket="orders", key=record["id"], data={"status": "x"})
    await client.ok("logic.listViews")
    assert len(client.pushes) == 1  # the selected fields did not change: no push
    await client.ok("store.delete", bucket="orders", key=record["id"])
    await client.ok("logic.listViews")
    assert client.pushes[-1]["data"] == []
    assert await client.ok("logic.unsubscribeView", subscriptionId="sub-1") == {
        "unsubscribed": True
    }
    await insert(client, qty=1, price=1, total=1)
    await client.ok("logic.listViews")
    assert len(client.pushes) == 2
    again = await client.error("logic.unsubscribeView", subscriptionId="sub-1")
    assert (again["code"], again["message"]) == ("NOT_FOUND", 'Subscription "sub-1" not found')


async def test_a_transaction_pushes_the_final_view_once(client: Client) -> None:
    await client.ok("logic.defineView", definition=BIG)
    await client.ok("logic.subscribeView", name="big")
    ops = [{"op": "insert", "bucket": "orders", "data": {"qty": 1, "price": 1, "total": t}}
           for t in (1, 2, 3)]  # fmt: skip
    await client.ok("store.transaction", operations=ops)
    await client.ok("logic.listViews")
    assert [[row["total"] for row in p["data"]] for p in client.pushes] == [[1, 2, 3]]


async def test_view_pushes_reach_other_connections_and_end_with_them(
    logic_server: LocalServer, client: Client, client_factory: ClientFactory
) -> None:
    await client.ok("logic.defineView", definition=BIG)
    watcher = await client_factory(logic_server)
    sub = await watcher.ok("logic.subscribeView", name="big")
    store_sub = await client.ok("rules.subscribe", pattern="*")
    assert (sub["subscriptionId"], store_sub["subscriptionId"]) == ("sub-1", "sub-2")
    await insert(client, qty=1, price=1, total=7)
    push = await watcher.recv()
    assert (push["subscriptionId"], push["data"][0]["total"]) == ("sub-1", 7)
    rules_unsub = await watcher.error("rules.unsubscribe", subscriptionId="sub-1")
    assert rules_unsub["code"] == "NOT_FOUND"  # each subscription kind keeps its own table
    await watcher.ws.close()
    await logic_server.wait_until(lambda s: s.connection_count == 1)
    assert logic_server.core.logic is not None
    assert logic_server.core.logic.subscription_count == 0


async def test_dropping_a_view_ends_its_subscriptions_silently(client: Client) -> None:
    await client.ok("logic.defineView", definition=BIG)
    await client.ok("logic.subscribeView", name="big")
    await client.ok("logic.dropView", name="big")
    await insert(client, qty=1, price=1, total=1)
    await client.ok("logic.listViews")
    assert client.pushes == []
    assert await client.ok("logic.unsubscribeView", subscriptionId="sub-1") == {
        "unsubscribed": True
    }


async def test_redefining_a_view_pushes_its_new_result(client: Client) -> None:
    await client.ok("logic.defineView", definition=BIG)
    await insert(client, qty=1, price=1, total=1)
    await client.ok("logic.subscribeView", name="big")
    await client.ok("logic.defineView", definition={**BIG, "select": {"total": "o.total"}})
    await client.ok("logic.listViews")
    assert [p["data"] for p in client.pushes] == [[{"total": 1}]]


async def test_view_subscriptions_count_toward_the_limit(client_factory: ClientFactory) -> None:
    config = {"buckets": [ORDERS], "logic": True,
              "connectionLimits": {"maxSubscriptionsPerConnection": 1}}  # fmt: skip
    async with LocalServer.from_config(config) as srv:
        client = await client_factory(srv)
        await client.ok("logic.defineView", definition=BIG)
        await client.ok("logic.subscribeView", name="big")
        error = await client.error("logic.subscribeView", name="big")
        assert (error["code"], error["message"]) == (
            "RATE_LIMITED",
            "Subscription limit reached (max 1 per connection)",
        )


async def test_subscribing_to_an_unknown_view_allocates_no_id(client: Client) -> None:
    error = await client.error("logic.subscribeView", name="nope")
    assert (error["code"], error["message"]) == ("NOT_FOUND", 'View "nope" not found')
    await client.ok("logic.defineView", definition=BIG)
    assert (await client.ok("logic.subscribeView", name="big"))["subscriptionId"] == "sub-1"


# -- evaluateExpr ------------------------------------------------------------------------------


async def test_evaluate_expr(client: Client) -> None:
    assert await client.ok("logic.evaluateExpr", expr={"$add": [2, 3]}) == 5
    record = {"qty": 4, "name": "ann"}
    assert (
        await client.ok("logic.evaluateExpr", expr={"$multiply": ["$qty", 2]}, record=record) == 8
    )
    assert await client.ok("logic.evaluateExpr", expr={"$upper": "$name"}, record=record) == "ANN"
    assert await client.ok("logic.evaluateExpr", expr="$qty") is None
    assert await client.ok("logic.evaluateExpr", expr=None) is None
    bad = await client.error("logic.evaluateExpr", expr={"$nope": 1})
    assert (bad["code"], bad["message"]) == (
        "VALIDATION_ERROR",
        'Invalid expression at expr: unknown operator "$nope"',
    )
    missing = await client.error("logic.evaluateExpr")
    assert missing["message"] == 'Missing "expr": expected a value'
    record_error = await client.error("logic.evaluateExpr", expr=1, record=[1])
    assert record_error["message"] == 'Invalid "record": expected object'


# -- lifecycle --------------------------------------------------------------------------------


async def test_a_restart_keeping_data_keeps_logic_definitions(
    logic_server: LocalServer, client_factory: ClientFactory
) -> None:
    client = await client_factory(logic_server)
    await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
    await client.ok("logic.defineConstraint", constraint=POSITIVE)
    await client.ok("logic.defineView", definition=BIG)
    await logic_server.restart(keep_data=True)
    again = await client_factory(logic_server)
    assert (await insert(again, qty=2, price=2))["total"] == 4
    assert (await again.error("store.insert", bucket="orders", data={"qty": 0, "price": 1}))[
        "message"
    ] == "qty must be positive"
    assert len(await again.ok("logic.queryView", name="big")) == 1
    await logic_server.restart()
    fresh = await client_factory(logic_server)
    assert await fresh.ok("logic.listViews") == []


def test_the_logic_config_key() -> None:
    assert ServerConfig.from_config({"logic": True}).logic is True
    assert ServerConfig.from_config({"logic": {}}).logic is True
    assert ServerConfig.from_config({"logic": False}).logic is False
    assert ServerConfig.from_config({}).logic is False
    with pytest.raises(ConfigError, match="'logic' must be true, false or an object"):
        ServerConfig.from_config({"logic": "yes"})


async def test_dropping_a_bucket_drops_its_computed_fields_and_constraints(client: Client) -> None:
    await client.ok("logic.defineComputed", bucket="orders", fields=TOTAL)
    await client.ok("logic.defineConstraint", constraint=POSITIVE)
    await client.ok("logic.defineView", definition=BIG)
    await client.ok("logic.subscribeView", name="big")
    await client.ok("store.dropBucket", name="orders")
    assert await client.ok("logic.listComputed") == []
    assert await client.ok("logic.listConstraints") == []
    assert (await client.error("logic.queryView", name="big"))["code"] == "BUCKET_NOT_DEFINED"
    schema = {"id": {"type": "string", "generated": "uuid"}, **ORDERS["schema"]}
    await client.ok("store.defineBucket", name="orders", config={"key": "id", "schema": schema})
    record = await insert(client, qty=0, price=2)
    assert "total" not in record
    assert await client.ok("logic.queryView", name="big") == [
        {"id": record["id"], "total": None, "big": False}
    ]
    assert client.pushes == []  # the view's subscription ended with the bucket
