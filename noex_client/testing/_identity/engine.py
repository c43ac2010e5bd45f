"""The built-in identity engine: what the gate and the handlers ask of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._auth import AuthConfig, resource_of
from .._errors import RequestError
from .._state import ConnectionState, Session
from .access import AccessControl
from .config import IdentityConfig
from .directory import Directory
from .limiter import LoginLimiter

__all__ = ["IdentityEngine", "require_admin", "require_superadmin", "signed_in"]

_OWNED = {"store.defineBucket": "bucket", "store.defineQuery": "query"}
_DROPPED = {"store.dropBucket": "bucket", "store.undefineQuery": "query"}


def signed_in(conn: ConnectionState) -> Session:
    """The connection's session (the gate lets no anonymous identity request through).

    Raises:
        RequestError: ``UNAUTHORIZED`` "Authentication required".
    """
    if conn.session is None:
        raise RequestError("UNAUTHORIZED", "Authentication required")
    return conn.session


def require_admin(session: Session) -> None:
    """The handlers' admin check, on the roles captured at login.

    Raises:
        RequestError: ``FORBIDDEN`` "Admin role required".
    """
    if "admin" not in session.roles and "superadmin" not in session.roles:
        raise RequestError("FORBIDDEN", "Admin role required")


def require_superadmin(session: Session) -> None:
    """The handlers' superadmin check, on the roles captured at login.

    Raises:
        RequestError: ``FORBIDDEN`` "Superadmin role required".
    """
    if "superadmin" not in session.roles:
        raise RequestError("FORBIDDEN", "Superadmin role required")


class IdentityEngine:
    """Users, roles, ACLs, owners, sessions and login limits of one server.

    Args:
        config: The built-in identity configuration.
        logic: Whether the server runs a logic engine (the system roles then
            grant the ``logic.*`` operations of their tier).
    """

    def __init__(self, config: IdentityConfig, logic: bool = False) -> None:
        self.config = config
        self.directory = Directory(logic)
        self.access = AccessControl(self.directory)
        self.limiter = LoginLimiter(config.login_max_attempts, config.login_window_ms)

    def __repr__(self) -> str:
        return f"IdentityEngine({self.directory!r}, acl_entries={len(self.access.entries)})"

    def snapshot(self) -> dict[str, Any]:
        """Users, roles, sessions, ACL entries and owners as JSON (for persistence)."""
        return {"directory": self.directory.snapshot(), "access": self.access.snapshot()}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the identity data with a :meth:`snapshot`."""
        self.directory.restore(data["directory"])
        self.access.restore(data["access"])

    def adopt(self, old: IdentityEngine) -> None:
        """Take over the users, roles, ACLs, owners and sessions of ``old``."""
        self.directory = old.directory
        self.access = old.access

    # -- sessions -----------------------------------------------------------------
    def auth_config(self) -> AuthConfig:
        """The token auth of ``auth.login``: identity session tokens resume a session."""
        return AuthConfig(
            validate=self.resume, required=True, revocation_ttl_ms=self.config.revocation_ttl_ms
        )

    def resume(self, token: str) -> Session | None:
        """The session of a stored token with the user's current roles (``auth.login``).

        ``None`` for an unknown or expired token, or a user deleted or
        disabled since. The resumed connection has no token of its own.
        """
        stored = self.directory.session(token)
        if stored is None or not self.directory.active(stored.user_id):
            return None
        roles = self.directory.role_names(stored.user_id)
        return Session(stored.user_id, roles, stored.expires_at)

    def start_session(self, user_id: str) -> tuple[Session, dict[str, Any]]:
        """Open a session for a user; returns it and the wire LoginResult."""
        token, expires = self.directory.open_session(user_id, self.config.session_ttl_ms)
        roles = self.directory.role_names(user_id)
        user: dict[str, Any] = {"id": user_id, "username": self.directory.username_of(user_id)}
        record = self.directory.user(user_id)
        if record is not None and "displayName" in record:
            user["displayName"] = record["displayName"]
        user["roles"] = list(roles)
        session = Session(user_id, roles, expires, token=token)
        return session, {"token": token, "expiresAt": expires, "user": user}

    def delete_user(self, user_id: str) -> None:
        """Delete a user with sessions, role links, ACL entries and owner records.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        self.directory.delete_user(user_id)
        self.access.forget_user(user_id)

    # -- the gate and the store -----------------------------------------------------
    def check_access(self, session: Session, op: str, msg: Mapping[str, Any]) -> None:
        """The gate's ``isAllowed`` check for every non-``identity.*`` request.

        Raises:
            RequestError: ``FORBIDDEN`` ``No access to <op> on <resource>``.
        """
        if op.startswith("identity."):
            return
        resource = resource_of(op, msg)
        if not self.access.is_allowed(session.user_id, op, resource):
            raise RequestError("FORBIDDEN", f"No access to {op} on {resource}")

    @staticmethod
    def guard_store(op: str, msg: Mapping[str, Any]) -> None:
        """Refuse ``store.*`` requests that name a system bucket (``_...``).

        Raises:
            RequestError: ``FORBIDDEN`` ``Cannot access system bucket "<x>" directly``
                (or ``... in transaction``).
        """
        if op == "store.transaction":
            operations = msg.get("operations")
            for item in operations if isinstance(operations, list) else []:
                bucket = item.get("bucket") if isinstance(item, dict) else None
                if isinstance(bucket, str) and bucket.startswith("_"):
                    raise RequestError(
                        "FORBIDDEN", f'Cannot access system bucket "{bucket}" in transaction'
                    )
            return
        for name in ("bucket", "name"):
            value = msg.get(name)
            if isinstance(value, str) and value.startswith("_"):
                raise RequestError("FORBIDDEN", f'Cannot access system bucket "{value}" directly')

    def after_store(
        self, session: Session | None, op: str, msg: Mapping[str, Any], result: Any
    ) -> Any:
        """Identity side effects of a successful ``store.*`` op; returns its result.

        Defining a bucket or query makes the caller its owner; dropping it
        removes the owner record and every ACL entry of the resource.
        ``store.buckets`` leaves out system buckets (names starting with ``_``).
        """
        name = msg.get("name")
        if op == "store.buckets" and isinstance(result, dict):
            names = [n for n in result.get("names", []) if not str(n).startswith("_")]
            return {**result, "count": len(names), "names": names}
        if op in _OWNED and session is not None and isinstance(name, str):
            self.access.set_owner(_OWNED[op], name, session.user_id)
        elif op in _DROPPED and isinstance(name, str):
            self.access.forget_resource(_DROPPED[op], name)
        return result
