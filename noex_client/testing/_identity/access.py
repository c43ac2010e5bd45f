"""ACL entries, resource ownership and the built-in ``isAllowed`` check (§3.12.1)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._auth import permission_allows, tier_of
from .._errors import RequestError
from .directory import Directory

__all__ = ["ACL_OPERATIONS", "AccessControl", "AclEntry"]

ACL_OPERATIONS = ("read", "write", "admin")
_RESOURCE_TYPES = {"store": "bucket", "rules": "topic", "procedures": "procedure"}


@dataclass
class AclEntry:
    """What one user or role may do on one resource."""

    subject_type: str
    subject_id: str
    resource_type: str
    resource_name: str
    operations: list[str]

    def on(self, resource_type: str, resource_name: str) -> bool:
        """Whether the entry is about this resource."""
        return (self.resource_type, self.resource_name) == (resource_type, resource_name)

    def covers(self, user_id: str, role_ids: set[str]) -> bool:
        """Whether the entry is the user's own or one of the user's roles'."""
        if self.subject_type == "user":
            return self.subject_id == user_id
        return self.subject_type == "role" and self.subject_id in role_ids


def acl_operation(op: str) -> str | None:
    """The ACL operation an op needs: its tier; ``server.*`` and ``audit.*`` need admin."""
    if op.startswith(("server.", "audit.")):
        return "admin"
    return tier_of(op)


