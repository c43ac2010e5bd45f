"""The published client's public surface, transcribed from its signatures.

Per class: method name -> (is a coroutine, [(parameter, default or MISSING, keyword-only)],
return annotation). Properties of ``NoexClient`` are listed with no parameters.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["MISSING", "SURFACE", "Method"]

MISSING: Final = object()

Method = tuple[bool, list[tuple[str, Any, bool]], str]

SURFACE: dict[str, dict[str, Method]] = {
    "NoexClient": {
        "url": (False, [], "str"),
        "state": (False, [], "ConnectionState"),
        "is_connected": (False, [], "bool"),
        "store": (False, [], "StoreAPI"),
        "rules": (False, [], "RulesAPI"),
        "logic": (False, [], "LogicAPI"),
        "auth": (False, [], "AuthAPI"),
        "audit": (False, [], "AuditAPI"),
        "procedures": (False, [], "ProceduresAPI"),
        "identity": (False, [], "IdentityAPI"),
        "connect": (True, [], "WelcomeInfo"),
        "disconnect": (True, [], "None"),
        "request": (True, [("msg_type", MISSING, False), ("payload", None, False)], "Any"),
        "on": (False, [("event", MISSING, False), ("handler", MISSING, False)], "Unsubscribe"),
    },
    "AuditAPI": {
        "query": (True, [("filter", None, False)], "list[dict[str, Any]]"),
    },
    "AuthAPI": {
        "login": (True, [("token", MISSING, False)], "dict[str, Any]"),
        "logout": (True, [], "None"),
        "whoami": (True, [], "dict[str, Any] | None"),
    },
    "BucketAPI": {
        "insert": (True, [("data", MISSING, False)], "dict[str, Any]"),
        "get": (True, [("key", MISSING, False)], "dict[str, Any] | None"),
        "update": (True, [("key", MISSING, False), ("data", MISSING, False)], "dict[str, Any]"),
        "delete": (True, [("key", MISSING, False)], "None"),
        "all": (True, [], "list[dict[str, Any]]"),
        "where": (True, [("filter", MISSING, False)], "list[dict[str, Any]]"),
        "find_one": (True, [("filter", MISSING, False)], "dict[str, Any] | None"),
        "count": (True, [("filter", None, False)], "int"),
        "first": (True, [("n", MISSING, False)], "list[dict[str, Any]]"),
        "last": (True, [("n", MISSING, False)], "list[dict[str, Any]]"),
        "paginate": (True, [("limit", MISSING, True), ("after", None, True)], "dict[str, Any]"),
        "sum": (True, [("field", MISSING, False), ("filter", None, False)], "float"),
        "avg": (True, [("field", MISSING, False), ("filter", None, False)], "float"),
        "min": (True, [("field", MISSING, False), ("filter", None, False)], "float | None"),
        "max": (True, [("field", MISSING, False), ("filter", None, False)], "float | None"),
        "clear": (True, [], "None"),
    },
    "IdentityAPI": {
        "login": (
            True,
            [("username", MISSING, False), ("password", MISSING, False)],
            "dict[str, Any]",
        ),
        "login_with_secret": (True, [("secret", MISSING, False)], "dict[str, Any]"),
        "logout": (True, [], "None"),
        "whoami": (True, [], "dict[str, Any]"),
        "refresh_session": (True, [], "dict[str, Any]"),
        "create_user": (True, [("input", MISSING, False)], "dict[str, Any]"),
        "get_user": (True, [("user_id", MISSING, False)], "dict[str, Any]"),
        "update_user": (
            True,
            [("user_id", MISSING, False), ("updates", MISSING, False)],
            "dict[str, Any]",
        ),
        "delete_user": (True, [("user_id", MISSING, False)], "None"),
        "list_users": (True, [("page", 1, True), ("page_size", 20, True)], "dict[str, Any]"),
        "enable_user": (True, [("user_id", MISSING, False)], "dict[str, Any]"),
        "disable_user": (True, [("user_id", MISSING, False)], "dict[str, Any]"),
        "change_password": (
            True,
            [
                ("user_id", MISSING, False),
                ("current_password", MISSING, False),
                ("new_password", MISSING, False),
            ],
            "None",
        ),
        "reset_password": (
            True,
            [("user_id", MISSING, False), ("new_password", MISSING, False)],
            "None",
        ),
        "create_role": (True, [("input", MISSING, False)], "dict[str, Any]"),
        "update_role": (
            True,
            [("role_id", MISSING, False), ("updates", MISSING, False)],
            "dict[str, Any]",
        ),
        "delete_role": (True, [("role_id", MISSING, False)], "None"),
        "list_roles": (True, [], "list[dict[str, Any]]"),
        "assign_role": (True, [("user_id", MISSING, False), ("role_name", MISSING, False)], "None"),
        "remove_role": (True, [("user_id", MISSING, False), ("role_name", MISSING, False)], "None"),
        "get_user_roles": (True, [("user_id", MISSING, False)], "list[dict[str, Any]]"),
        "grant": (True, [("input", MISSING, False)], "None"),
        "revoke": (True, [("input", MISSING, False)], "None"),
        "get_acl": (
            True,
            [("resource_type", MISSING, False), ("resource_name", MISSING, False)],
            "list[dict[str, Any]]",
        ),
        "my_access": (True, [], "dict[str, Any]"),
        "get_owner": (
            True,
            [("resource_type", MISSING, False), ("resource_name", MISSING, False)],
            "dict[str, Any] | None",
        ),
        "transfer_owner": (
            True,
            [
                ("resource_type", MISSING, False),
                ("resource_name", MISSING, False),
                ("new_owner_id", MISSING, False),
            ],
            "None",
        ),
    },
    "LogicAPI": {
        "define_computed": (True, [("bucket", MISSING, False), ("fields", MISSING, False)], "None"),
        "drop_computed": (True, [("bucket", MISSING, False)], "bool"),
        "list_computed": (True, [], "list[dict[str, Any]]"),
        "define_view": (True, [("definition", MISSING, False)], "None"),
        "drop_view": (True, [("name", MISSING, False)], "bool"),
        "query_view": (True, [("name", MISSING, False)], "list[dict[str, Any]]"),
        "explain_view": (True, [("name", MISSING, False)], "dict[str, Any]"),
        "list_views": (True, [], "list[dict[str, Any]]"),
        "subscribe_view": (
            True,
            [("name", MISSING, False), ("callback", MISSING, False)],
            "Unsubscribe",
        ),
        "unsubscribe_view": (True, [("subscription_id", MISSING, False)], "None"),
        "define_constraint": (True, [("constraint", MISSING, False)], "None"),
        "drop_constraint": (True, [("name", MISSING, False)], "bool"),
        "list_constraints": (True, [], "list[dict[str, Any]]"),
        "evaluate_expr": (True, [("expr", MISSING, False), ("record", None, False)], "Any"),
    },
    "ProceduresAPI": {
        "register": (True, [("procedure", MISSING, False)], "dict[str, Any]"),
        "unregister": (True, [("name", MISSING, False)], "dict[str, Any]"),
        "update": (True, [("name", MISSING, False), ("updates", MISSING, False)], "dict[str, Any]"),
        "get": (True, [("name", MISSING, False)], "dict[str, Any]"),
        "list": (True, [], "dict[str, Any]"),
        "call": (True, [("name", MISSING, False), ("input", None, False)], "dict[str, Any]"),
    },
    "RulesAPI": {
        "emit": (
            True,
            [
                ("topic", MISSING, False),
                ("data", None, False),
                ("correlation_id", None, False),
                ("causation_id", None, False),
            ],
            "dict[str, Any]",
        ),
        "set_fact": (True, [("key", MISSING, False), ("value", MISSING, False)], "dict[str, Any]"),
        "get_fact": (True, [("key", MISSING, False)], "Any"),
        "delete_fact": (True, [("key", MISSING, False)], "bool"),
        "query_facts": (True, [("pattern", MISSING, False)], "list[dict[str, Any]]"),
        "get_all_facts": (True, [], "list[dict[str, Any]]"),
        "subscribe": (
            True,
            [("pattern", MISSING, False), ("callback", MISSING, False)],
            "Unsubscribe",
        ),
        "unsubscribe": (True, [("subscription_id", MISSING, False)], "None"),
        "register_rule": (True, [("rule", MISSING, False)], "dict[str, Any]"),
        "unregister_rule": (True, [("rule_id", MISSING, False)], "dict[str, Any]"),
        "update_rule": (
            True,
            [("rule_id", MISSING, False), ("updates", MISSING, False)],
            "dict[str, Any]",
        ),
        "enable_rule": (True, [("rule_id", MISSING, False)], "dict[str, Any]"),
        "disable_rule": (True, [("rule_id", MISSING, False)], "dict[str, Any]"),
        "get_rule": (True, [("rule_id", MISSING, False)], "dict[str, Any]"),
        "get_rules": (True, [], "dict[str, Any]"),
        "validate_rule": (True, [("rule", MISSING, False)], "dict[str, Any]"),
        "stats": (True, [], "dict[str, Any]"),
    },
    "StoreAPI": {
        "bucket": (False, [("name", MISSING, False)], "BucketAPI"),
        "subscribe": (
            True,
            [("query", MISSING, False), ("callback", MISSING, False), ("params", None, False)],
            "Unsubscribe",
        ),
        "unsubscribe": (True, [("subscription_id", MISSING, False)], "None"),
        "transaction": (True, [("operations", MISSING, False)], "dict[str, Any]"),
        "define_bucket": (
            True,
            [("name", MISSING, False), ("config", MISSING, False)],
            "dict[str, Any]",
        ),
        "drop_bucket": (True, [("name", MISSING, False)], "dict[str, Any]"),
        "update_bucket": (
            True,
            [("name", MISSING, False), ("updates", MISSING, False)],
            "dict[str, Any]",
        ),
        "get_bucket_schema": (True, [("name", MISSING, False)], "dict[str, Any]"),
        "define_query": (
            True,
            [("name", MISSING, False), ("config", MISSING, False)],
            "dict[str, Any]",
        ),
        "undefine_query": (True, [("name", MISSING, False)], "dict[str, Any]"),
        "list_queries": (True, [], "dict[str, Any]"),
        "buckets": (True, [], "dict[str, Any]"),
        "stats": (True, [], "dict[str, Any]"),
    },
}
