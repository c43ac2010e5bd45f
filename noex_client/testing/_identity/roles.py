"""The four system roles every built-in identity server starts with.

Names, descriptions and permissions are those a real server returns from
``identity.listRoles`` (``identity.jsonl``). A server with a logic engine
adds the ``logic.*`` operations by tier (protocol §3.12): ``admin`` may run
all of them, ``writer`` and ``reader`` the read tier (``queryView``,
``subscribeView``, ``unsubscribeView``, ``evaluateExpr``).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["LOGIC_READ", "SYSTEM_ROLES", "system_roles"]


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

LOGIC_READ = (
    "logic.queryView",
    "logic.subscribeView",
    "logic.unsubscribeView",
    "logic.evaluateExpr",
)
"""The read-tier logic operations (the other ``logic.*`` operations are admin tier)."""
_LOGIC = {"admin": _allow("logic.*"), "writer": _allow(*LOGIC_READ), "reader": _allow(*LOGIC_READ)}


def system_roles(logic: bool = False) -> list[dict[str, Any]]:
    """The system roles; with ``logic``, each also grants the logic operations of its tier."""
    roles = copy.deepcopy(SYSTEM_ROLES)
    if logic:
        for role in roles:
            if role["name"] in _LOGIC:
                role["permissions"].append(_LOGIC[role["name"]])
    return roles
