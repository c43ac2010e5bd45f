"""The four system roles every built-in identity server starts with.

Names, descriptions and permissions are those a real server returns from
``identity.listRoles`` (``identity.jsonl``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SYSTEM_ROLES"]


def _allow(*ops: str) -> dict[str, Any]:
    return {"allow": list(ops)}


_STORE_READ = [
    _allow("store.get", "store.all", "store.where", "store.findOne", "store.count"),
    _allow("store.first", "store.last", "store.paginate"),
    _allow("store.sum", "store.avg", "store.min", "store.max"),
    _allow("store.subscribe", "store.unsubscribe", "store.buckets", "store.stats"),
]
_RULES_READ = [
    _allow("rules.getFact", "rules.queryFacts", "rules.getAllFacts"),
    _allow("rules.subscribe", "rules.unsubscribe", "rules.stats"),
]
_USER_ADMIN = [
    _allow(
        "identity.createUser",
        "identity.getUser",
        "identity.updateUser",
        "identity.deleteUser",
        "identity.listUsers",
    ),
    _allow("identity.enableUser", "identity.disableUser", "identity.resetPassword"),
    _allow(
        "identity.listRoles",
        "identity.assignRole",
        "identity.removeRole",
        "identity.getUserRoles",
    ),
    _allow("identity.grant", "identity.revoke", "identity.getAcl"),
]

SYSTEM_ROLES: list[dict[str, Any]] = [
    {
        "name": "superadmin",
        "description": "Full access to everything including identity management",
        "permissions": [{"allow": "*"}],
    },
    {
        "name": "admin",
        "description": "Structural operations, data mutations, and reads",
        "permissions": [
            _allow("store.*", "rules.*", "procedures.*", "server.*", "audit.*"),
            *_USER_ADMIN,
        ],
    },
    {
        "name": "writer",
        "description": "Data mutations and reads",
        "permissions": [
            _allow(
                "store.insert",
                "store.update",
                "store.delete",
                "store.clear",
                "store.transaction",
            ),
            *_STORE_READ,
            _allow("rules.emit", "rules.setFact", "rules.deleteFact"),
            *_RULES_READ,
            _allow("procedures.call", "procedures.get"),
        ],
    },
    {
        "name": "reader",
        "description": "Read-only access",
        "permissions": [*_STORE_READ, *_RULES_READ, _allow("procedures.get")],
    },
]
