"""Request field validation with noex-server's byte-exact messages (§3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import validation
from ._store._values import UNDEFINED, is_number

__all__ = ["opt_obj", "req_key", "req_obj", "req_posint", "req_str"]


def req_str(msg: Mapping[str, Any], name: str) -> str:
    """A required non-empty string field."""
    value = msg.get(name)
    if not isinstance(value, str) or not value:
        raise validation(f'Missing or invalid "{name}": expected non-empty string')
    return value


def req_obj(msg: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A required object field (not null, not an array)."""
    value = msg.get(name)
    if not isinstance(value, dict):
        raise validation(f'Missing or invalid "{name}": expected object')
    return value


def opt_obj(msg: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """An optional object field; ``null`` counts as absent."""
    value = msg.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise validation(f'Invalid "{name}": expected object')
    return value


def req_posint(msg: Mapping[str, Any], name: str) -> int:
    """A required integer >= 1."""
    value: Any = msg.get(name)
    if not is_number(value) or value != int(value) or value < 1:
        raise validation(f'Missing or invalid "{name}": expected positive integer')
    return int(value)


def req_key(msg: Mapping[str, Any]) -> Any:
    """The ``key`` field: any non-null JSON value."""
    value = msg.get("key", UNDEFINED)
    if value is None or value is UNDEFINED:
        raise validation('Missing "key": expected non-null value')
    return value