class AccessControl:
    """ACL entries and owners, checked against the live role data of a :class:`Directory`."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.entries: list[AclEntry] = []
        self.owners: dict[tuple[str, str], str] = {}

    def snapshot(self) -> dict[str, Any]:
        """ACL entries and owners as JSON."""
        return {
            "entries": [dataclasses.asdict(e) for e in self.entries],
            "owners": [[kind, name, user] for (kind, name), user in self.owners.items()],
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the entries and owners with a :meth:`snapshot`."""
        self.entries = [AclEntry(**e) for e in data["entries"]]
        self.owners = {(kind, name): user for kind, name, user in data["owners"]}

    # -- the gate check ---------------------------------------------------------
    def is_allowed(self, user_id: str, op: str, resource: str) -> bool:
        """The first-match-wins decision of §3.12.1, with the user's current roles."""
        roles = self.directory.roles_of(user_id)
        if any(r["name"] == "superadmin" for r in roles):
            return True
        resource_type = _RESOURCE_TYPES.get(op.partition(".")[0])
        if resource_type is not None and resource != "*":
            needed = acl_operation(op)
            role_ids = {r["id"] for r in roles}
            for entry in self.entries:
                if (
                    entry.on(resource_type, resource)
                    and needed in entry.operations
                    and entry.covers(user_id, role_ids)
                ):
                    return True
            if self.owners.get((resource_type, resource)) == user_id:
                return True
        return any(
            isinstance(p, dict)
            and permission_allows(p.get("allow"), p.get("buckets"), p.get("topics"), op, resource)
            for role in roles
            for p in role.get("permissions") or []
        )

    # -- ownership ----------------------------------------------------------------
    def set_owner(self, resource_type: str, resource_name: str, user_id: str) -> None:
        """Record ``user_id`` as the owner of a resource."""
        self.owners[(resource_type, resource_name)] = user_id

    def forget_resource(self, resource_type: str, resource_name: str) -> None:
        """Drop the owner and every ACL entry of a resource (it was deleted)."""
        self.owners.pop((resource_type, resource_name), None)
        self.entries = [e for e in self.entries if not e.on(resource_type, resource_name)]

    def forget_user(self, user_id: str) -> None:
        """Drop a deleted user's ACL entries and owner records."""
        self.entries = [
            e for e in self.entries if (e.subject_type, e.subject_id) != ("user", user_id)
        ]
        self.owners = {k: v for k, v in self.owners.items() if v != user_id}

    def owner_info(self, resource_type: str, resource_name: str) -> dict[str, str] | None:
        """``{userId, username, resourceType, resourceName}`` of the owner, or ``None``."""
        user_id = self.owners.get((resource_type, resource_name))
        if user_id is None:
            return None
        return {
            "userId": user_id,
            "username": self.directory.username_of(user_id) or user_id,
            "resourceType": resource_type,
            "resourceName": resource_name,
        }

    def transfer(
        self, roles: Sequence[str], user_id: str, resource: tuple[str, str], new_owner: str
    ) -> None:
        """Give a resource to another user.

        Raises:
            RequestError: ``NOT_FOUND`` "Resource has no owner" / "New owner
                not found"; ``FORBIDDEN`` unless the caller owns the resource
                or is a superadmin.
        """
        owner = self.owners.get(resource)
        if owner is None:
            raise RequestError("NOT_FOUND", "Resource has no owner")
        if owner != user_id and "superadmin" not in roles:
            raise RequestError("FORBIDDEN", "Only the owner or superadmin can transfer ownership")
        if self.directory.username_of(new_owner) is None:
            raise RequestError("NOT_FOUND", "New owner not found")
        self.owners[resource] = new_owner

    # -- ACL management -----------------------------------------------------------
    def can_manage(self, roles: Sequence[str], user_id: str, resource: tuple[str, str]) -> bool:
        """Superadmin, admin, the owner, or an ``admin`` ACL on the resource."""
        if "superadmin" in roles or "admin" in roles or self.owners.get(resource) == user_id:
            return True
        role_ids = {r["id"] for r in self.directory.roles_of(user_id)}
        return any(
            e.on(*resource) and "admin" in e.operations and e.covers(user_id, role_ids)
            for e in self.entries
        )

    def _entry(self, subject: tuple[str, str], resource: tuple[str, str]) -> AclEntry | None:
        return next(
            (
                e
                for e in self.entries
                if (e.subject_type, e.subject_id) == subject and e.on(*resource)
            ),
            None,
        )

    def grant(self, subject: tuple[str, str], resource: tuple[str, str], ops: list[str]) -> None:
        """Add operations to the subject's entry on a resource (created when missing).

        Raises:
            RequestError: ``NOT_FOUND`` "Subject user not found" / "Subject role not found".
        """
        kind, subject_id = subject
        exists = (
            self.directory.user(subject_id) is not None
            if kind == "user"
            else subject_id in self.directory.roles
        )
        if not exists:
            raise RequestError("NOT_FOUND", f"Subject {kind} not found")
        entry = self._entry(subject, resource)
        if entry is None:
            self.entries.append(AclEntry(kind, subject_id, *resource, list(dict.fromkeys(ops))))
        else:
            entry.operations = list(dict.fromkeys([*entry.operations, *ops]))

    def revoke(
        self, subject: tuple[str, str], resource: tuple[str, str], ops: list[str] | None
    ) -> None:
        """Remove operations (all of them when ``ops`` is empty or ``None``).

        Raises:
            RequestError: ``NOT_FOUND`` "ACL entry not found".
        """
        entry = self._entry(subject, resource)
        if entry is None:
            raise RequestError("NOT_FOUND", "ACL entry not found")
        entry.operations = [o for o in entry.operations if ops and o not in ops]
        if not entry.operations:
            self.entries.remove(entry)

    def acl(self, resource: tuple[str, str]) -> list[dict[str, object]]:
        """The ``identity.getAcl`` entries; an owner without an entry comes first."""
        owner = self.owners.get(resource)
        entries = [e for e in self.entries if e.on(*resource)]
        out = [
            {
                "subjectType": e.subject_type,
                "subjectId": e.subject_id,
                "subjectName": self._subject_name(e.subject_type, e.subject_id),
                "operations": list(e.operations),
                "isOwner": e.subject_type == "user" and e.subject_id == owner,
            }
            for e in entries
        ]
        if owner is not None and not any(o["isOwner"] for o in out):
            out.insert(0, {
                "subjectType": "user",
                "subjectId": owner,
                "subjectName": self._subject_name("user", owner),
                "operations": [],
                "isOwner": True,
            })  # fmt: skip
        return out

    def _subject_name(self, kind: str, subject_id: str) -> str:
        if kind == "user":
            return self.directory.username_of(subject_id) or subject_id
        role = self.directory.roles.get(subject_id)
        return subject_id if role is None else str(role["name"])

    def my_access(self, user_id: str) -> list[dict[str, object]]:
        """The ``identity.myAccess`` resources: ACL grants (own and via roles) and ownership."""
        role_ids = {r["id"] for r in self.directory.roles_of(user_id)}
        found: dict[tuple[str, str], set[str]] = {}
        for e in self.entries:
            if e.covers(user_id, role_ids):
                found.setdefault((e.resource_type, e.resource_name), set()).update(e.operations)
        owned = [k for k, v in self.owners.items() if v == user_id]
        for key in owned:
            found.setdefault(key, set()).update(ACL_OPERATIONS)
        return [
            {
                "resourceType": kind,
                "resourceName": name,
                "operations": sorted(ops),
                "isOwner": (kind, name) in owned,
            }
            for (kind, name), ops in found.items()
        ]
