"""Handlers of the ``procedures.*`` operations (protocol §3.10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._fields import opt_obj, req_obj, req_str
from ._state import ConnectionState

if TYPE_CHECKING:
    from ._core import ServerCore

__all__ = ["PROCEDURES_OPS"]

Handler = Callable[["ServerCore", ConnectionState, dict[str, Any]], Any]


def _register(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    return core.procedures.register(req_obj(msg, "procedure"))


def _unregister(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    return core.procedures.unregister(req_str(msg, "name"))


def _update(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, updates = req_str(msg, "name"), req_obj(msg, "updates")
    return core.procedures.update(name, updates)


def _get(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    return core.procedures.get(req_str(msg, "name"))


def _list(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return core.procedures.summaries()


def _call(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    name, given = req_str(msg, "name"), opt_obj(msg, "input") or {}
    return core.procedures.call(name, given, core.store, core.rules)


PROCEDURES_OPS: dict[str, Handler] = {
    "register": _register,
    "unregister": _unregister,
    "update": _update,
    "get": _get,
    "list": _list,
    "call": _call,
}
