"""Handlers of the ``logic.*`` operations (server started with ``"logic": true``).

Results are those of ``logic.md``: ``{dropped}`` for the drops, lists for the
listings and ``queryView``, ``{subscriptionId, data}`` for ``subscribeView``,
the bare value for ``evaluateExpr``. Where the spec calls the result
"ignored" the handlers answer the way the store's admin operations do:
``{bucket, defined: true}`` / ``{name, defined: true}`` for the definitions
and ``{unsubscribed: true}`` for ``unsubscribeView``.

View pushes use the frame of store subscriptions (protocol §3.3):
``{"type": "push", "channel": "subscription", "subscriptionId": "sub-N",
"data": <the view's whole new result>}``. View subscription ids come from the
one ``sub-N`` counter, count toward the subscription limits (§2.6), and end
with the connection. A server without a logic engine answers every
``logic.*`` request with ``LOGIC_NOT_AVAILABLE`` "Logic engine is not
configured", the way rules answer without a rule engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import RequestError, validation
from ._fields import opt_obj, req_obj, req_str
from ._logic import LogicEngine
from ._state import ConnectionState, release_subscription

if TYPE_CHECKING:
    from ._core import ServerCore

__all__ = ["LOGIC_OPS", "logic_engine"]

Handler = Callable[["ServerCore", ConnectionState, dict[str, Any]], Any]


def logic_engine(core: ServerCore) -> LogicEngine:
    """The server's logic engine.

    Raises:
        RequestError: ``LOGIC_NOT_AVAILABLE`` without ``"logic": true``.
    """
    if core.logic is None:
        raise RequestError("LOGIC_NOT_AVAILABLE", "Logic engine is not configured")
    return core.logic


def _define_computed(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    bucket, fields = req_str(msg, "bucket"), req_obj(msg, "fields")
    engine.define_computed(bucket, fields)
    return {"bucket": bucket, "defined": True}


def _drop_computed(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    return {"dropped": engine.drop_computed(req_str(msg, "bucket"))}


def _list_computed(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return logic_engine(core).list_computed()


def _define_view(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    return {"name": engine.define_view(req_obj(msg, "definition")), "defined": True}


def _drop_view(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    return {"dropped": engine.drop_view(req_str(msg, "name"))}


def _query_view(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    return engine.query_view(req_str(msg, "name"))


def _explain_view(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    return engine.explain_view(req_str(msg, "name"))


def _list_views(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return logic_engine(core).list_views()


def _subscribe_view(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    core.check_subscription_limits(conn)
    name = req_str(msg, "name")
    engine.view(name)  # NOT_FOUND before an id is allocated
    sub_id = core.next_subscription_id()

    def push(sid: str, rows: list[dict[str, Any]]) -> None:
        conn.send({"type": "push", "channel": "subscription", "subscriptionId": sid, "data": rows})

    rows = engine.subscribe_view(sub_id, name, push)
    conn.view_subs[sub_id] = None
    return {"subscriptionId": sub_id, "data": rows}


def _unsubscribe_view(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    sub_id = req_str(msg, "subscriptionId")
    release_subscription(conn.view_subs, sub_id)
    engine.unsubscribe_view(sub_id)
    return {"unsubscribed": True}


def _define_constraint(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    return {"name": engine.define_constraint(req_obj(msg, "constraint")), "defined": True}


def _drop_constraint(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    return {"dropped": engine.drop_constraint(req_str(msg, "name"))}


def _list_constraints(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return logic_engine(core).list_constraints()


def _evaluate_expr(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = logic_engine(core)
    if "expr" not in msg:
        raise validation('Missing "expr": expected a value')
    return engine.evaluate(msg["expr"], opt_obj(msg, "record"))


LOGIC_OPS: dict[str, Handler] = {
    "defineComputed": _define_computed,
    "dropComputed": _drop_computed,
    "listComputed": _list_computed,
    "defineView": _define_view,
    "dropView": _drop_view,
    "queryView": _query_view,
    "explainView": _explain_view,
    "listViews": _list_views,
    "subscribeView": _subscribe_view,
    "unsubscribeView": _unsubscribe_view,
    "defineConstraint": _define_constraint,
    "dropConstraint": _drop_constraint,
    "listConstraints": _list_constraints,
    "evaluateExpr": _evaluate_expr,
}
