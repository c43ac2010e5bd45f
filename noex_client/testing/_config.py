"""Server configuration: the Python options and the JSON config shape.

The JSON shape is the one the transcripts record in ``meta.server_configs``::

    {"buckets": [{"name", "schema", "key"?, "indexes"?, ...}],
     "queries": [{"name", "type": "all"|"where"|..., "bucket", "field"?}],
     "auth": {"sessions": {token: {"userId", "roles", "expiresAt"?}},
              "required"?, "permissions"?}
           | {"builtIn": true, "adminSecret", "sessionTtl"?, "loginRateLimit"?},
     "audit": {"tiers"?, "maxEntries"?} (or true for the defaults),
     "rules": false, "logic": true, "heartbeat": {"intervalMs", "timeoutMs"},
     "rateLimit": {"maxRequests", "windowMs"},
     "connectionLimits": {"maxSubscriptionsPerConnection", "maxTotalSubscriptions"},
     "maxConnectionsPerIp", "maxPayloadBytes", "gracePeriodMs",
     "exposeErrorDetails", "host", "port", "path", "name", "storeName",
     "persistence": {"path": "<data directory>"}}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._audit import AuditConfig
from ._auth import AuthConfig
from ._errors import ConfigError
from ._identity import IdentityConfig
from ._store import QueryFunction
from ._store.queries import config_query

__all__ = ["RateLimit", "ServerConfig", "normalize_bucket", "parse_auth"]

_KEYS = {
    "buckets", "queries", "auth", "audit", "rules", "logic", "heartbeat", "rateLimit",
    "connectionLimits",
    "maxConnectionsPerIp", "maxPayloadBytes", "gracePeriodMs", "exposeErrorDetails",
    "host", "port", "path", "name", "storeName", "allowedOrigins", "persistence",
}  # fmt: skip


@dataclass(frozen=True)
class RateLimit:
    """Sliding-window request limit per user (or IP when anonymous)."""

    max_requests: int
    window_ms: int


@dataclass
class ServerConfig:
    """Everything a :class:`LocalServer` can be configured with.

    Attributes mirror noex-server's options; durations are in milliseconds.
    ``services`` (name -> an object or a mapping of synchronous methods, for
    the ``call_service`` rule action) exists in Python only;
    ``persistence_path`` (JSON ``"persistence": {"path": ...}``) is a data
    directory where persistent buckets and built-in identity data survive
    restarts.
    """

    buckets: list[dict[str, Any]] = field(default_factory=list)
    queries: dict[str, QueryFunction | dict[str, Any]] = field(default_factory=dict)
    auth: AuthConfig | None = None
    identity: IdentityConfig | None = None
    audit: AuditConfig | None = None
    rules: bool = True
    services: dict[str, Any] = field(default_factory=dict)
    logic: bool = False
    heartbeat_interval_ms: int = 30_000
    rate_limit: RateLimit | None = None
    max_subscriptions_per_connection: int = 100
    max_total_subscriptions: int = 10_000
    max_connections_per_ip: int | None = None
    max_payload_bytes: int = 1_048_576
    grace_period_ms: int = 0
    expose_error_details: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    path: str = "/"
    name: str = "noex-server"
    store_name: str | None = None
    allowed_origins: list[str] | None = None
    persistence_path: str | None = None

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> ServerConfig:
        """Parse the JSON config shape.

        Raises:
            ConfigError: An unknown key or a malformed value, named in the message.
        """
        if not isinstance(data, Mapping):
            raise ConfigError("config must be a JSON object")
        unknown = set(data) - _KEYS
        if unknown:
            raise ConfigError(f"unknown config key(s): {sorted(unknown)}")
        try:
            return cls._parse(data)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"invalid config: {exc}") from exc

    @classmethod
    def _parse(cls, data: Mapping[str, Any]) -> ServerConfig:
        config = cls()
        config.buckets = [dict(b) for b in data.get("buckets", [])]
        for bucket in config.buckets:
            normalize_bucket(bucket)
        for spec in data.get("queries", []):
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise ConfigError("queries entries need a string 'name'")
            config.queries[spec["name"]] = config_query(spec)
        if data.get("auth") is not None:
            config.auth, config.identity = parse_auth(data["auth"])
        audit = data.get("audit")
        if audit is True:
            config.audit = AuditConfig()
        elif audit is not None and audit is not False:
            config.audit = AuditConfig.from_config(audit)
        config.rules = data.get("rules", True) is not False
        logic = data.get("logic", False)
        if not isinstance(logic, bool | dict) and logic is not None:
            raise ConfigError("'logic' must be true, false or an object")
        config.logic = bool(logic is True or isinstance(logic, dict))
        heartbeat = data.get("heartbeat") or {}
        config.heartbeat_interval_ms = int(heartbeat.get("intervalMs", 30_000))
        if data.get("rateLimit"):
            limit = data["rateLimit"]
            config.rate_limit = RateLimit(int(limit["maxRequests"]), int(limit["windowMs"]))
        limits = data.get("connectionLimits") or {}
        config.max_subscriptions_per_connection = int(
            limits.get("maxSubscriptionsPerConnection", 100)
        )
        config.max_total_subscriptions = int(limits.get("maxTotalSubscriptions", 10_000))
        if data.get("maxConnectionsPerIp") is not None:
            config.max_connections_per_ip = int(data["maxConnectionsPerIp"])
        config.max_payload_bytes = int(data.get("maxPayloadBytes", 1_048_576))
        config.grace_period_ms = int(data.get("gracePeriodMs", 0))
        config.expose_error_details = bool(data.get("exposeErrorDetails", True))
        config.host = str(data.get("host", "127.0.0.1"))
        config.port = int(data.get("port", 0))
        config.path = str(data.get("path", "/"))
        config.name = str(data.get("name", "noex-server"))
        config.store_name = data.get("storeName")
        persistence = data.get("persistence")
        if persistence is not None and persistence is not False:
            if not isinstance(persistence, dict) or not isinstance(persistence.get("path"), str):
                raise ConfigError("'persistence' must be an object with a string 'path'")
            config.persistence_path = persistence["path"]
        origins = data.get("allowedOrigins")
        config.allowed_origins = None if origins is None else [str(o) for o in origins]
        return config


def normalize_bucket(spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split a config bucket ``{name, schema, key?, ...}`` into name and definition.

    Without ``key`` the bucket is keyed by ``id``, a generated uuid (added
    to the schema when missing), as the recorded servers were configured.

    Raises:
        ConfigError: No name or no schema object.
    """
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ConfigError("buckets entries need a string 'name'")
    if not isinstance(spec.get("schema"), dict):
        raise ConfigError(f"bucket {spec['name']!r}: 'schema' must be an object")
    definition = copy.deepcopy(dict(spec))
    definition.pop("name")
    key = definition.setdefault("key", "id")
    if key not in definition["schema"]:
        definition["schema"] = {
            key: {"type": "string", "generated": "uuid"},
            **definition["schema"],
        }
    return spec["name"], definition


def parse_auth(data: Mapping[str, Any]) -> tuple[AuthConfig | None, IdentityConfig | None]:
    """Parse the JSON ``auth`` config: token auth, or built-in identity with ``builtIn: true``.

    Raises:
        ConfigError: Not an object, or an invalid key or value.
    """
    if not isinstance(data, Mapping):
        raise ConfigError("auth must be an object")
    if data.get("builtIn") is True:
        return None, IdentityConfig.from_config(data)
    return AuthConfig.from_config({k: v for k, v in data.items() if k != "builtIn"}), None
