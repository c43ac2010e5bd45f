"""Every documented client method, keyed by the wire op it sends.

Each :class:`ApiCall` knows how to call the method that produces a recorded
request frame (its arguments are taken from the frame) and what the method
documents as its Python result for the recorded response ``data``. The
conformance tests drive every recorded ``send`` frame through this table;
the porting guide's operation table is checked against it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from noex_client import NoexClient

__all__ = ["CALLS", "ApiCall", "call_for"]

Invoke = Callable[[NoexClient, dict[str, Any]], Awaitable[Any]]


def _same(data: Any) -> Any:
    return data


def _none(_data: Any) -> None:
    return None


def _key(name: str) -> Callable[[Any], Any]:
    """The published method returns ``data[name]`` (the server's wrapper removed)."""
    return lambda data: data[name]


def _whoami(data: Any) -> Any:
    """``auth.whoami()``: the session without ``authenticated``, or ``None``."""
    if not data.get("authenticated"):
        return None
    session = {"userId": data["userId"], "roles": data["roles"]}
    if data.get("expiresAt") is not None:
        session["expiresAt"] = data["expiresAt"]
    return session


@dataclass(frozen=True)
class ApiCall:
    """One client method and the wire op it sends.

    Attributes:
        op: The wire ``type``.
        method: How users call it (documentation, the porting guide's table).
        required: Fields the method always sends.
        optional: Fields it sends when the argument is given (``None`` = absent).
        invoke: Calls the method with arguments taken from a recorded frame.
        expect: The documented Python result for the response ``data``.
        spread: The method spreads a user dict into the frame (any extra field).
        nullable: Fields sent as an explicit JSON ``null`` when ``None``.
    """

    op: str
    method: str
    required: frozenset[str]
    optional: frozenset[str]
    invoke: Invoke
    expect: Callable[[Any], Any] = _same
    spread: bool = False
    nullable: frozenset[str] = frozenset()

    def producible(self, frame: dict[str, Any]) -> bool:
        """Whether this method can send exactly ``frame`` (else it is a deliberately
        malformed request, e.g. a missing required field)."""
        fields = {k: v for k, v in frame.items() if k not in ("id", "type")}
        if not self.required <= set(fields):
            return False
        for name, value in fields.items():
            if value is None and name not in self.nullable:
                return False  # the client omits None: a recorded null is not producible
            if not self.spread and name not in self.required | self.optional:
                return False
        return True


CALLS: dict[str, ApiCall] = {}


def _add(
    op: str,
    method: str,
    required: str = "",
    optional: str = "",
    *,
    invoke: Invoke,
    expect: Callable[[Any], Any] = _same,
    spread: bool = False,
    nullable: str = "",
) -> None:
    CALLS[op] = ApiCall(
        op,
        method,
        frozenset(required.split()),
        frozenset(optional.split()),
        invoke,
        expect,
        spread,
        frozenset(nullable.split()),
    )


def call_for(frame: Any) -> ApiCall | None:
    """The method producing ``frame``, or ``None`` if no documented method can."""
    if not isinstance(frame, dict):
        return None
    call = CALLS.get(str(frame.get("type")))
    return call if call is not None and call.producible(frame) else None


def _spread(frame: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in frame.items() if k not in ("id", "type", *drop)}


async def _store_subscribe(c: NoexClient, f: dict[str, Any]) -> Any:
    seen: list[Any] = []
    unsubscribe = await c.store.subscribe(f["query"], seen.append, f.get("params"))
    assert callable(unsubscribe)
    return seen[0]


async def _rules_subscribe(c: NoexClient, f: dict[str, Any]) -> Any:
    unsubscribe = await c.rules.subscribe(f["pattern"], lambda _e, _t: None)
    assert callable(unsubscribe)
    return None


def _b(c: NoexClient, f: dict[str, Any]) -> Any:
    return c.store.bucket(f["bucket"])


# -- store data ----------------------------------------------------------------------------
_add("store.insert", "store.bucket(b).insert(data)", "bucket data",
     invoke=lambda c, f: _b(c, f).insert(f["data"]))  # fmt: skip
_add("store.get", "store.bucket(b).get(key)", "bucket key",
     invoke=lambda c, f: _b(c, f).get(f["key"]))  # fmt: skip
_add("store.update", "store.bucket(b).update(key, data)", "bucket key data",
     invoke=lambda c, f: _b(c, f).update(f["key"], f["data"]))  # fmt: skip
_add("store.delete", "store.bucket(b).delete(key)", "bucket key",
     invoke=lambda c, f: _b(c, f).delete(f["key"]), expect=_none)  # fmt: skip
_add("store.all", "store.bucket(b).all()", "bucket",
     invoke=lambda c, f: _b(c, f).all())  # fmt: skip
_add("store.where", "store.bucket(b).where(filter)", "bucket filter",
     invoke=lambda c, f: _b(c, f).where(f["filter"]))  # fmt: skip
_add("store.findOne", "store.bucket(b).find_one(filter)", "bucket filter",
     invoke=lambda c, f: _b(c, f).find_one(f["filter"]))  # fmt: skip
_add("store.count", "store.bucket(b).count(filter=None)", "bucket", "filter",
     invoke=lambda c, f: _b(c, f).count(f.get("filter")), expect=int)  # fmt: skip
_add("store.first", "store.bucket(b).first(n)", "bucket n",
     invoke=lambda c, f: _b(c, f).first(f["n"]))  # fmt: skip
_add("store.last", "store.bucket(b).last(n)", "bucket n",
     invoke=lambda c, f: _b(c, f).last(f["n"]))  # fmt: skip
_add("store.paginate", "store.bucket(b).paginate(limit=..., after=...)", "bucket limit", "after",
     invoke=lambda c, f: _b(c, f).paginate(limit=f["limit"], after=f.get("after")))  # fmt: skip


def _aggregate(name: str) -> Invoke:
    def invoke(c: NoexClient, f: dict[str, Any]) -> Awaitable[Any]:
        method: Callable[..., Awaitable[Any]] = getattr(_b(c, f), name)
        return method(f["field"], f.get("filter"))

    return invoke


for _agg in ("sum", "avg", "min", "max"):
    _add(f"store.{_agg}", f"store.bucket(b).{_agg}(field, filter=None)", "bucket field",
         "filter", invoke=_aggregate(_agg))  # fmt: skip
_add("store.clear", "store.bucket(b).clear()", "bucket",
     invoke=lambda c, f: _b(c, f).clear(), expect=_none)  # fmt: skip

# -- store subscriptions, transactions, administration ----------------------------------------
_add("store.subscribe", "store.subscribe(query, callback, params=None)", "query", "params",
     invoke=_store_subscribe, expect=lambda d: d.get("data"))  # fmt: skip
_add("store.unsubscribe", "store.unsubscribe(subscription_id)", "subscriptionId",
     invoke=lambda c, f: c.store.unsubscribe(f["subscriptionId"]), expect=_none)  # fmt: skip
_add("store.transaction", "store.transaction(operations)", "operations",
     invoke=lambda c, f: c.store.transaction(f["operations"]))  # fmt: skip
_add("store.defineBucket", "store.define_bucket(name, config)", "name config",
     invoke=lambda c, f: c.store.define_bucket(f["name"], f["config"]))  # fmt: skip
_add("store.updateBucket", "store.update_bucket(name, updates)", "name updates",
     invoke=lambda c, f: c.store.update_bucket(f["name"], f["updates"]))  # fmt: skip
_add("store.getBucketSchema", "store.get_bucket_schema(name)", "name",
     invoke=lambda c, f: c.store.get_bucket_schema(f["name"]))  # fmt: skip
_add("store.dropBucket", "store.drop_bucket(name)", "name",
     invoke=lambda c, f: c.store.drop_bucket(f["name"]))  # fmt: skip
_add("store.defineQuery", "store.define_query(name, config)", "name config",
     invoke=lambda c, f: c.store.define_query(f["name"], f["config"]))  # fmt: skip
_add("store.undefineQuery", "store.undefine_query(name)", "name",
     invoke=lambda c, f: c.store.undefine_query(f["name"]))  # fmt: skip
_add("store.listQueries", "store.list_queries()",
     invoke=lambda c, f: c.store.list_queries())  # fmt: skip
_add("store.buckets", "store.buckets()",
     invoke=lambda c, f: c.store.buckets())  # fmt: skip
_add("store.stats", "store.stats()",
     invoke=lambda c, f: c.store.stats())  # fmt: skip

# -- rules -------------------------------------------------------------------------------------
_add("rules.emit", "rules.emit(topic, data, correlation_id=, causation_id=)", "topic",
     "data correlationId causationId",
     invoke=lambda c, f: c.rules.emit(f["topic"], f.get("data"), correlation_id=f.get(
         "correlationId"), causation_id=f.get("causationId")))  # fmt: skip
_add("rules.setFact", "rules.set_fact(key, value)", "key value", nullable="value",
     invoke=lambda c, f: c.rules.set_fact(f["key"], f["value"]))  # fmt: skip
_add("rules.getFact", "rules.get_fact(key)", "key",
     invoke=lambda c, f: c.rules.get_fact(f["key"]))  # fmt: skip
_add("rules.deleteFact", "rules.delete_fact(key)", "key",
     invoke=lambda c, f: c.rules.delete_fact(f["key"]),
     expect=lambda d: bool(d["deleted"]))  # fmt: skip
_add("rules.queryFacts", "rules.query_facts(pattern)", "pattern",
     invoke=lambda c, f: c.rules.query_facts(f["pattern"]))  # fmt: skip
_add("rules.getAllFacts", "rules.get_all_facts()",
     invoke=lambda c, f: c.rules.get_all_facts())  # fmt: skip
_add("rules.stats", "rules.stats()",
     invoke=lambda c, f: c.rules.stats())  # fmt: skip
_add("rules.subscribe", "rules.subscribe(pattern, callback)", "pattern",
     invoke=_rules_subscribe, expect=_none)  # fmt: skip
_add("rules.unsubscribe", "rules.unsubscribe(subscription_id)", "subscriptionId",
     invoke=lambda c, f: c.rules.unsubscribe(f["subscriptionId"]), expect=_none)  # fmt: skip
_add("rules.registerRule", "rules.register_rule(rule)", "rule",
     invoke=lambda c, f: c.rules.register_rule(f["rule"]))  # fmt: skip
_add("rules.unregisterRule", "rules.unregister_rule(rule_id)", "ruleId",
     invoke=lambda c, f: c.rules.unregister_rule(f["ruleId"]))  # fmt: skip
_add("rules.updateRule", "rules.update_rule(rule_id, updates)", "ruleId updates",
     invoke=lambda c, f: c.rules.update_rule(f["ruleId"], f["updates"]))  # fmt: skip
_add("rules.enableRule", "rules.enable_rule(rule_id)", "ruleId",
     invoke=lambda c, f: c.rules.enable_rule(f["ruleId"]))  # fmt: skip
_add("rules.disableRule", "rules.disable_rule(rule_id)", "ruleId",
     invoke=lambda c, f: c.rules.disable_rule(f["ruleId"]))  # fmt: skip
_add("rules.getRule", "rules.get_rule(rule_id)", "ruleId",
     invoke=lambda c, f: c.rules.get_rule(f["ruleId"]))  # fmt: skip
_add("rules.getRules", "rules.get_rules()",
     invoke=lambda c, f: c.rules.get_rules())  # fmt: skip
_add("rules.validateRule", "rules.validate_rule(rule)", "rule",
     invoke=lambda c, f: c.rules.validate_rule(f["rule"]))  # fmt: skip

# -- auth, audit, procedures, server ------------------------------------------------------------
_add("auth.login", "auth.login(token)", "token",
     invoke=lambda c, f: c.auth.login(f["token"]))  # fmt: skip
_add("auth.whoami", "auth.whoami()",
     invoke=lambda c, f: c.auth.whoami(), expect=_whoami)  # fmt: skip
_add("auth.logout", "auth.logout()",
     invoke=lambda c, f: c.auth.logout(), expect=_none)  # fmt: skip
_add("audit.query", "audit.query(filter)", spread=True,
     invoke=lambda c, f: c.audit.query(_spread(f)), expect=_key("entries"))  # fmt: skip
_add("procedures.register", "procedures.register(procedure)", "procedure",
     invoke=lambda c, f: c.procedures.register(f["procedure"]))  # fmt: skip
_add("procedures.call", "procedures.call(name, input=None)", "name input",
     invoke=lambda c, f: c.procedures.call(f["name"], f.get("input")))  # fmt: skip
_add("procedures.get", "procedures.get(name)", "name",
     invoke=lambda c, f: c.procedures.get(f["name"]))  # fmt: skip
_add("procedures.list", "procedures.list()",
     invoke=lambda c, f: c.procedures.list())  # fmt: skip
_add("procedures.update", "procedures.update(name, updates)", "name updates",
     invoke=lambda c, f: c.procedures.update(f["name"], f["updates"]))  # fmt: skip
_add("procedures.unregister", "procedures.unregister(name)", "name",
     invoke=lambda c, f: c.procedures.unregister(f["name"]))  # fmt: skip
_add("server.stats", "server.stats()",
     invoke=lambda c, f: c.server.stats())  # fmt: skip
_add("server.connections", "server.connections()",
     invoke=lambda c, f: c.server.connections())  # fmt: skip

# -- identity ------------------------------------------------------------------------------------
_add("identity.login", "identity.login(username, password)", "username password",
     invoke=lambda c, f: c.identity.login(f["username"], f["password"]))  # fmt: skip
_add("identity.loginWithSecret", "identity.login_with_secret(secret)", "secret",
     invoke=lambda c, f: c.identity.login_with_secret(f["secret"]))  # fmt: skip
_add("identity.whoami", "identity.whoami()",
     invoke=lambda c, f: c.identity.whoami())  # fmt: skip
_add("identity.refreshSession", "identity.refresh_session()",
     invoke=lambda c, f: c.identity.refresh_session())  # fmt: skip
_add("identity.logout", "identity.logout()",
     invoke=lambda c, f: c.identity.logout(), expect=_none)  # fmt: skip
_add("identity.createUser", "identity.create_user(data)", spread=True,
     invoke=lambda c, f: c.identity.create_user(_spread(f)))  # fmt: skip
_add("identity.getUser", "identity.get_user(user_id)", "userId",
     invoke=lambda c, f: c.identity.get_user(f["userId"]))  # fmt: skip
_add("identity.updateUser", "identity.update_user(user_id, updates)", "userId", spread=True,
     invoke=lambda c, f: c.identity.update_user(f["userId"], _spread(f, "userId")))  # fmt: skip
_add("identity.deleteUser", "identity.delete_user(user_id)", "userId",
     invoke=lambda c, f: c.identity.delete_user(f["userId"]), expect=_none)  # fmt: skip
_add("identity.listUsers", "identity.list_users(page=1, page_size=20)", "",
     "page pageSize",
     invoke=lambda c, f: c.identity.list_users(page=f.get("page"),
                                                page_size=f.get("pageSize")))  # fmt: skip
_add("identity.enableUser", "identity.enable_user(user_id)", "userId",
     invoke=lambda c, f: c.identity.enable_user(f["userId"]))  # fmt: skip
_add("identity.disableUser", "identity.disable_user(user_id)", "userId",
     invoke=lambda c, f: c.identity.disable_user(f["userId"]))  # fmt: skip
_add("identity.changePassword", "identity.change_password(user_id, current, new)",
     "userId currentPassword newPassword",
     invoke=lambda c, f: c.identity.change_password(f["userId"], f["currentPassword"],
                                                    f["newPassword"]), expect=_none)  # fmt: skip
_add("identity.resetPassword", "identity.reset_password(user_id, new_password)",
     "userId newPassword",
     invoke=lambda c, f: c.identity.reset_password(f["userId"], f["newPassword"]),
     expect=_none)  # fmt: skip
_add("identity.createRole", "identity.create_role(data)", spread=True,
     invoke=lambda c, f: c.identity.create_role(_spread(f)))  # fmt: skip
_add("identity.updateRole", "identity.update_role(role_id, updates)", "roleId", spread=True,
     invoke=lambda c, f: c.identity.update_role(f["roleId"], _spread(f, "roleId")))  # fmt: skip
_add("identity.deleteRole", "identity.delete_role(role_id)", "roleId",
     invoke=lambda c, f: c.identity.delete_role(f["roleId"]), expect=_none)  # fmt: skip
_add("identity.listRoles", "identity.list_roles()",
     invoke=lambda c, f: c.identity.list_roles(), expect=_key("roles"))  # fmt: skip
_add("identity.assignRole", "identity.assign_role(user_id, role_name)", "userId roleName",
     invoke=lambda c, f: c.identity.assign_role(f["userId"], f["roleName"]),
     expect=_none)  # fmt: skip
_add("identity.removeRole", "identity.remove_role(user_id, role_name)", "userId roleName",
     invoke=lambda c, f: c.identity.remove_role(f["userId"], f["roleName"]),
     expect=_none)  # fmt: skip
_add("identity.getUserRoles", "identity.get_user_roles(user_id)", "userId",
     invoke=lambda c, f: c.identity.get_user_roles(f["userId"]),
     expect=_key("roles"))  # fmt: skip
_add("identity.grant", "identity.grant(entry)", spread=True,
     invoke=lambda c, f: c.identity.grant(_spread(f)), expect=_none)  # fmt: skip
_add("identity.revoke", "identity.revoke(entry)", spread=True,
     invoke=lambda c, f: c.identity.revoke(_spread(f)), expect=_none)  # fmt: skip
_add("identity.getAcl", "identity.get_acl(resource_type, resource_name)",
     "resourceType resourceName",
     invoke=lambda c, f: c.identity.get_acl(f["resourceType"], f["resourceName"]),
     expect=_key("entries"))  # fmt: skip
_add("identity.myAccess", "identity.my_access()",
     invoke=lambda c, f: c.identity.my_access())  # fmt: skip
_add("identity.getOwner", "identity.get_owner(resource_type, resource_name)",
     "resourceType resourceName",
     invoke=lambda c, f: c.identity.get_owner(f["resourceType"], f["resourceName"]),
     expect=_key("owner"))  # fmt: skip
_add("identity.transferOwner", "identity.transfer_owner(type, name, new_owner_id)",
     "resourceType resourceName newOwnerId",
     invoke=lambda c, f: c.identity.transfer_owner(f["resourceType"], f["resourceName"],
                                                   f["newOwnerId"]), expect=_none)  # fmt: skip
