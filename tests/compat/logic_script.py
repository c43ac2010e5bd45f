"""Scripted ``logic.*`` exchanges, written from ``logic.md`` (no recording exists yet).

One session against a server with a logic engine: expressions, a computed
field, a single-source view with a subscriber, a constraint, and the drops.
Requests are exactly the frames ``logic.md`` specifies; answers follow its
result shapes and semantics (``evaluateExpr({"$add": [2, 3]})`` is 5, a
computed field is set on insert, a view pushes its whole new result, a
constraint rejects a write with an error carrying its message). Record ids,
timestamps and the constraint's error code are not specified by ``logic.md``;
the tests never assert them.
"""

from __future__ import annotations

from typing import Any

from tests.client.replay_server import Exchange, ok

__all__ = ["ORDERS", "SCRIPT", "TOTAL", "VIEW"]

#: The ``orders`` bucket the session works on (for a server started with it).
ORDERS: dict[str, Any] = {
    "name": "orders",
    "key": "id",
    "schema": {
        "id": {"type": "string"},
        "qty": {"type": "number"},
        "price": {"type": "number"},
    },
}
TOTAL: dict[str, Any] = {"$multiply": ["$qty", "$price"]}
VIEW: dict[str, Any] = {
    "name": "order-totals",
    "from": {"o": "orders"},
    "select": {"id": "o.id", "total": "o.total"},
}
CONSTRAINT: dict[str, Any] = {
    "name": "positive-qty",
    "on": "orders",
    "expr": {"$gt": ["$qty", 0]},
    "message": "qty must be positive",
}


def _record(id_: str, qty: int, price: int, at: int) -> dict[str, Any]:
    return {"id": id_, "qty": qty, "price": price, "total": qty * price,
            "_version": 1, "_createdAt": at, "_updatedAt": at}  # fmt: skip


def _done(request_id: int) -> dict[str, Any]:
    return {"type": "result", "id": request_id}  # "ignored" results carry no data


def _push(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "push", "channel": "subscription", "subscriptionId": "sub-1", "data": rows}


ROW_1 = {"id": "o1", "total": 10}
ROW_2 = {"id": "o2", "total": 9}

SCRIPT: list[Exchange] = [
    ({"id": 1, "type": "logic.evaluateExpr", "expr": {"$add": [2, 3]}}, [ok(1, 5)]),
    ({"id": 2, "type": "logic.evaluateExpr", "expr": TOTAL, "record": {"qty": 2, "price": 5}},
     [ok(2, 10)]),
    ({"id": 3, "type": "logic.defineComputed", "bucket": "orders",
      "fields": {"total": {"depends": ["qty", "price"], "expr": TOTAL}}}, [_done(3)]),
    ({"id": 4, "type": "logic.listComputed"},
     [ok(4, [{"bucket": "orders",
              "fields": {"total": {"depends": ["qty", "price"], "expr": TOTAL}}}])]),
    ({"id": 5, "type": "store.insert", "bucket": "orders",
      "data": {"id": "o1", "qty": 2, "price": 5}}, [ok(5, _record("o1", 2, 5, 1000))]),
    ({"id": 6, "type": "logic.defineView", "definition": VIEW}, [_done(6)]),
    ({"id": 7, "type": "logic.queryView", "name": "order-totals"}, [ok(7, [ROW_1])]),
    ({"id": 8, "type": "logic.explainView", "name": "order-totals"},
     [ok(8, {"name": "order-totals", "sources": {"o": "orders"}})]),
    ({"id": 9, "type": "logic.listViews"}, [ok(9, [{"name": "order-totals", **VIEW}])]),
    ({"id": 10, "type": "logic.subscribeView", "name": "order-totals"},
     [ok(10, {"subscriptionId": "sub-1", "data": [ROW_1]})]),
    ({"id": 11, "type": "store.insert", "bucket": "orders",
      "data": {"id": "o2", "qty": 3, "price": 3}},
     [ok(11, _record("o2", 3, 3, 1001)), _push([ROW_1, ROW_2])]),
    ({"id": 12, "type": "logic.defineConstraint", "constraint": CONSTRAINT}, [_done(12)]),
    ({"id": 13, "type": "store.insert", "bucket": "orders",
      "data": {"id": "o3", "qty": 0, "price": 1}},
     [{"type": "error", "id": 13, "code": "VALIDATION_ERROR",
       "message": "qty must be positive"}]),
    ({"id": 14, "type": "logic.listConstraints"}, [ok(14, [CONSTRAINT])]),
    ({"id": 15, "type": "logic.dropConstraint", "name": "positive-qty"},
     [ok(15, {"dropped": True})]),
    ({"id": 16, "type": "logic.unsubscribeView", "subscriptionId": "sub-1"}, [_done(16)]),
    ({"id": 17, "type": "logic.unsubscribeView", "subscriptionId": "sub-99"},
     [{"type": "error", "id": 17, "code": "NOT_FOUND",
       "message": 'Subscription "sub-99" not found'}]),
    ({"id": 18, "type": "logic.dropView", "name": "order-totals"}, [ok(18, {"dropped": True})]),
    ({"id": 19, "type": "logic.dropView", "name": "order-totals"}, [ok(19, {"dropped": False})]),
    ({"id": 20, "type": "logic.dropComputed", "bucket": "orders"}, [ok(20, {"dropped": True})]),
]  # fmt: skip
