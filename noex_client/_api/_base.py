"""What an API group needs from the client: the request path and subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .._subscriptions import SubscriptionManager

__all__ = ["Requester"]


class Requester(Protocol):
    """The client surface API groups are written against."""

    _subscriptions: SubscriptionManager

    async def request(self, op: str, /, **fields: Any) -> Any:
        """Send ``op`` with ``fields`` (wire names) and return the result data."""
        ...
