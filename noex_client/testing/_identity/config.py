"""Configuration of built-in identity: ``auth: {"builtIn": true, "adminSecret", ...}``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import ConfigError

__all__ = ["IdentityConfig"]

_KEYS = {
    "builtIn", "adminSecret", "sessionTtl", "loginRateLimit", "passwordMinLength",
    "maxSessionsPerUser", "revocationTtlMs",
}  # fmt: skip


def _positive(data: Mapping[str, Any], key: str, default: int, where: str = "auth") -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}.{key} must be a positive number")
    return int(value)


@dataclass
class IdentityConfig:
    """Built-in identity: users, roles, ACLs and sessions kept by the server.

    Attributes:
        admin_secret: The secret of ``identity.loginWithSecret`` (never shown
            in reprs).
        session_ttl_ms: Lifetime of a login session (default 24 h).
        login_max_attempts: Failed logins per user name and per IP before
            ``RATE_LIMITED`` (default 5).
        login_window_ms: The window those failures are counted in (default 15 min).
        revocation_ttl_ms: How long a revoked user cannot ``auth.login`` again.
    """

    admin_secret: str = field(repr=False)
    session_ttl_ms: int = 86_400_000
    login_max_attempts: int = 5
    login_window_ms: int = 900_000
    revocation_ttl_ms: int = 3_600_000

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> IdentityConfig:
        """Build from the JSON ``auth`` config with ``builtIn: true``.

        Keys: ``adminSecret`` (required), ``sessionTtl`` (ms),
        ``loginRateLimit`` (``{"maxAttempts", "windowMs"}``). The server's
        ``passwordMinLength`` and ``maxSessionsPerUser`` are accepted and,
        as on the real server, have no effect (the minimum password length
        is 8, sessions are unlimited).

        Raises:
            ConfigError: An unknown key, a missing secret or a malformed value.
        """
        unknown = set(data) - _KEYS
        if unknown:
            raise ConfigError(f"auth: unknown built-in identity key(s) {sorted(unknown)}")
        secret = data.get("adminSecret")
        if not isinstance(secret, str) or not secret:
            raise ConfigError("auth.adminSecret must be a non-empty string with builtIn: true")
        limit = data.get("loginRateLimit") or {}
        if not isinstance(limit, Mapping):
            raise ConfigError("auth.loginRateLimit must be an object {maxAttempts, windowMs}")
        unknown = set(limit) - {"maxAttempts", "windowMs"}
        if unknown:
            raise ConfigError(f"auth.loginRateLimit: unknown key(s) {sorted(unknown)}")
        return cls(
            admin_secret=secret,
            session_ttl_ms=_positive(data, "sessionTtl", 86_400_000),
            login_max_attempts=_positive(limit, "maxAttempts", 5, "auth.loginRateLimit"),
            login_window_ms=_positive(limit, "windowMs", 900_000, "auth.loginRateLimit"),
            revocation_ttl_ms=_positive(data, "revocationTtlMs", 3_600_000),
        )
