"""``IdentityAPI``: built-in users, roles, ACL and ownership (``identity.*`` on the wire)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Requester, camel_keys

__all__ = ["IdentityAPI"]


def acl_fields(entry: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Wire fields of an ACL entry for ``identity.grant`` / ``identity.revoke``.

    The wire shape is ``{"subjectType": "user"|"role", "subjectId",
    "resourceType", "resourceName", "operations": [...]}`` (snake_case keys
    accepted). The shape the published client documented, ``{"userId" |
    "roleId", "resource": "bucket:users", "permission": "read"}``, is
    translated to it.

    Raises:
        TypeError: ``entry`` is not a dict.
        ValueError: ``resource`` is not ``"<type>:<name>"``.
    """
    fields = camel_keys(entry, what)
    for key, subject in (("userId", "user"), ("roleId", "role")):
        if key in fields and "subjectId" not in fields:
            fields["subjectType"] = fields.get("subjectType", subject)
            fields["subjectId"] = fields.pop(key)
    if "resource" in fields and "resourceType" not in fields:
        resource = fields.pop("resource")
        kind, sep, name = str(resource).partition(":")
        if not sep or not kind or not name:
            raise ValueError(f"{what} resource must look like 'bucket:users', got {resource!r}")
        fields["resourceType"], fields["resourceName"] = kind, name
    if "permission" in fields and "operations" not in fields:
        fields["operations"] = [fields.pop("permission")]
    if "permissions" in fields and "operations" not in fields:
        fields["operations"] = list(fields.pop("permissions"))
    return fields


