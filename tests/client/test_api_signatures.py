"""The published client's names, signatures and defaults exist unchanged (seed README),
and the typed surface is what users see in their type checker (checked by mypy)."""

from __future__ import annotations

import inspect
from typing import Any, assert_type

import msgspec
import pytest

from noex_client import (
    AuditAPI,
    AuthAPI,
    BucketAPI,
    IdentityAPI,
    LogicAPI,
    NoexClient,
    Page,
    ProceduresAPI,
    RulesAPI,
    ServerAPI,
    StoreAPI,
    TypedBucketAPI,
    Unsubscribe,
    Watch,
)

_ = inspect.Parameter.empty

#: (class, method, [(parameter, default)]) as documented by the published client.
SEED: list[tuple[type, str, list[tuple[str, Any]]]] = [
    (StoreAPI, "bucket", [("name", _)]),
    (StoreAPI, "subscribe", [("query", _), ("callback", _), ("params", None)]),
    (StoreAPI, "unsubscribe", [("subscription_id", _)]),
    (StoreAPI, "transaction", [("operations", _)]),
    (StoreAPI, "define_bucket", [("name", _), ("config", _)]),
    (StoreAPI, "update_bucket", [("name", _), ("updates", _)]),
    (StoreAPI, "get_bucket_schema", [("name", _)]),
    (StoreAPI, "drop_bucket", [("name", _)]),
    (StoreAPI, "define_query", [("name", _), ("config", _)]),
    (StoreAPI, "list_queries", []),
    (StoreAPI, "undefine_query", [("name", _)]),
    (StoreAPI, "buckets", []),
    (StoreAPI, "stats", []),
    (BucketAPI, "insert", [("data", _)]),
    (BucketAPI, "get", [("key", _)]),
    (BucketAPI, "update", [("key", _), ("data", _)]),
    (BucketAPI, "delete", [("key", _)]),
    (BucketAPI, "all", []),
    (BucketAPI, "where", [("filter", _)]),
    (BucketAPI, "find_one", [("filter", _)]),
    (BucketAPI, "count", [("filter", None)]),
    (BucketAPI, "first", [("n", _)]),
    (BucketAPI, "last", [("n", _)]),
    (BucketAPI, "paginate", [("limit", _), ("after", None)]),
    (BucketAPI, "sum", [("field", _), ("filter", None)]),
    (BucketAPI, "avg", [("field", _), ("filter", None)]),
    (BucketAPI, "min", [("field", _), ("filter", None)]),
    (BucketAPI, "max", [("field", _), ("filter", None)]),
    (BucketAPI, "clear", []),
    (
        RulesAPI,
        "emit",
        [("topic", _), ("data", None), ("correlation_id", None), ("causation_id", None)],
    ),
    (RulesAPI, "set_fact", [("key", _), ("value", _)]),
    (RulesAPI, "get_fact", [("key", _)]),
    (RulesAPI, "delete_fact", [("key", _)]),
    (RulesAPI, "query_facts", [("pattern", _)]),
    (RulesAPI, "get_all_facts", []),
    (RulesAPI, "subscribe", [("pattern", _), ("callback", _)]),
    (RulesAPI, "register_rule", [("rule", _)]),
    (RulesAPI, "enable_rule", [("rule_id", _)]),
    (RulesAPI, "disable_rule", [("rule_id", _)]),
    (RulesAPI, "get_rule", [("rule_id", _)]),
    (RulesAPI, "get_rules", []),
    (RulesAPI, "update_rule", [("rule_id", _), ("updates", _)]),
    (RulesAPI, "validate_rule", [("rule", _)]),
    (RulesAPI, "unregister_rule", [("rule_id", _)]),
    (RulesAPI, "stats", []),
    (AuthAPI, "login", [("token", _)]),
    (AuthAPI, "whoami", []),
    (AuthAPI, "logout", []),
    (IdentityAPI, "login", [("username", _), ("password", _)]),
    (IdentityAPI, "login_with_secret", [("secret", _)]),
    (IdentityAPI, "whoami", []),
    (IdentityAPI, "refresh_session", []),
    (IdentityAPI, "logout", []),
    (IdentityAPI, "create_user", [("input", _)]),
    (IdentityAPI, "get_user", [("user_id", _)]),
    (IdentityAPI, "update_user", [("user_id", _), ("updates", _)]),
    (IdentityAPI, "list_users", [("page", 1), ("page_size", 20)]),
    (IdentityAPI, "enable_user", [("user_id", _)]),
    (IdentityAPI, "disable_user", [("user_id", _)]),
    (IdentityAPI, "delete_user", [("user_id", _)]),
    (
        IdentityAPI,
        "change_password",
        [("user_id", _), ("current_password", _), ("new_password", _)],
    ),
    (IdentityAPI, "reset_password", [("user_id", _), ("new_password", _)]),
    (IdentityAPI, "create_role", [("input", _)]),
    (IdentityAPI, "assign_role", [("user_id", _), ("role_name", _)]),
    (IdentityAPI, "get_user_roles", [("user_id", _)]),
    (IdentityAPI, "remove_role", [("user_id", _), ("role_name", _)]),
    (IdentityAPI, "list_roles", []),
    (IdentityAPI, "update_role", [("role_id", _), ("updates", _)]),
    (IdentityAPI, "delete_role", [("role_id", _)]),
    (IdentityAPI, "grant", [("input", _)]),
    (IdentityAPI, "revoke", [("input", _)]),
    (IdentityAPI, "get_acl", [("resource_type", _), ("resource_name", _)]),
    (IdentityAPI, "my_access", []),
    (IdentityAPI, "get_owner", [("resource_type", _), ("resource_name", _)]),
    (
        IdentityAPI,
        "transfer_owner",
        [("resource_type", _), ("resource_name", _), ("new_owner_id", _)],
    ),
    (AuditAPI, "query", [("filter", None)]),
    (ProceduresAPI, "register", [("procedure", _)]),
    (ProceduresAPI, "call", [("name", _), ("input", None)]),
    (ProceduresAPI, "get", [("name", _)]),
    (ProceduresAPI, "list", []),
    (ProceduresAPI, "update", [("name", _), ("updates", _)]),
    (ProceduresAPI, "unregister", [("name", _)]),
    (ServerAPI, "stats", []),
    (ServerAPI, "connections", []),
]


