"""Users, roles, role assignments and login sessions (sans-I/O).

Records have the wire shapes of ``identity.*`` results: UserInfo (never a
password hash; hashes are kept apart) and RoleInfo, with ``_createdAt`` and
``_updatedAt``. Record checks follow the real server's store schema, whose
failures surface as ``INTERNAL_ERROR`` "Internal server error".
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import RequestError
from .._store import StoreError
from .._store._values import now_ms
from .._store.schema import validate_record
from .roles import system_roles

__all__ = ["SUPERADMIN", "Directory", "StoredSession", "internal_error"]

SUPERADMIN = "__superadmin__"
"""The id and name of the virtual user ``identity.loginWithSecret`` logs in."""

_USER_SCHEMA: dict[str, Any] = {
    "username": {"type": "string", "required": True},
    "displayName": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "enabled": {"type": "boolean"},
    "metadata": {"type": "object"},
}
_ROLE_SCHEMA: dict[str, Any] = {
    "name": {"type": "string", "required": True},
    "description": {"type": "string"},
    "system": {"type": "boolean"},
    "permissions": {"type": "array"},
}


def internal_error() -> RequestError:
    """The generic error of the identity handlers for unexpected failures."""
    return RequestError("INTERNAL_ERROR", "Internal server error")


def _checked(bucket: str, schema: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    try:
        validate_record(bucket, schema, record)
    except StoreError:
        raise internal_error() from None
    return record


def _new(bucket: str, schema: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with a uuid ``id`` and timestamps, checked against ``schema``."""
    stamp = now_ms()
    record.update({"id": str(uuid.uuid4()), "_createdAt": stamp, "_updatedAt": stamp})
    return _checked(bucket, schema, record)


def _merge(
    bucket: str, schema: dict[str, Any], record: dict[str, Any], changes: Mapping[str, Any]
) -> Any:
    """Merge ``changes`` into the stored ``record`` (checked first); returns a copy."""
    if changes:
        updated = _checked(bucket, schema, {**record, **changes, "_updatedAt": now_ms()})
        record.clear()
        record.update(updated)
    return copy.deepcopy(record)


@dataclass
class StoredSession:
    """A login session: the user and when it expires (ms)."""

    user_id: str
    expires_at: int