class IdentityAPI:
    """Built-in identity management; access it as ``client.identity``.

    Python names are snake_case, wire fields camelCase. Every method raises
    :class:`~noex_client.DisconnectedError` when not connected,
    :class:`~noex_client.UnknownOperationError` when the server has no
    built-in identity, :class:`~noex_client.UnauthorizedError` when not logged
    in (except ``login`` / ``login_with_secret``) and
    :class:`~noex_client.ForbiddenError` without the needed role.
    """

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "IdentityAPI()"

    async def _call(self, op: str, **fields: Any) -> Any:
        return await self._client.request(f"identity.{op}", **fields)

    # -- authentication ----------------------------------------------------------------------

    async def login(self, username: str, password: str) -> dict[str, Any]:
        """Log in; returns ``{"token", "expiresAt", "user": {"id", "username", "roles"}}``.

        Raises:
            UnauthorizedError: Invalid credentials or disabled account.
            RateLimitedError: Too many failed attempts (``retry_after_ms``).
        """
        result: dict[str, Any] = await self._call("login", username=username, password=password)
        return result

    async def login_with_secret(self, secret: str) -> dict[str, Any]:
        """Log in as the virtual superadmin with the server's admin secret.

        Raises:
            UnauthorizedError: Invalid secret.
            RateLimitedError: Too many failed attempts.
        """
        result: dict[str, Any] = await self._call("loginWithSecret", secret=secret)
        return result

    async def whoami(self) -> dict[str, Any]:
        """``{"authenticated": True, "userId", "roles", "expiresAt"}``."""
        result: dict[str, Any] = await self._call("whoami")
        return result

    async def refresh_session(self) -> dict[str, Any]:
        """A new login result; the old token stops working.

        Raises:
            UnauthorizedError: The connection has no session of its own
                (e.g. it logged in with ``auth.login``).
        """
        result: dict[str, Any] = await self._call("refreshSession")
        return result

    async def logout(self) -> dict[str, Any]:
        """End the session; returns ``{"loggedOut": True}``."""
        result: dict[str, Any] = await self._call("logout")
        return result

    # -- users -------------------------------------------------------------------------------

    async def create_user(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create a user from ``{"username", "password", "displayName"?, "email"?,
        "enabled"?, "metadata"?}`` (snake_case keys accepted); returns the user.

        Raises:
            ValidationError: Username not 3-64 characters or password shorter than 8.
            AlreadyExistsError: The username is taken.
        """
        fields = camel_keys(data, "user data")
        result: dict[str, Any] = await self._call("createUser", **fields)
        return result

    async def get_user(self, user_id: str) -> dict[str, Any]:
        """The user ``user_id``.

        Raises:
            NotFoundError: No such user.
        """
        result: dict[str, Any] = await self._call("getUser", userId=user_id)
        return result

    async def update_user(self, user_id: str, updates: Mapping[str, Any]) -> dict[str, Any]:
        """Change ``displayName`` / ``email`` / ``metadata`` of ``user_id``; returns the user.

        Raises:
            NotFoundError: No such user.
        """
        fields = camel_keys(updates, "user updates")
        result: dict[str, Any] = await self._call("updateUser", userId=user_id, **fields)
        return result

    async def delete_user(self, user_id: str) -> dict[str, Any]:
        """Delete ``user_id`` with its sessions, roles, ACL entries and ownerships.

        Raises:
            NotFoundError: No such user.
        """
        result: dict[str, Any] = await self._call("deleteUser", userId=user_id)
        return result

    async def list_users(
        self, page: int | None = None, page_size: int | None = None
    ) -> dict[str, Any]:
        """``{"users", "total", "page", "pageSize"}``; the server defaults to page 1 of 50."""
        result: dict[str, Any] = await self._call("listUsers", page=page, pageSize=page_size)
        return result

    async def enable_user(self, user_id: str) -> dict[str, Any]:
        """Enable ``user_id``; returns the user.

        Raises:
            NotFoundError: No such user.
        """
        result: dict[str, Any] = await self._call("enableUser", userId=user_id)
        return result

    async def disable_user(self, user_id: str) -> dict[str, Any]:
        """Disable ``user_id`` and delete their stored sessions; returns the user.

        Raises:
            NotFoundError: No such user.
        """
        result: dict[str, Any] = await self._call("disableUser", userId=user_id)
        return result

    # -- passwords ---------------------------------------------------------------------------

    async def change_password(
        self, user_id: str, current_password: str, new_password: str
    ) -> dict[str, Any]:
        """Change your own password; returns ``{"changed": True}``.

        Raises:
            UnauthorizedError: ``current_password`` is wrong.
            ForbiddenError: ``user_id`` is not the caller.
            ValidationError: The new password is shorter than 8 characters.
        """
        result: dict[str, Any] = await self._call(
            "changePassword",
            userId=user_id,
            currentPassword=current_password,
            newPassword=new_password,
        )
        return result

    async def reset_password(self, user_id: str, new_password: str) -> dict[str, Any]:
        """Set ``user_id``'s password (admin); returns ``{"reset": True}``."""
        result: dict[str, Any] = await self._call(
            "resetPassword", userId=user_id, newPassword=new_password
        )
        return result

    # -- roles -------------------------------------------------------------------------------

    async def create_role(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create a role from ``{"name", "description"?, "permissions"?}``; returns it.

        Raises:
            AlreadyExistsError: The name is taken.
            ForbiddenError: Not a superadmin.
        """
        fields = camel_keys(data, "role data")
        result: dict[str, Any] = await self._call("createRole", **fields)
        return result

    async def update_role(self, role_id: str, updates: Mapping[str, Any]) -> dict[str, Any]:
        """Change ``description`` / ``permissions`` of ``role_id``; returns the role.

        Raises:
            NotFoundError: No such role.
        """
        fields = camel_keys(updates, "role updates")
        result: dict[str, Any] = await self._call("updateRole", roleId=role_id, **fields)
        return result

    async def delete_role(self, role_id: str) -> dict[str, Any]:
        """Delete ``role_id``; returns ``{"deleted": True}``.

        Raises:
            NotFoundError: No such role.
            ForbiddenError: A system role.
        """
        result: dict[str, Any] = await self._call("deleteRole", roleId=role_id)
        return result

    async def list_roles(self) -> dict[str, Any]:
        """``{"roles": [...]}`` including the system roles."""
        result: dict[str, Any] = await self._call("listRoles")
        return result

    async def assign_role(self, user_id: str, role_name: str) -> dict[str, Any]:
        """Give ``user_id`` the role ``role_name``; returns ``{"assigned": True}``.

        Raises:
            NotFoundError: No such user or role.
            AlreadyExistsError: The user has the role already.
        """
        result: dict[str, Any] = await self._call("assignRole", userId=user_id, roleName=role_name)
        return result

    async def remove_role(self, user_id: str, role_name: str) -> dict[str, Any]:
        """Take ``role_name`` from ``user_id``; returns ``{"removed": True}``.

        Raises:
            NotFoundError: No such role, or the user does not have it.
        """
        result: dict[str, Any] = await self._call("removeRole", userId=user_id, roleName=role_name)
        return result

    async def get_user_roles(self, user_id: str) -> dict[str, Any]:
        """``{"roles": [...]}`` of ``user_id``.

        Raises:
            NotFoundError: No such user.
        """
        result: dict[str, Any] = await self._call("getUserRoles", userId=user_id)
        return result

    # -- ACL ---------------------------------------------------------------------------------

    async def grant(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Grant operations on a resource; see :func:`acl_fields` for ``entry``.

        Returns ``{"granted": True}``.

        Raises:
            ValidationError: Unknown operation or subject type.
            NotFoundError: The subject does not exist.
            ForbiddenError: The caller may not manage this resource.
        """
        result: dict[str, Any] = await self._call("grant", **acl_fields(entry, "grant"))
        return result

    async def revoke(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Revoke operations (all of them when ``operations`` is absent).

        Returns ``{"revoked": True}``.

        Raises:
            NotFoundError: No such ACL entry.
            ForbiddenError: The caller may not manage this resource.
        """
        result: dict[str, Any] = await self._call("revoke", **acl_fields(entry, "revoke"))
        return result

    async def get_acl(self, resource_type: str, resource_name: str) -> dict[str, Any]:
        """``{"entries": [{"subjectType", "subjectId", "subjectName", "operations",
        "isOwner"}]}`` for the resource."""
        result: dict[str, Any] = await self._call(
            "getAcl", resourceType=resource_type, resourceName=resource_name
        )
        return result

    async def my_access(self) -> dict[str, Any]:
        """``{"user", "resources": [{"resourceType", "resourceName", "operations",
        "isOwner"}]}`` for the caller."""
        result: dict[str, Any] = await self._call("myAccess")
        return result

    # -- ownership ---------------------------------------------------------------------------

    async def get_owner(self, resource_type: str, resource_name: str) -> dict[str, Any]:
        """``{"owner": {"userId", "username", "resourceType", "resourceName"} | None}``."""
        result: dict[str, Any] = await self._call(
            "getOwner", resourceType=resource_type, resourceName=resource_name
        )
        return result

    async def transfer_owner(
        self, resource_type: str, resource_name: str, new_owner_id: str
    ) -> dict[str, Any]:
        """Make ``new_owner_id`` the owner; returns ``{"transferred": True}``.

        Raises:
            NotFoundError: The resource has no owner or the new owner does not exist.
            ForbiddenError: Only the owner or a superadmin may transfer.
        """
        result: dict[str, Any] = await self._call(
            "transferOwner",
            resourceType=resource_type,
            resourceName=resource_name,
            newOwnerId=new_owner_id,
        )
        return result
