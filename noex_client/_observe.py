"""Request observability and secret masking.

Tokens, passwords and secrets never reach logs, reprs, events or exception
messages: request fields are masked with :func:`mask_secrets` and URLs lose
their ``user:password@`` part with :func:`safe_url`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from ._events import EventEmitter, RequestInfo

__all__ = ["READ_OPS", "SECRET_FIELDS", "mask_secrets", "observe_request", "safe_url"]

logger = logging.getLogger("noex_client")

#: Field names whose values are replaced by ``"***"`` (any nesting level).
SECRET_FIELDS: Final = frozenset(
    {"token", "password", "secret", "currentPassword", "newPassword", "adminSecret"}
)

#: Operations without side effects: safe to re-send after a reconnect (``retry_reads``).
READ_OPS: Final = frozenset(
    {
        "store.get",
        "store.all",
        "store.where",
        "store.findOne",
        "store.count",
        "store.first",
        "store.last",
        "store.paginate",
        "store.sum",
        "store.avg",
        "store.min",
        "store.max",
        "store.buckets",
        "store.stats",
        "store.getBucketSchema",
        "store.listQueries",
        "rules.getFact",
        "rules.queryFacts",
        "rules.getAllFacts",
        "rules.stats",
        "rules.getRule",
        "rules.getRules",
        "rules.validateRule",
        "auth.whoami",
        "identity.whoami",
        "identity.getUser",
        "identity.listUsers",
        "identity.listRoles",
        "identity.getUserRoles",
        "identity.getAcl",
        "identity.myAccess",
        "identity.getOwner",
        "audit.query",
        "procedures.get",
        "procedures.list",
        "server.stats",
        "server.connections",
    }
)


def mask_secrets(value: Any) -> Any:
    """Return ``value`` with every secret field's value replaced by ``"***"``."""
    if isinstance(value, dict):
        return {
            k: "***" if k in SECRET_FIELDS and v is not None else mask_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def safe_url(url: str) -> str:
    """``url`` without credentials (``ws://user:pw@host`` → ``ws://***@host``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def observe_request(
    events: EventEmitter, op: str, fields: dict[str, Any], started: float, outcome: str
) -> None:
    """Emit the ``request`` event and a DEBUG log line for one finished request."""
    duration_ms = (time.perf_counter() - started) * 1000.0
    info = RequestInfo(op, duration_ms, outcome, mask_secrets(fields))
    logger.debug("noex_client: %s %s in %.2f ms", op, outcome, duration_ms)
    events.emit("request", info)
