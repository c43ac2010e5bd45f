"""Handlers of the ``identity.*`` login, session and user operations (§3.8).

Role, ACL and ownership operations are in :mod:`._ops_acl`. Password hashing
runs in a worker thread, so a login never stalls other connections.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import RequestError, validation
from ._fields import req_str
from ._identity import (
    SUPERADMIN,
    IdentityEngine,
    hash_password,
    require_admin,
    signed_in,
    verify_password,
)
from ._ops_acl import ACL_OPS
from ._state import ConnectionState
from ._store._values import is_number, now_ms

if TYPE_CHECKING:
    from ._core import ServerCore

__all__ = ["IDENTITY_OPS"]

Handler = Callable[["ServerCore", ConnectionState, dict[str, Any]], Any]
_USER_FIELDS = ("displayName", "email", "enabled", "metadata")


def _engine(core: ServerCore) -> IdentityEngine:
    assert core.identity is not None
    return core.identity


def _password(msg: dict[str, Any], name: str) -> str:
    password = req_str(msg, name)
    if len(password) < 8:
        raise validation("Password must be at least 8 characters")
    return password


# -- login and sessions ---------------------------------------------------------------
async def _login(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    identity = _engine(core)
    username, password = req_str(msg, "username"), req_str(msg, "password")
    keys = (f"user:{username}", f"ip:{conn.remote_address}")
    identity.limiter.check(keys, now_ms())
    user = identity.directory.by_username(username)
    stored = None if user is None else identity.directory.password_hash(user["id"])
    matches = await asyncio.to_thread(verify_password, password, stored)
    # The directory may have changed while the hash was computed.
    user = identity.directory.by_username(username)
    if not matches or user is None or identity.directory.password_hash(user["id"]) != stored:
        identity.limiter.fail(keys, now_ms())
        raise RequestError("UNAUTHORIZED", "Invalid credentials")
    if user.get("enabled") is False:
        raise RequestError("UNAUTHORIZED", "Account disabled")
    identity.limiter.reset(keys[0])
    conn.session, result = identity.start_session(user["id"])
    return result


def _login_with_secret(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    identity = _engine(core)
    secret = req_str(msg, "secret")
    key = f"ip:{conn.remote_address}"
    identity.limiter.check((key,), now_ms())
    if not hmac.compare_digest(secret.encode(), identity.config.admin_secret.encode()):
        identity.limiter.fail((key,), now_ms())
        raise RequestError("UNAUTHORIZED", "Invalid secret")
    identity.limiter.reset(key)
    conn.session, result = identity.start_session(SUPERADMIN)
    return result


def _logout(core: ServerCore, conn: ConnectionState, _m: dict[str, Any]) -> Any:
    token = signed_in(conn).token
    if token is not None:
        _engine(core).directory.close_session(token)
    conn.session = None
    return {"loggedOut": True}


def _whoami(_core: ServerCore, conn: ConnectionState, _m: dict[str, Any]) -> Any:
    return {"authenticated": True, **signed_in(conn).to_wire()}


def _refresh(core: ServerCore, conn: ConnectionState, _m: dict[str, Any]) -> Any:
    identity = _engine(core)
    token = signed_in(conn).token
    if token is None:
        raise RequestError("UNAUTHORIZED", "No active session to refresh")
    stored = identity.directory.session(token)
    if stored is None:
        raise RequestError("UNAUTHORIZED", "Invalid or expired session")
    if not identity.directory.active(stored.user_id):
        raise RequestError("UNAUTHORIZED", "User not found or disabled")
    identity.directory.close_session(token)
    conn.session, result = identity.start_session(stored.user_id)
    return result


# -- users --------------------------------------------------------------------------------
async def _create_user(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    identity = _engine(core)
    require_admin(signed_in(conn))
    username = req_str(msg, "username")
    req_str(msg, "password")
    if not 3 <= len(username) <= 64:
        raise validation("Username must be between 3 and 64 characters")
    password = _password(msg, "password")
    if identity.directory.by_username(username) is not None:
        raise RequestError("ALREADY_EXISTS", f'User "{username}" already exists')
    hashed = await asyncio.to_thread(hash_password, password)
    fields = {name: msg[name] for name in _USER_FIELDS if name in msg}
    return identity.directory.create_user(username, hashed, fields)


def _get_user(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_admin(signed_in(conn))
    return dict(_engine(core).directory.require_user(req_str(msg, "userId")))


def _update_user(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    session = signed_in(conn)
    user_id = req_str(msg, "userId")
    if user_id != session.user_id:
        require_admin(session)
    changes: dict[str, Any] = {}
    if "displayName" in msg:
        name = msg["displayName"]
        changes["displayName"] = name if isinstance(name, str) else None
    if "email" in msg:
        email = msg["email"]
        changes["email"] = email if isinstance(email, str) else ""
    if "metadata" in msg:
        metadata = msg["metadata"]
        changes["metadata"] = metadata if isinstance(metadata, dict) else {}
    return _engine(core).directory.update_user(user_id, changes)


def _delete_user(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_admin(signed_in(conn))
    user_id = req_str(msg, "userId")
    if user_id == SUPERADMIN:
        raise RequestError("FORBIDDEN", "Cannot delete virtual superadmin")
    _engine(core).delete_user(user_id)
    return {"deleted": True}


def _list_users(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_admin(signed_in(conn))
    page: Any = msg.get("page")
    size: Any = msg.get("pageSize")
    page = max(1, page) if is_number(page) else 1
    size = min(200, max(1, size)) if is_number(size) else 50
    users = list(_engine(core).directory.users.values())
    start = int((page - 1) * size)
    return {
        "users": [dict(u) for u in users[start : start + int(size)]],
        "total": len(users),
        "page": page,
        "pageSize": size,
    }


def _set_enabled(enabled: bool) -> Handler:
    def handler(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
        require_admin(signed_in(conn))
        user_id = req_str(msg, "userId")
        if user_id == SUPERADMIN and not enabled:
            raise RequestError("FORBIDDEN", "Cannot disable virtual superadmin")
        directory = _engine(core).directory
        user = directory.update_user(user_id, {"enabled": enabled})
        if not enabled:
            directory.close_user_sessions(user_id)
        return user

    return handler


async def _change_password(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    directory = _engine(core).directory
    session = signed_in(conn)
    user_id, current = req_str(msg, "userId"), req_str(msg, "currentPassword")
    req_str(msg, "newPassword")
    if user_id != session.user_id:
        raise RequestError(
            "FORBIDDEN", "Can only change your own password (use resetPassword for other users)"
        )
    password = _password(msg, "newPassword")
    directory.require_user(user_id)
    stored = directory.password_hash(user_id)
    if not await asyncio.to_thread(verify_password, current, stored):
        raise RequestError("UNAUTHORIZED", "Current password is incorrect")
    directory.set_password(user_id, await asyncio.to_thread(hash_password, password))
    return {"changed": True}


async def _reset_password(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    directory = _engine(core).directory
    require_admin(signed_in(conn))
    user_id = req_str(msg, "userId")
    password = _password(msg, "newPassword")
    directory.require_user(user_id)
    directory.set_password(user_id, await asyncio.to_thread(hash_password, password))
    return {"reset": True}


IDENTITY_OPS: dict[str, Handler] = {
    "login": _login,
    "loginWithSecret": _login_with_secret,
    "logout": _logout,
    "whoami": _whoami,
    "refreshSession": _refresh,
    "createUser": _create_user,
    "getUser": _get_user,
    "updateUser": _update_user,
    "deleteUser": _delete_user,
    "listUsers": _list_users,
    "enableUser": _set_enabled(True),
    "disableUser": _set_enabled(False),
    "changePassword": _change_password,
    "resetPassword": _reset_password,
    **ACL_OPS,
}
