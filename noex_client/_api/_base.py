"""What an API group needs from the client, and the small helpers every group shares."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

from .._errors import ProtocolError
from .._protocol import JSON_NULL

__all__ = [
    "JSON_NULL",
    "Requester",
    "camel",
    "camel_keys",
    "initial_data",
    "json_value",
    "require_text",
    "unwrap",
]

_RESERVED: Final = frozenset({"id", "type"})
_UPPER_AFTER_UNDERSCORE: Final = re.compile(r"_([a-z0-9])")


class Requester(Protocol):
    """The client surface API groups are written against: the one request path."""

    async def request(
        self, msg_type: str, payload: Mapping[str, Any] | None = None, **fields: Any
    ) -> Any:
        """Send ``msg_type`` with ``fields`` (wire names) and return the result data."""
        ...


def camel(name: str) -> str:
    """``page_size`` → ``pageSize``; names without underscores are returned as they are."""
    if name.startswith("_") or "_" not in name:
        return name
    return _UPPER_AFTER_UNDERSCORE.sub(lambda m: m.group(1).upper(), name)


def camel_keys(fields: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """Top-level keys of ``fields`` as wire names (snake_case accepted, camelCase kept).

    The request's own ``id`` and ``type`` cannot be set this way.

    Raises:
        TypeError: ``fields`` is not a mapping with string keys.
        ValueError: A key is ``id`` or ``type``.
    """
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(fields).__name__}")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if not isinstance(key, str):
            raise TypeError(f"{what} keys must be strings, got {key!r}")
        wire = camel(key)
        if wire in _RESERVED:
            raise ValueError(f"{what} cannot contain the key {key!r} (reserved by the protocol)")
        out[wire] = value
    return out


def initial_data(result: Any) -> Any:
    """The initial data of a subscribe result ``{"subscriptionId", "data"?}``."""
    return result.get("data") if isinstance(result, dict) else None


def json_value(value: Any) -> Any:
    """``value`` for a field that must be sent even when it is ``None`` (explicit null)."""
    return JSON_NULL if value is None else value


def require_text(value: Any, what: str) -> str:
    """Return ``value`` if it is a non-empty string.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: ``value`` is empty.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def unwrap(result: Any, key: str, op: str) -> Any:
    """``result[key]``: the part of an ``op`` result a published method returns.

    Raises:
        ProtocolError: ``result`` is not an object holding ``key``.
    """
    if not isinstance(result, dict) or key not in result:
        raise ProtocolError(f"{op} result has no {key!r} (got {type(result).__name__})")
    return result[key]
