"""``IdentityAPI``: built-in users, roles, ACL and ownership (``identity.*`` on the wire)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Requester, camel_keys, unwrap

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

    async def logout(self) -> None:
        """End the session (and delete its token on the server)."""
        await self._call("logout")

    # -- users -------------------------------------------------------------------------------

    async def create_user(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """Create a user from ``{"username", "password", "displayName"?, "email"?,
        "enabled"?, "metadata"?}`` (snake_case keys accepted); returns the user.

        Raises:
            ValidationError: Username not 3-64 characters or password shorter than 8.
            AlreadyExistsError: The username is taken.
        """
        fields = camel_keys(input, "user data")
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

    async def delete_user(self, user_id: str) -> None:
        """Delete ``user_id`` with its sessions, roles, ACL entries and ownerships.

        Raises:
            NotFoundError: No such user.
            ForbiddenError: The virtual superadmin.
        """
        await self._call("deleteUser", userId=user_id)

    async def list_users(self, page: int | None = 1, page_size: int | None = 20) -> dict[str, Any]:
        """``{"users", "total", "page", "pageSize"}``: page ``page`` of ``page_size`` users.

        ``None`` leaves the field out (the server's defaults are page 1 of 50).
        """
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

    async def change_password(self, user_id: str, current_password: str, new_password: str) -> None:
        """Change your own password (every session of the user ends).

        Raises:
            UnauthorizedError: ``current_password`` is wrong.
            ForbiddenError: ``user_id`` is not the caller.
            ValidationError: The new password is shorter than 8 characters.
        """
        await self._call(
            "changePassword",
            userId=user_id,
            currentPassword=current_password,
            newPassword=new_password,
        )

    async def reset_password(self, user_id: str, new_password: str) -> None:
        """Set ``user_id``'s password (admin); every session of the user ends.

        Raises:
            NotFoundError: No such user.
            ValidationError: The password is shorter than 8 characters.
        """
        await self._call("resetPassword", userId=user_id, newPassword=new_password)

    # -- roles -------------------------------------------------------------------------------

    async def create_role(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """Create a role from ``{"name", "description"?, "permissions"?}``; returns it.

        Raises:
            AlreadyExistsError: The name is taken.
            ForbiddenError: Not a superadmin.
        """
        fields = camel_keys(input, "role data")
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

    async def delete_role(self, role_id: str) -> None:
        """Delete ``role_id``.

        Raises:
            NotFoundError: No such role.
            ForbiddenError: A system role.
        """
        await self._call("deleteRole", roleId=role_id)

    async def list_roles(self) -> list[dict[str, Any]]:
        """Every role, the system roles included."""
        roles: list[dict[str, Any]] = unwrap(
            await self._call("listRoles"), "roles", "identity.listRoles"
        )
        return roles

    async def assign_role(self, user_id: str, role_name: str) -> None:
        """Give ``user_id`` the role ``role_name``.

        Raises:
            NotFoundError: No such user or role.
            AlreadyExistsError: The user has the role already.
        """
        await self._call("assignRole", userId=user_id, roleName=role_name)

    async def remove_role(self, user_id: str, role_name: str) -> None:
        """Take ``role_name`` from ``user_id``.

        Raises:
            NotFoundError: No such role, or the user does not have it.
        """
        await self._call("removeRole", userId=user_id, roleName=role_name)

    async def get_user_roles(self, user_id: str) -> list[dict[str, Any]]:
        """The roles of ``user_id``.

        Raises:
            NotFoundError: No such user.
        """
        result = await self._call("getUserRoles", userId=user_id)
        roles: list[dict[str, Any]] = unwrap(result, "roles", "identity.getUserRoles")
        return roles

    # -- ACL ---------------------------------------------------------------------------------

    async def grant(self, input: Mapping[str, Any]) -> None:
        """Grant operations on a resource; see :func:`acl_fields` for ``input``.

        Raises:
            ValidationError: Unknown operation or subject type.
            NotFoundError: The subject does not exist.
            ForbiddenError: The caller may not manage this resource.
        """
        await self._call("grant", **acl_fields(input, "grant"))

    async def revoke(self, input: Mapping[str, Any]) -> None:
        """Revoke operations (all of them when ``operations`` is absent).

        Raises:
            NotFoundError: No such ACL entry.
            ForbiddenError: The caller may not manage this resource.
        """
        await self._call("revoke", **acl_fields(input, "revoke"))

    async def get_acl(self, resource_type: str, resource_name: str) -> list[dict[str, Any]]:
        """The resource's ACL: ``[{"subjectType", "subjectId", "subjectName",
        "operations", "isOwner"}]`` (an owner without entry comes first)."""
        result = await self._call("getAcl", resourceType=resource_type, resourceName=resource_name)
        entries: list[dict[str, Any]] = unwrap(result, "entries", "identity.getAcl")
        return entries

    async def my_access(self) -> dict[str, Any]:
        """``{"user", "resources": [{"resourceType", "resourceName", "operations",
        "isOwner"}]}`` for the caller."""
        result: dict[str, Any] = await self._call("myAccess")
        return result

    # -- ownership ---------------------------------------------------------------------------

    async def get_owner(self, resource_type: str, resource_name: str) -> dict[str, Any] | None:
        """The owner ``{"userId", "username", "resourceType", "resourceName"}``, or
        ``None`` when the resource has none."""
        result = await self._call(
            "getOwner", resourceType=resource_type, resourceName=resource_name
        )
        owner: dict[str, Any] | None = unwrap(result, "owner", "identity.getOwner")
        return owner

    async def transfer_owner(
        self, resource_type: str, resource_name: str, new_owner_id: str
    ) -> None:
        """Make ``new_owner_id`` the owner.

        Raises:
            NotFoundError: The resource has no owner or the new owner does not exist.
            ForbiddenError: Only the owner or a superadmin may transfer.
        """
        await self._call(
            "transferOwner",
            resourceType=resource_type,
            resourceName=resource_name,
            newOwnerId=new_owner_id,
        )
