"""Handlers of the ``rules.*``, ``auth.*`` and ``server.*`` operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import RequestError, validation
from ._fields import req_obj, req_str
from ._rules import RuleEngine, validate_rule
from ._state import ConnectionState, release_subscription
from ._store._values import now_ms

if TYPE_CHECKING:
    from ._core import ServerCore

__all__ = ["AUTH_OPS", "RULES_OPS", "SERVER_OPS"]

Handler = Callable[["ServerCore", ConnectionState, dict[str, Any]], Any]


def _engine(core: ServerCore) -> RuleEngine:
    if core.rules is None:
        raise RequestError("RULES_NOT_AVAILABLE", "Rule engine is not configured")
    return core.rules


def _emit(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    topic = req_str(msg, "topic")
    data = msg.get("data")
    if data is not None and not isinstance(data, dict):
        raise validation('Invalid "data": expected object')
    correlation = msg.get("correlationId")
    if correlation is not None and (not isinstance(correlation, str) or not correlation):
        raise validation('Invalid "correlationId": expected non-empty string')
    extra: dict[str, Any] = {}
    if correlation is not None:
        extra["correlationId"] = correlation
        if "causationId" in msg:
            extra["causationId"] = msg["causationId"]
    return engine.emit(topic, data or {}, **extra)


def _set_fact(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    key = req_str(msg, "key")
    if "value" not in msg:
        raise validation('Missing "value": expected a value')
    return engine.set_fact(key, msg["value"])


def _get_fact(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    fact = engine.facts.get(req_str(msg, "key"))
    return None if fact is None else fact["value"]


def _delete_fact(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    return {"deleted": engine.delete_fact(req_str(msg, "key"))}


def _query_facts(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    return engine.query_facts(req_str(msg, "pattern"))


def _all_facts(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return list(_engine(core).facts.values())


def _rules_stats(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return _engine(core).stats()


def _rules_subscribe(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    core.check_subscription_limits(conn)
    pattern = req_str(msg, "pattern")
    sub_id = core.next_subscription_id()

    def push(sid: str, event: dict[str, Any]) -> None:
        conn.send(
            {
                "type": "push",
                "channel": "event",
                "subscriptionId": sid,
                "data": {"topic": event["topic"], "event": event},
            }
        )

    engine.subscribe(sub_id, pattern, push)
    conn.rules_subs[sub_id] = None
    return {"subscriptionId": sub_id}


def _rules_unsubscribe(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    sub_id = req_str(msg, "subscriptionId")
    release_subscription(conn.rules_subs, sub_id)
    engine.unsubscribe(sub_id)
    return {"unsubscribed": True}


def _register_rule(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine = _engine(core)
    return engine.register(req_obj(msg, "rule"))


def _rule_id(core: ServerCore, msg: dict[str, Any]) -> tuple[RuleEngine, str]:
    return _engine(core), req_str(msg, "ruleId")


def _unregister_rule(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine, rule_id = _rule_id(core, msg)
    engine.unregister(rule_id)
    return {"ruleId": rule_id, "unregistered": True}


def _update_rule(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine, rule_id = _rule_id(core, msg)
    return engine.update(rule_id, req_obj(msg, "updates"))


def _toggle(enabled: bool) -> Handler:
    def handler(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
        engine, rule_id = _rule_id(core, msg)
        engine.get(rule_id)["enabled"] = enabled
        return {"ruleId": rule_id, "enabled": enabled}

    return handler


def _get_rule(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    engine, rule_id = _rule_id(core, msg)
    return engine.get(rule_id)


def _get_rules(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return {"rules": _engine(core).summaries()}


def _validate_rule(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    _engine(core)
    issues = validate_rule(req_obj(msg, "rule"))
    return {"valid": not issues, "errors": issues, "warnings": []}


RULES_OPS: dict[str, Handler] = {
    "emit": _emit,
    "setFact": _set_fact,
    "getFact": _get_fact,
    "deleteFact": _delete_fact,
    "queryFacts": _query_facts,
    "getAllFacts": _all_facts,
    "stats": _rules_stats,
    "subscribe": _rules_subscribe,
    "unsubscribe": _rules_unsubscribe,
    "registerRule": _register_rule,
    "unregisterRule": _unregister_rule,
    "updateRule": _update_rule,
    "enableRule": _toggle(True),
    "disableRule": _toggle(False),
    "getRule": _get_rule,
    "getRules": _get_rules,
    "validateRule": _validate_rule,
}


async def _login(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    auth = core.auth
    assert auth is not None
    token = req_str(msg, "token")
    session = await auth.resolve(token)
    if session is None:
        raise RequestError("UNAUTHORIZED", "Invalid token")
    if session.expires_at is not None and session.expires_at < now_ms():
        raise RequestError("UNAUTHORIZED", "Token has expired")
    if core.revocations.contains(session.user_id):
        conn.session = None
        raise RequestError("SESSION_REVOKED", "Session has been revoked")
    conn.session = session
    return session.to_wire()


def _logout(_core: ServerCore, conn: ConnectionState, _m: dict[str, Any]) -> Any:
    conn.session = None
    return {"loggedOut": True}


def _whoami(_core: ServerCore, conn: ConnectionState, _m: dict[str, Any]) -> Any:
    session = conn.session
    if session is not None and session.expires_at is not None and session.expires_at < now_ms():
        conn.session = session = None
    if session is None:
        return {"authenticated": False}
    return {"authenticated": True, **session.to_wire()}


AUTH_OPS: dict[str, Any] = {"login": _login, "logout": _logout, "whoami": _whoami}


def _server_stats(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    conns = list(core.connections.values())
    return {
        "name": core.config.name,
        "connectionCount": len(conns),
        "authEnabled": core.auth is not None,
        "rateLimitEnabled": core.config.rate_limit is not None,
        "rulesEnabled": core.rules is not None,
        "connections": {
            "active": len(conns),
            "authenticated": sum(1 for c in conns if c.session is not None),
            "totalStoreSubscriptions": sum(len(c.store_subs) for c in conns),
            "totalRulesSubscriptions": sum(len(c.rules_subs) for c in conns),
        },
        "store": core.store.stats(),
        "rules": None if core.rules is None else core.rules.stats(),
    }


def _server_connections(core: ServerCore, _c: ConnectionState, _m: dict[str, Any]) -> Any:
    return [
        {
            "connectionId": c.id,
            "remoteAddress": c.remote_address,
            "connectedAt": c.connected_at,
            "authenticated": c.session is not None,
            "userId": None if c.session is None else c.session.user_id,
            "roles": [] if c.session is None else list(c.session.roles),
            "storeSubscriptionCount": len(c.store_subs),
            "rulesSubscriptionCount": len(c.rules_subs),
        }
        for c in core.connections.values()
    ]


SERVER_OPS: dict[str, Handler] = {"stats": _server_stats, "connections": _server_connections}
