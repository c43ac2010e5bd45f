"""Token auth: validation hook, tiers, permissions, revocation (§2.2, §3.12).

The real server calls a user-supplied ``validate(token)``; the test server
takes the same hook, or a static token table in JSON config
(``{"sessions": {token: {"userId", "roles", "expiresAt"?}}}``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._errors import ConfigError, RequestError
from ._rules import topic_matches
from ._state import Session

__all__ = [
    "AuthConfig",
    "PermissionRule",
    "Revocations",
    "check_permissions",
    "permission_allows",
    "resource_of",
    "tier_of",
]

Validate = Callable[[str], "Session | Awaitable[Session | None] | None"]
Check = Callable[[Session, str, str], bool]

_ADMIN_STORE = {
    "defineBucket", "dropBucket", "updateBucket", "getBucketSchema",
    "defineQuery", "undefineQuery", "listQueries",
}  # fmt: skip
_WRITE = {
    "store.insert", "store.update", "store.delete", "store.clear", "store.transaction",
    "rules.emit", "rules.setFact", "rules.deleteFact", "procedures.call",
}  # fmt: skip
_READ_STORE = {
    "get", "all", "where", "findOne", "count", "first", "last", "paginate", "sum", "avg",
    "min", "max", "subscribe", "unsubscribe", "buckets", "stats",
}  # fmt: skip
_READ_OTHER = {
    "rules.getFact", "rules.queryFacts", "rules.getAllFacts", "rules.subscribe",
    "rules.unsubscribe", "rules.stats", "procedures.get",
}  # fmt: skip
_ADMIN_OTHER = {
    "rules.getRules", "rules.validateRule", "procedures.register", "procedures.unregister",
    "procedures.update", "procedures.list", "server.stats", "server.connections", "audit.query",
    "identity.login", "identity.loginWithSecret", "identity.logout", "identity.createUser",
    "identity.deleteUser", "identity.enableUser", "identity.disableUser",
    "identity.changePassword", "identity.resetPassword", "identity.assignRole",
    "identity.removeRole", "identity.createRole", "identity.deleteRole", "identity.grant",
    "identity.revoke", "identity.transferOwner",
}  # fmt: skip
# logic.* (no tier in noex-server 0.1.4, which has no logic engine) by analogy with
# the store: defining, dropping, listing and explaining like bucket and query
# administration (admin); reading a view, subscribing and evaluating like reads.
_ADMIN_LOGIC = {
    "defineComputed", "dropComputed", "listComputed", "defineView", "dropView", "explainView",
    "listViews", "defineConstraint", "dropConstraint", "listConstraints",
}  # fmt: skip
_READ_LOGIC = {"queryView", "subscribeView", "unsubscribeView", "evaluateExpr"}
_LEVELS = {"reader": 1, "writer": 2, "admin": 3}
_TIER_LEVEL = {"read": 1, "write": 2, "admin": 3}


def tier_of(op: str) -> Literal["admin", "write", "read"] | None:
    """The tier of an operation, or ``None`` when it has none."""
    prefix, _, name = op.partition(".")
    if op in _WRITE:
        return "write"
    if prefix == "store":
        if name in _ADMIN_STORE:
            return "admin"
        if name in _READ_STORE:
            return "read"
        return None
    if prefix == "rules" and "Rule" in name:
        return "admin"
    if prefix == "logic":
        return "admin" if name in _ADMIN_LOGIC else "read" if name in _READ_LOGIC else None
    if op in _ADMIN_OTHER:
        return "admin"
    if op in _READ_OTHER:
        return "read"
    return None


def resource_of(op: str, msg: Mapping[str, Any]) -> str:
    """The resource string of a request (§3.12)."""

    def first(*names: str) -> str:
        for name in names:
            value = msg.get(name)
            if isinstance(value, str):
                return value
        return "*"

    if op == "store.subscribe":
        return first("query")
    if op == "store.unsubscribe":
        return first("subscriptionId")
    if op.startswith("store."):
        return first("bucket", "name")
    if op.startswith("rules."):
        return first("topic", "key", "pattern")
    return "*"


@dataclass(frozen=True)
class PermissionRule:
    """One ``permissions.rules`` entry: a role may run ops matching ``allow``."""

    role: str
    allow: str | tuple[str, ...]
    buckets: tuple[str, ...] | None = None
    topics: tuple[str, ...] | None = None


@dataclass
class AuthConfig:
    """Token auth configuration.

    Attributes:
        validate: ``token -> Session | None`` (may be async).
        required: Whether requests need a session (``requiresAuth``).
        check: ``(session, op, resource) -> bool``; decides permissions if set.
        rules: Permission rules, used when ``check`` is not set.
        default: The decision when no rule matches.
        revocation_ttl_ms: How long a revoked user cannot log in again.
    """

    validate: Validate
    required: bool = True
    check: Check | None = None
    rules: Sequence[PermissionRule] = field(default_factory=tuple)
    default: Literal["allow", "deny"] = "allow"
    revocation_ttl_ms: int = 3_600_000

    @property
    def has_permissions(self) -> bool:
        """Whether a ``permissions`` config exists."""
        return self.check is not None or bool(self.rules) or self.default == "deny"

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> AuthConfig:
        """Build from the JSON ``auth`` config.

        Keys: ``sessions`` (token table), ``required``, ``permissions``
        (``checkRoles``: allow only sessions with one of these roles; or
        ``rules`` and ``default``).

        Raises:
            ConfigError: An unknown key or a malformed value.
        """
        unknown = set(data) - {"sessions", "required", "permissions", "revocationTtlMs"}
        if unknown:
            raise ConfigError(
                f"auth: unknown key(s) {sorted(unknown)} (built-in identity needs "
                '"builtIn": true and "adminSecret")'
            )
        table = data.get("sessions", {})
        if not isinstance(table, dict):
            raise ConfigError(
                "auth.sessions must be an object {token: {userId, roles, expiresAt?}}"
            )
        sessions = {token: _session(token, spec) for token, spec in table.items()}

        def validate(token: str) -> Session | None:
            return sessions.get(token)

        perms = data.get("permissions", {})
        if not isinstance(perms, dict):
            raise ConfigError("auth.permissions must be an object")
        check: Check | None = None
        if "checkRoles" in perms:
            allowed = set(perms["checkRoles"])

            def check(session: Session, _op: str, _resource: str) -> bool:
                return bool(allowed.intersection(session.roles))

        rules = tuple(
            PermissionRule(
                role=str(r["role"]),
                allow=r["allow"] if isinstance(r["allow"], str) else tuple(r["allow"]),
                buckets=tuple(r["buckets"]) if "buckets" in r else None,
                topics=tuple(r["topics"]) if "topics" in r else None,
            )
            for r in perms.get("rules", [])
        )
        default = perms.get("default", "allow")
        if default not in ("allow", "deny"):
            raise ConfigError("auth.permissions.default must be 'allow' or 'deny'")
        return cls(
            validate=validate,
            required=bool(data.get("required", True)),
            check=check,
            rules=rules,
            default=default,
            revocation_ttl_ms=int(data.get("revocationTtlMs", 3_600_000)),
        )

    async def resolve(self, token: str) -> Session | None:
        """Run ``validate`` (sync or async)."""
        result = self.validate(token)
        if inspect.isawaitable(result):
            result = await result
        return result


def _session(token: str, spec: object) -> Session:
    if not isinstance(spec, dict) or not isinstance(spec.get("userId"), str):
        raise ConfigError("auth.sessions entries need a string 'userId'")
    roles = spec.get("roles", [])
    expires = spec.get("expiresAt")
    return Session(
        spec["userId"], tuple(str(r) for r in roles), None if expires is None else int(expires)
    )


def _pattern_allows(pattern: str, op: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return op.startswith(pattern[:-1])
    return pattern == op


def permission_allows(
    allow: object, buckets: object, topics: object, op: str, resource: str
) -> bool:
    """Whether one permission entry lets ``op`` run on ``resource``.

    ``allow`` is a pattern (``*``, ``prefix.*`` or an exact op) or a list of
    them; ``buckets`` (exact names) constrain ``store.*`` ops and ``topics``
    (topic patterns) constrain ``rules.*`` ops; ``None`` means unconstrained.
    """
    patterns = [allow] if isinstance(allow, str) else allow
    if not isinstance(patterns, list | tuple):
        return False
    if not any(isinstance(p, str) and _pattern_allows(p, op) for p in patterns):
        return False
    if isinstance(buckets, list | tuple) and op.startswith("store.") and resource not in buckets:
        return False
    return not (
        isinstance(topics, list | tuple)
        and op.startswith("rules.")
        and not any(isinstance(t, str) and topic_matches(t, resource) for t in topics)
    )


def check_permissions(auth: AuthConfig, session: Session, op: str, msg: Mapping[str, Any]) -> None:
    """The external-auth checks of the gate (§2.2 step 5).

    Raises:
        RequestError: ``FORBIDDEN`` with the tier or permission message.
    """
    tier = tier_of(op)
    levels = [_LEVELS[r] for r in session.roles if r in _LEVELS]
    if tier is not None and levels and max(levels) < _TIER_LEVEL[tier]:
        raise RequestError("FORBIDDEN", f"Role level insufficient for {op} (requires {tier})")
    if not auth.has_permissions:
        return
    resource = resource_of(op, msg)
    if auth.check is not None:
        allowed = auth.check(session, op, resource)
    else:
        allowed = any(
            rule.role in session.roles
            and permission_allows(rule.allow, rule.buckets, rule.topics, op, resource)
            for rule in auth.rules
        ) or (auth.default == "allow")
    if not allowed:
        raise RequestError("FORBIDDEN", f"No permission for {op} on {resource}")


class Revocations:
    """The blacklist of revoked user ids, each with an expiry."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def add(self, user_id: str, ttl_ms: int) -> None:
        """Blacklist ``user_id`` for ``ttl_ms``."""
        self._until[user_id] = time.monotonic() + ttl_ms / 1000

    def contains(self, user_id: str) -> bool:
        """Whether ``user_id`` is currently blacklisted."""
        until = self._until.get(user_id)
        if until is None:
            return False
        if until < time.monotonic():
            del self._until[user_id]
            return False
        return True
