"""``RulesAPI``: rule-engine events and topic subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._events import Unsubscribe
from ._base import Requester

__all__ = ["RulesAPI"]


class RulesAPI:
    """Rule-engine operations; access it as ``client.rules``."""

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def emit(
        self,
        topic: str,
        data: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> dict[str, Any]:
        """Emit an event on ``topic``; returns the stored event."""
        result: dict[str, Any] = await self._client.request(
            "rules.emit",
            topic=topic,
            data=data,
            correlationId=correlation_id,
            causationId=causation_id,
        )
        return result

    async def subscribe(self, pattern: str, callback: Callable[[Any, str], Any]) -> Unsubscribe:
        """Call ``callback(event, topic)`` for every event matching ``pattern``.

        The subscription survives reconnects. Returns a **synchronous**
        unsubscribe callable.

        Raises:
            DisconnectedError: Not connected.
            RulesNotAvailableError: The server has no rule engine.
        """

        def on_push(data: Any) -> Any:
            if isinstance(data, dict):
                return callback(data.get("event"), str(data.get("topic", "")))
            return None

        sub = await self._client._subscriptions.open(
            "rules.subscribe",
            {"pattern": pattern},
            unsubscribe_op="rules.unsubscribe",
            on_result=lambda _result: None,
            on_push=on_push,
        )
        return sub.close
