"""The audit log (sans-I/O): which requests are recorded, and ``audit.query`` (§3.9).

Every request whose tier (§3.12) is one of the configured tiers is recorded
once its response exists, success or error (gate errors included), with
the user, connection, operation, resource, outcome, time and peer address.
The log is a ring buffer of ``max_entries``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._auth import tier_of
from ._errors import ConfigError, validation
from ._state import ConnectionState
from ._store._values import is_number, now_ms

if TYPE_CHECKING:
    from ._core import ServerCore

__all__ = ["AUDIT_OPS", "AuditConfig", "AuditLog"]

_TIERS = ("admin", "write", "read")
_RESOURCE_FIELDS = ("bucket", "name", "ruleId", "topic", "key", "pattern")
_DETAILS: dict[str, tuple[str, ...]] = {
    "identity.login": ("username",),
    "identity.createUser": ("username",),
    "identity.assignRole": ("userId", "roleName"),
    "identity.removeRole": ("userId", "roleName"),
    "identity.grant": ("subjectType", "subjectId", "resourceType", "resourceName", "operations"),
    "identity.revoke": ("subjectType", "subjectId", "resourceType", "resourceName", "operations"),
    "identity.transferOwner": ("resourceType", "resourceName", "newOwnerId"),
}


@dataclass(frozen=True)
class AuditConfig:
    """The audit log configuration (``audit: {"tiers"?, "maxEntries"?}``).

    Attributes:
        tiers: The tiers whose operations are recorded (default admin only).
        max_entries: Ring buffer size; the oldest entries are dropped first.
    """

    tiers: frozenset[str] = frozenset({"admin"})
    max_entries: int = 10_000

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> AuditConfig:
        """Build from the JSON ``audit`` config.

        Raises:
            ConfigError: An unknown key, an unknown tier or a bad size.
        """
        if not isinstance(data, Mapping):
            raise ConfigError("audit must be an object {tiers?, maxEntries?}")
        unknown = set(data) - {"tiers", "maxEntries"}
        if unknown:
            raise ConfigError(f"audit: unknown key(s) {sorted(unknown)}")
        tiers = data.get("tiers", ["admin"])
        if not isinstance(tiers, list) or any(t not in _TIERS for t in tiers):
            raise ConfigError(f"audit.tiers must be a list of {', '.join(_TIERS)}")
        size = data.get("maxEntries", 10_000)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError("audit.maxEntries must be a positive integer")
        return cls(frozenset(tiers), size)


def _resource(msg: Mapping[str, Any]) -> str:
    for name in _RESOURCE_FIELDS:
        value = msg.get(name)
        if isinstance(value, str):
            return value
    for name in ("username", "userId"):
        value = msg.get(name)
        if isinstance(value, str):
            return f"user:{value}"
    role = msg.get("roleId")
    if isinstance(role, str):
        return f"role:{role}"
    kind, resource = msg.get("resourceType"), msg.get("resourceName")
    if isinstance(kind, str) and isinstance(resource, str):
        return f"{kind}:{resource}"
    return "*"


class AuditLog:
    """The recorded entries of one server, oldest first."""

    def __init__(self, config: AuditConfig) -> None:
        self.config = config
        self.entries: deque[dict[str, Any]] = deque(maxlen=config.max_entries)

    def __repr__(self) -> str:
        return f"AuditLog(tiers={sorted(self.config.tiers)}, entries={len(self.entries)})"

    def record(
        self, conn: ConnectionState, op: str, msg: Mapping[str, Any], frame: Mapping[str, Any]
    ) -> None:
        """Record a handled request if its tier is audited.

        ``frame`` is the response; the user is the connection's session
        after the request (so a login is recorded as the user it logged in).
        """
        if tier_of(op) not in self.config.tiers:
            return
        failed = frame.get("type") == "error"
        entry: dict[str, Any] = {
            "timestamp": now_ms(),
            "userId": None if conn.session is None else conn.session.user_id,
            "sessionId": conn.id,
            "operation": op,
            "resource": _resource(msg),
            "result": "error" if failed else "success",
        }
        if failed:
            entry["error"] = frame.get("message")
        fields = _DETAILS.get(op)
        if fields is not None:
            entry["details"] = {f: msg[f] for f in fields if f in msg}
        entry["remoteAddress"] = conn.remote_address
        self.entries.append(entry)

    def query(self, msg: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The entries matching the request's filters, newest first.

        Raises:
            RequestError: ``VALIDATION_ERROR`` naming the first bad filter.
        """
        equal: dict[str, Any] = {}
        for name in ("userId", "operation"):
            if name in msg:
                if not isinstance(msg[name], str):
                    raise validation(f'Invalid "{name}": expected string')
                equal[name] = msg[name]
        if "result" in msg:
            if msg["result"] not in ("success", "error"):
                raise validation('Invalid "result": expected "success" or "error"')
            equal["result"] = msg["result"]
        low, high = _bound(msg, "from", -math.inf), _bound(msg, "to", math.inf)
        limit: Any = msg.get("limit")
        if "limit" in msg and (not is_number(limit) or limit != int(limit) or limit < 1):
            raise validation('Invalid "limit": expected positive integer')
        found = [
            e
            for e in reversed(self.entries)
            if low <= e["timestamp"] <= high and all(e[k] == v for k, v in equal.items())
        ]
        return found if limit is None else found[: int(limit)]


def _bound(msg: Mapping[str, Any], name: str, default: float) -> float:
    if name not in msg:
        return default
    value = msg[name]
    if not is_number(value):
        raise validation(f'Invalid "{name}": expected number')
    return float(value)


def _query(core: ServerCore, _c: ConnectionState, msg: dict[str, Any]) -> Any:
    assert core.audit is not None
    return {"entries": core.audit.query(msg)}


AUDIT_OPS: dict[str, Callable[[ServerCore, ConnectionState, dict[str, Any]], Any]] = {
    "query": _query,
}
