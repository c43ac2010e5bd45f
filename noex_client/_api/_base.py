"""What an API group needs from the client, and the small helpers every group shares."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

if TYPE_CHECKING:
    from .._subscriptions import SubscriptionManager

__all__ = [
    "JSON_NULL",
    "Requester",
    "camel",
    "camel_keys",
    "json_value",
    "require_text",
    "unsubscribe_by_id",
]

#: Sent as an explicit JSON ``null``: the request path omits ``None`` fields, but a
#: few fields (``rules.setFact`` ``value``) must be present even when null.
JSON_NULL: Final = msgspec.Raw(b"null")

_RESERVED: Final = frozenset({"id", "type"})
_UPPER_AFTER_UNDERSCORE: Final = re.compile(r"_([a-z0-9])")


class Requester(Protocol):
    """The client surface API groups are written against."""

    _subscriptions: SubscriptionManager

    async def request(self, op: str, /, **fields: Any) -> Any:
        """Send ``op`` with ``fields`` (wire names) and return the result data."""
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


async def unsubscribe_by_id(
    client: Requester, subscribe_op: str, unsubscribe_op: str, subscription_id: str
) -> None:
    """Unsubscribe ``subscription_id`` on the server and wait for the confirmation.

    A subscription of this client with that id stops delivering at once and is
    not restored after a reconnect. Unlike the synchronous unsubscribe
    callable, the server's answer is awaited (and its error raised).
    """
    for sub in client._subscriptions.active():
        if sub.server_id == subscription_id and sub.op == subscribe_op:
            connection = sub.connection
            # Clearing the id first keeps close() from sending its own background
            # unsubscribe: this call sends it and awaits the answer instead.
            sub.server_id = None
            client._subscriptions.close(sub)
            if connection is not None:
                connection.session.unbind(subscription_id)
            break
    await client.request(unsubscribe_op, subscriptionId=subscription_id)
