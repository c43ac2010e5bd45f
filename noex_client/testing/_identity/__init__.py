"""Built-in identity of the test server (sans-I/O), as recorded in ``identity.jsonl``.

- :mod:`.config`: :class:`IdentityConfig` (``auth: {"builtIn": true, ...}``);
- :mod:`.directory`: users, roles, role assignments and sessions;
- :mod:`.access`: ACL entries, owners and the gate's ``isAllowed``;
- :mod:`.limiter`: failed-login counters;
- :mod:`.passwords`: scrypt password hashes;
- :mod:`.engine`: :class:`IdentityEngine`, what the gate and handlers use.
"""

from .access import ACL_OPERATIONS
from .config import IdentityConfig
from .directory import SUPERADMIN
from .engine import IdentityEngine, require_admin, require_superadmin, signed_in
from .passwords import hash_password, verify_password

__all__ = [
    "ACL_OPERATIONS",
    "SUPERADMIN",
    "IdentityConfig",
    "IdentityEngine",
    "hash_password",
    "require_admin",
    "require_superadmin",
    "signed_in",
    "verify_password",
]