@pytest.mark.parametrize(("cls", "name", "params"), SEED, ids=lambda v: getattr(v, "__name__", v))
def test_seed_signature(cls: type, name: str, params: list[tuple[str, Any]]) -> None:
    signature = inspect.signature(getattr(cls, name))
    positional = [
        (p.name, p.default)
        for p in signature.parameters.values()
        if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    assert positional[: len(params)] == params
    # Anything beyond the seed is optional (keyword additions with defaults).
    assert all(default is not _ for _name, default in positional[len(params) :])


def test_client_exposes_every_group() -> None:
    client = NoexClient("ws://127.0.0.1:1/")
    groups = {
        "store": StoreAPI,
        "rules": RulesAPI,
        "auth": AuthAPI,
        "identity": IdentityAPI,
        "logic": LogicAPI,
        "audit": AuditAPI,
        "procedures": ProceduresAPI,
        "server": ServerAPI,
    }
    for name, cls in groups.items():
        assert isinstance(getattr(client, name), cls)


class User(msgspec.Struct):
    name: str


async def _typed_surface(client: NoexClient) -> None:  # checked by mypy, never awaited
    assert_type(client.store.bucket("users"), BucketAPI)
    users = client.store.bucket("users", model=User)
    assert_type(users, TypedBucketAPI[User])
    assert_type(await users.insert(User("a")), User)
    assert_type(await users.get("k"), User | None)
    assert_type(await users.all(), list[User])
    assert_type(await users.paginate(10), Page[User])
    assert_type(await client.store.bucket("users").count(), int)
    assert_type(await client.store.bucket("users").min("age"), float | None)
    assert_type(await client.store.subscribe("q", print), Unsubscribe)
    assert_type(client.store.watch("q"), Watch[Any])
    assert_type(client.rules.watch("*"), Watch[tuple[str, Any]])
    assert_type(await client.rules.delete_fact("k"), bool)
    assert_type(await client.audit.query(), list[dict[str, Any]])
    assert_type(await client.auth.whoami(), dict[str, Any] | None)
    assert_type(await client.identity.get_owner("bucket", "b"), dict[str, Any] | None)
    assert_type(await client.logic.drop_view("v"), bool)
    assert_type(client.logic.watch_view("v"), Watch[list[dict[str, Any]]])
    assert_type(await client.request("store.buckets", {}), Any)


def test_typed_surface_is_checked_by_mypy() -> None:
    assert inspect.iscoroutinefunction(_typed_surface)
