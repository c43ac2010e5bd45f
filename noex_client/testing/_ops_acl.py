"""Handlers of the ``identity.*`` role, ACL and ownership operations (§3.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import RequestError, validation
from ._fields import req_str
from ._identity import ACL_OPERATIONS, IdentityEngine, require_admin, require_superadmin, signed_in
from ._state import ConnectionState

if TYPE_CHECKING:
    from ._core import ServerCore

__all__ = ["ACL_OPS"]

Handler = Callable[["ServerCore", ConnectionState, dict[str, Any]], Any]


def _engine(core: ServerCore) -> IdentityEngine:
    assert core.identity is not None
    return core.identity


# -- roles ------------------------------------------------------------------------------
def _role_fields(msg: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "description" in msg:
        fields["description"] = msg["description"]
    if "permissions" in msg:
        permissions = msg["permissions"]
        if permissions is not None and not isinstance(permissions, list):
            raise validation('Invalid "permissions": expected array')
        fields["permissions"] = permissions
    return fields


def _create_role(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_superadmin(signed_in(conn))
    name = req_str(msg, "name")
    if len(name) > 64:
        raise validation("Role name must be between 1 and 64 characters")
    return _engine(core).directory.create_role(name, _role_fields(msg))


def _update_role(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_superadmin(signed_in(conn))
    role_id = req_str(msg, "roleId")
    return _engine(core).directory.update_role(role_id, _role_fields(msg))


def _delete_role(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_superadmin(signed_in(conn))
    _engine(core).directory.delete_role(req_str(msg, "roleId"))
    return {"deleted": True}


def _list_roles(core: ServerCore, conn: ConnectionState, _m: dict[str, Any]) -> Any:
    require_admin(signed_in(conn))
    return {"roles": [dict(r) for r in _engine(core).directory.roles.values()]}


def _assign_role(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_admin(signed_in(conn))
    user_id, role_name = req_str(msg, "userId"), req_str(msg, "roleName")
    _engine(core).directory.assign(user_id, role_name)
    return {"assigned": True}


def _remove_role(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_admin(signed_in(conn))
    user_id, role_name = req_str(msg, "userId"), req_str(msg, "roleName")
    _engine(core).directory.unassign(user_id, role_name)
    return {"removed": True}


def _user_roles(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    require_admin(signed_in(conn))
    directory = _engine(core).directory
    user_id = req_str(msg, "userId")
    directory.require_user(user_id)
    return {"roles": [dict(r) for r in directory.roles_of(user_id)]}


# -- ACL ----------------------------------------------------------------------------------
def _acl_request(
    core: ServerCore, conn: ConnectionState, msg: dict[str, Any], ops: list[Any] | None
) -> tuple[tuple[str, str], tuple[str, str], list[str] | None]:
    """Validate a grant/revoke and check the caller may manage the resource's ACL."""
    session = signed_in(conn)
    subject_type = msg.get("subjectType")
    if subject_type not in ("user", "role"):
        raise validation(f'Invalid subject type "{subject_type}". Must be "user" or "role"')
    for op in ops or []:
        if op not in ACL_OPERATIONS:
            raise validation(
                f'Invalid ACL operation "{op}". Valid operations: {", ".join(ACL_OPERATIONS)}'
            )
    subject = (str(subject_type), req_str(msg, "subjectId"))
    resource = (req_str(msg, "resourceType"), req_str(msg, "resourceName"))
    if not _engine(core).access.can_manage(session.roles, session.user_id, resource):
        raise RequestError(
            "FORBIDDEN",
            "Must be the resource owner, admin, or have admin ACL to manage permissions",
        )
    return subject, resource, None if ops is None else [str(o) for o in ops]


def _required_strings(msg: dict[str, Any]) -> None:
    for name in ("subjectType", "subjectId", "resourceType", "resourceName"):
        req_str(msg, name)


def _grant(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    _required_strings(msg)
    ops = msg.get("operations")
    if not isinstance(ops, list):
        raise validation('Missing or invalid "operations": expected non-empty array')
    if not ops:
        raise validation("Operations must be a non-empty array")
    subject, resource, checked = _acl_request(core, conn, msg, ops)
    _engine(core).access.grant(subject, resource, checked or [])
    return {"granted": True}


def _revoke(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    _required_strings(msg)
    ops = msg.get("operations")
    if ops is not None and not isinstance(ops, list):
        raise validation('Invalid "operations": expected array')
    subject, resource, checked = _acl_request(core, conn, msg, ops)
    _engine(core).access.revoke(subject, resource, checked)
    return {"revoked": True}


def _resource(msg: dict[str, Any]) -> tuple[str, str]:
    return req_str(msg, "resourceType"), req_str(msg, "resourceName")


def _get_acl(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    signed_in(conn)
    return {"entries": _engine(core).access.acl(_resource(msg))}


def _my_access(core: ServerCore, conn: ConnectionState, _m: dict[str, Any]) -> Any:
    identity = _engine(core)
    user_id = signed_in(conn).user_id
    username = identity.directory.username_of(user_id)
    if username is None:
        raise RequestError("NOT_FOUND", "User not found")
    return {
        "user": {
            "id": user_id,
            "username": username,
            "roles": list(identity.directory.role_names(user_id)),
        },
        "resources": identity.access.my_access(user_id),
    }


def _get_owner(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    signed_in(conn)
    return {"owner": _engine(core).access.owner_info(*_resource(msg))}


def _transfer_owner(core: ServerCore, conn: ConnectionState, msg: dict[str, Any]) -> Any:
    session = signed_in(conn)
    resource = _resource(msg)
    new_owner = req_str(msg, "newOwnerId")
    _engine(core).access.transfer(session.roles, session.user_id, resource, new_owner)
    return {"transferred": True}


ACL_OPS: dict[str, Handler] = {
    "createRole": _create_role,
    "updateRole": _update_role,
    "deleteRole": _delete_role,
    "listRoles": _list_roles,
    "assignRole": _assign_role,
    "removeRole": _remove_role,
    "getUserRoles": _user_roles,
    "grant": _grant,
    "revoke": _revoke,
    "getAcl": _get_acl,
    "myAccess": _my_access,
    "getOwner": _get_owner,
    "transferOwner": _transfer_owner,
}