class Directory:
    """The identity data of one server.

    Args:
        logic: Whether the server runs a logic engine (the system roles then
            also grant the ``logic.*`` operations of their tier).
    """

    def __init__(self, logic: bool = False) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self._hashes: dict[str, str] = {}
        self._links: dict[str, list[str]] = {}
        self._sessions: dict[str, StoredSession] = {}
        self._system = system_roles(logic)
        for spec in self._system:
            stamp = now_ms()
            role = {**copy.deepcopy(spec), "system": True, "id": str(uuid.uuid4())}
            self.roles[role["id"]] = {**role, "_createdAt": stamp, "_updatedAt": stamp}

    def snapshot(self) -> dict[str, Any]:
        """All the data as JSON (password hashes and session tokens included)."""
        return {
            "users": list(self.users.values()),
            "roles": list(self.roles.values()),
            "hashes": self._hashes,
            "links": self._links,
            "sessions": {t: [s.user_id, s.expires_at] for t, s in self._sessions.items()},
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the data with a :meth:`snapshot`.

        System roles keep their saved permissions and get the ones the
        current server grants on top (e.g. ``logic.*`` once a logic engine runs).
        """
        self.users = {u["id"]: u for u in data["users"]}
        self.roles = {r["id"]: r for r in data["roles"]}
        self._hashes = dict(data["hashes"])
        self._links = {k: list(v) for k, v in data["links"].items()}
        self._sessions = {t: StoredSession(u, e) for t, (u, e) in data["sessions"].items()}
        for spec in self._system:
            role = self.role_by_name(spec["name"])
            if role is not None and role.get("system"):
                granted = role.setdefault("permissions", [])
                granted += [p for p in spec["permissions"] if p not in granted]

    def __repr__(self) -> str:
        return (
            f"Directory(users={len(self.users)}, roles={len(self.roles)}, "
            f"sessions={len(self._sessions)})"
        )

    # -- users ----------------------------------------------------------------
    def user(self, user_id: str) -> dict[str, Any] | None:
        """The stored UserInfo (not a copy), or ``None``."""
        return self.users.get(user_id)

    def require_user(self, user_id: str) -> dict[str, Any]:
        """The stored UserInfo.

        Raises:
            RequestError: ``NOT_FOUND`` "User not found".
        """
        user = self.users.get(user_id)
        if user is None:
            raise RequestError("NOT_FOUND", "User not found")
        return user

    def by_username(self, username: str) -> dict[str, Any] | None:
        """The user with this name, or ``None``."""
        return next((u for u in self.users.values() if u["username"] == username), None)

    def username_of(self, user_id: str) -> str | None:
        """The name of a user (the virtual superadmin included)."""
        if user_id == SUPERADMIN:
            return SUPERADMIN
        user = self.users.get(user_id)
        return None if user is None else str(user["username"])

    def password_hash(self, user_id: str) -> str | None:
        """The stored password hash of a user."""
        return self._hashes.get(user_id)

    def create_user(self, username: str, password_hash: str, fields: Mapping[str, Any]) -> Any:
        """Store a new user; returns a copy of its UserInfo.

        ``fields`` holds the optional ``displayName``, ``email``, ``enabled``
        and ``metadata`` as sent.

        Raises:
            RequestError: ``ALREADY_EXISTS``, or ``INTERNAL_ERROR`` when a
                field fails the user schema (e.g. a malformed email).
        """
        if self.by_username(username) is not None:
            raise RequestError("ALREADY_EXISTS", f'User "{username}" already exists')
        enabled = fields.get("enabled")
        record: dict[str, Any] = {
            "username": username,
            "enabled": True if enabled is None else enabled,
        }
        for name in ("displayName", "email", "metadata"):
            if name in fields:
                record[name] = fields[name]
        _new("_users", _USER_SCHEMA, record)
        self.users[record["id"]] = record
        self._hashes[record["id"]] = password_hash
        return copy.deepcopy(record)

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> Any:
        """Merge ``changes`` into a user; returns a copy of its UserInfo.

        Raises:
            RequestError: ``NOT_FOUND``, or ``INTERNAL_ERROR`` on a schema failure.
        """
        return _merge("_users", _USER_SCHEMA, self.require_user(user_id), changes)

    def set_password(self, user_id: str, password_hash: str) -> None:
        """Replace a user's password hash and end all the user's sessions."""
        self.require_user(user_id)
        self._hashes[user_id] = password_hash
        self.close_user_sessions(user_id)

    def delete_user(self, user_id: str) -> None:
        """Delete a user with its sessions and role assignments.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        self.require_user(user_id)
        del self.users[user_id]
        self._hashes.pop(user_id, None)
        self._links.pop(user_id, None)
        self.close_user_sessions(user_id)

    # -- roles ------------------------------------------------------------------
    def role_by_name(self, name: str) -> dict[str, Any] | None:
        """The role with this name, or ``None``."""
        return next((r for r in self.roles.values() if r["name"] == name), None)

    def require_role(self, role_id: str) -> dict[str, Any]:
        """The stored RoleInfo.

        Raises:
            RequestError: ``NOT_FOUND`` "Role not found".
        """
        role = self.roles.get(role_id)
        if role is None:
            raise RequestError("NOT_FOUND", "Role not found")
        return role

    def create_role(self, name: str, fields: Mapping[str, Any]) -> Any:
        """Store a custom role (``system: false``); returns a copy.

        Raises:
            RequestError: ``ALREADY_EXISTS``, or ``INTERNAL_ERROR`` on a schema failure.
        """
        if self.role_by_name(name) is not None:
            raise RequestError("ALREADY_EXISTS", f'Role "{name}" already exists')
        permissions = fields.get("permissions")
        role: dict[str, Any] = {
            "name": name,
            "system": False,
            "permissions": [] if permissions is None else permissions,
        }
        if "description" in fields:
            role["description"] = fields["description"]
        _new("_roles", _ROLE_SCHEMA, role)
        self.roles[role["id"]] = role
        return copy.deepcopy(role)

    def update_role(self, role_id: str, changes: Mapping[str, Any]) -> Any:
        """Merge ``changes`` into a role; returns a copy.

        Raises:
            RequestError: ``NOT_FOUND``, or ``INTERNAL_ERROR`` on a schema failure.
        """
        return _merge("_roles", _ROLE_SCHEMA, self.require_role(role_id), changes)

    def delete_role(self, role_id: str) -> None:
        """Delete a custom role and its assignments.

        Raises:
            RequestError: ``NOT_FOUND``; ``FORBIDDEN`` for a system role.
        """
        if self.require_role(role_id)["system"]:
            raise RequestError("FORBIDDEN", "Cannot delete system role")
        del self.roles[role_id]
        for links in self._links.values():
            if role_id in links:
                links.remove(role_id)

    # -- assignments ------------------------------------------------------------
    def roles_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's current roles (stored records), in assignment order."""
        if user_id == SUPERADMIN:
            role = self.role_by_name("superadmin")
            return [] if role is None else [role]
        return [self.roles[r] for r in self._links.get(user_id, []) if r in self.roles]

    def role_names(self, user_id: str) -> tuple[str, ...]:
        """The names of the user's current roles."""
        return tuple(str(r["name"]) for r in self.roles_of(user_id))

    def assign(self, user_id: str, role_name: str) -> None:
        """Give a user a role.

        Raises:
            RequestError: ``NOT_FOUND`` (user or role), ``ALREADY_EXISTS``.
        """
        self.require_user(user_id)
        role = self.role_by_name(role_name)
        if role is None:
            raise RequestError("NOT_FOUND", f'Role "{role_name}" not found')
        links = self._links.setdefault(user_id, [])
        if role["id"] in links:
            raise RequestError("ALREADY_EXISTS", f'User already has role "{role_name}"')
        links.append(role["id"])

    def unassign(self, user_id: str, role_name: str) -> None:
        """Take a role from a user.

        Raises:
            RequestError: ``NOT_FOUND`` (role, or the user does not have it).
        """
        role = self.role_by_name(role_name)
        if role is None:
            raise RequestError("NOT_FOUND", f'Role "{role_name}" not found')
        links = self._links.get(user_id, [])
        if role["id"] not in links:
            raise RequestError("NOT_FOUND", f'User does not have role "{role_name}"')
        links.remove(role["id"])

    # -- sessions ---------------------------------------------------------------
    def open_session(self, user_id: str, ttl_ms: int) -> tuple[str, int]:
        """Store a new session; returns its token and expiry."""
        token = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
        expires = now_ms() + ttl_ms
        self._sessions[token] = StoredSession(user_id, expires)
        return token, expires

    def session(self, token: str) -> StoredSession | None:
        """The live session of ``token``; an expired one is deleted and gives ``None``."""
        stored = self._sessions.get(token)
        if stored is not None and stored.expires_at < now_ms():
            del self._sessions[token]
            return None
        return stored

    def close_session(self, token: str) -> None:
        """Delete one session."""
        self._sessions.pop(token, None)

    def close_user_sessions(self, user_id: str) -> None:
        """Delete every session of a user."""
        for token in [t for t, s in self._sessions.items() if s.user_id == user_id]:
            del self._sessions[token]

    def active(self, user_id: str) -> bool:
        """Whether a user exists and is enabled (the virtual superadmin always is)."""
        if user_id == SUPERADMIN:
            return True
        user = self.users.get(user_id)
        return user is not None and user.get("enabled") is not False
