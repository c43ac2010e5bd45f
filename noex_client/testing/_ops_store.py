"""Handlers of the ``store.*`` operations (data, admin, subscriptions, transactions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import validation
from ._fields import opt_obj, req_key, req_obj, req_posint, req_str
from ._state import ConnectionState, release_subscription
from ._store import run_transaction
from ._store._values import UNDEFINED

if TYPE_CHECKING:
    from ._core import ServerCore

__all__ = ["STORE_OPS"]

Handler = Callable[["ServerCore", ConnectionState, dict[str, Any]], Any]
_TX_OPS = ("get", "insert", "update", "delete", "where", "findOne", "count")


def _insert(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, data = req_str(msg, "bucket"), req_obj(msg, "data")
    return core.store.bucket(name).insert(data)


def _get(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, key = req_str(msg, "bucket"), req_key(msg)
    return core.store.bucket(name).get(key)


def _update(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, key, data = req_str(msg, "bucket"), req_key(msg), req_obj(msg, "data")
    return core.store.bucket(name).update(key, data)


def _delete(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, key = req_str(msg, "bucket"), req_key(msg)
    core.store.bucket(name).delete(key)
    return {"deleted": True}


def _all(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    return core.store.bucket(req_str(msg, "bucket")).records()


def _where(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, flt = req_str(msg, "bucket"), req_obj(msg, "filter")
    return core.store.bucket(name).where(flt)


def _find_one(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, flt = req_str(msg, "bucket"), req_obj(msg, "filter")
    return core.store.bucket(name).find_one(flt)


def _count(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, flt = req_str(msg, "bucket"), opt_obj(msg, "filter")
    return core.store.bucket(name).count(flt)


def _first(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, n = req_str(msg, "bucket"), req_posint(msg, "n")
    return core.store.bucket(name).first(n)


def _last(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, n = req_str(msg, "bucket"), req_posint(msg, "n")
    return core.store.bucket(name).last(n)


def _paginate(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, limit = req_str(msg, "bucket"), req_posint(msg, "limit")
    return core.store.bucket(name).paginate(limit, msg.get("after", UNDEFINED))


def _aggregate(kind: str) -> Handler:
    def handler(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
        name, field, flt = req_str(msg, "bucket"), req_str(msg, "field"), opt_obj(msg, "filter")
        return core.store.bucket(name).aggregate(kind, field, flt)

    return handler


def _clear(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    core.store.bucket(req_str(msg, "bucket")).clear()
    return {"cleared": True}


def _buckets(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return core.store.bucket_names()


def _stats(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return core.store.stats()


def _define_bucket(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, config = req_str(msg, "name"), req_obj(msg, "config")
    core.store.define_bucket(name, config)
    return {"name": name, "created": True}


def _drop_bucket(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name = req_str(msg, "name")
    core.store.drop_bucket(name)
    core.reactive.drop_bucket(name)
    if core.logic is not None:
        core.logic.drop_bucket(name)
    return {"name": name, "dropped": True}


def _update_bucket(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, updates = req_str(msg, "name"), req_obj(msg, "updates")
    core.store.update_bucket(name, updates)
    return {"name": name, "updated": True}


def _bucket_schema(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name = req_str(msg, "name")
    return {"name": name, "config": core.store.bucket_schema(name)}


def _define_query(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, config = req_str(msg, "name"), req_obj(msg, "config")
    core.store.define_query(name, config=config)
    return {"name": name, "defined": True}


def _undefine_query(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name = req_str(msg, "name")
    core.store.undefine_query(name)
    core.reactive.drop_query(name)
    return {"name": name, "undefined": True}


def _list_queries(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return {"queries": core.store.list_queries()}


def _subscribe(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    core.check_subscription_limits(conn)
    query = req_str(msg, "query")
    params = msg.get("params")
    core.store.query(query)  # QUERY_NOT_DEFINED before allocating an id
    sub_id = core.next_subscription_id()

    def push(sid: str, data: Any) -> None:
        frame: dict[str, Any] = {"type": "push", "channel": "subscription", "subscriptionId": sid}
        if data is not UNDEFINED:
            frame["data"] = data
        conn.send(frame)

    initial = core.reactive.subscribe(sub_id, query, params, push)
    conn.store_subs[sub_id] = None
    if core.early_subscription_push:
        push(sub_id, initial)  # the race the real server can show: push before result
    result: dict[str, Any] = {"subscriptionId": sub_id}
    if initial is not UNDEFINED:
        result["data"] = initial
    return result


def _unsubscribe(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    sub_id = req_str(msg, "subscriptionId")
    release_subscription(conn.store_subs, sub_id)
    core.reactive.unsubscribe(sub_id)
    return {"unsubscribed": True}


def _validate_tx(operations: object) -> list[Mapping[str, Any]]:
    if not isinstance(operations, list):
        raise validation('Missing or invalid "operations": expected array')
    if not operations:
        raise validation('"operations" must contain at least one operation')
    for i, op in enumerate(operations):
        if not isinstance(op, dict):
            raise validation(f"operations[{i}]: expected object")
        kind = op.get("op")
        if kind not in _TX_OPS:
            raise validation(
                f'operations[{i}]: invalid "op" \u2014 expected one of: {", ".join(_TX_OPS)}'
            )
        if not isinstance(op.get("bucket"), str) or not op["bucket"]:
            raise validation(f'operations[{i}]: missing or invalid "bucket"')
        if kind in ("get", "update", "delete") and op.get("key") is None:
            raise validation(f'operations[{i}]: "{kind}" requires "key"')
        if kind in ("insert", "update") and not isinstance(op.get("data"), dict):
            raise validation(f'operations[{i}]: "{kind}" requires "data" object')
        if kind in ("where", "findOne") and not isinstance(op.get("filter"), dict):
            raise validation(f'operations[{i}]: "{kind}" requires "filter" object')
    return operations


def _transaction(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    operations = _validate_tx(msg.get("operations"))
    return {"results": run_transaction(core.store, operations)}


STORE_OPS: dict[str, Handler] = {
    "insert": _insert,
    "get": _get,
    "update": _update,
    "delete": _delete,
    "all": _all,
    "where": _where,
    "findOne": _find_one,
    "count": _count,
    "first": _first,
    "last": _last,
    "paginate": _paginate,
    "sum": _aggregate("sum"),
    "avg": _aggregate("avg"),
    "min": _aggregate("min"),
    "max": _aggregate("max"),
    "clear": _clear,
    "buckets": _buckets,
    "stats": _stats,
    "defineBucket": _define_bucket,
    "dropBucket": _drop_bucket,
    "updateBucket": _update_bucket,
    "getBucketSchema": _bucket_schema,
    "defineQuery": _define_query,
    "undefineQuery": _undefine_query,
    "listQueries": _list_queries,
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "transaction": _transaction,
}
