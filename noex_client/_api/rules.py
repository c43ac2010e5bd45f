"""``RulesAPI``: rule-engine events, facts, topic subscriptions and rule administration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._events import Unsubscribe
from .._subscriptions import SubscriptionManager
from .._watch import Watch
from ._base import Requester, json_value, unwrap

__all__ = ["RulesAPI"]


def _split_push(data: Any) -> tuple[str, Any]:
    """``(topic, event)`` from a rules push ``data = {"topic", "event"}``."""
    if isinstance(data, dict):
        return str(data.get("topic", "")), data.get("event")
    return "", data


class RulesAPI:
    """Rule-engine operations; access it as ``client.rules``.

    Every method raises :class:`~noex_client.DisconnectedError` when not
    connected, :class:`~noex_client.RequestTimeoutError` on timeout,
    :class:`~noex_client.RulesNotAvailableError` when the server has no rule
    engine, and the server's error otherwise. Rule administration needs the
    admin tier when the server uses auth.
    """

    __slots__ = ("_client", "_subscriptions")

    def __init__(self, client: Requester, subscriptions: SubscriptionManager) -> None:
        self._client = client
        self._subscriptions = subscriptions

    def __repr__(self) -> str:
        return "RulesAPI()"

    # -- events ----------------------------------------------------------------------------

    async def emit(
        self,
        topic: str,
        data: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> dict[str, Any]:
        """Emit an event on ``topic``; returns the stored event.

        The event is ``{"id", "topic", "data", "timestamp", "source",
        "correlationId"?, "causationId"?}``. Subscriptions matching ``topic``
        (including this client's) get their push before this call returns.

        Raises:
            ValidationError: ``data`` is not an object or ``correlation_id`` is empty.
        """
        result: dict[str, Any] = await self._client.request(
            "rules.emit",
            topic=topic,
            data=data,
            correlationId=correlation_id,
            causationId=causation_id,
        )
        return result

    # -- facts -----------------------------------------------------------------------------

    async def set_fact(self, key: str, value: Any) -> dict[str, Any]:
        """Set fact ``key`` (``None`` stores null); returns the fact
        ``{"key", "value", "timestamp", "source", "version"}``."""
        result: dict[str, Any] = await self._client.request(
            "rules.setFact", key=key, value=json_value(value)
        )
        return result

    async def get_fact(self, key: str) -> Any:
        """The bare value of fact ``key``, or ``None`` when it is not set."""
        return await self._client.request("rules.getFact", key=key)

    async def delete_fact(self, key: str) -> bool:
        """Delete fact ``key``; ``True`` if it existed."""
        result = await self._client.request("rules.deleteFact", key=key)
        return bool(unwrap(result, "deleted", "rules.deleteFact"))

    async def query_facts(self, pattern: str) -> list[dict[str, Any]]:
        """Facts whose ``:``-segmented key matches ``pattern`` (``*`` = one segment)."""
        result: list[dict[str, Any]] = await self._client.request(
            "rules.queryFacts", pattern=pattern
        )
        return result

    async def get_all_facts(self) -> list[dict[str, Any]]:
        """Every fact, in insertion order."""
        result: list[dict[str, Any]] = await self._client.request("rules.getAllFacts")
        return result

    # -- subscriptions ---------------------------------------------------------------------

    async def subscribe(self, pattern: str, callback: Callable[[Any, str], Any]) -> Unsubscribe:
        """Call ``callback(event, topic)`` for every event whose topic matches ``pattern``.

        Patterns are ``.``-segmented: ``*`` alone matches everything, a final
        ``*`` matches zero or more segments (``order.*``), an inner ``*``
        exactly one. The subscription survives reconnects. A callback that
        raises is isolated (``error`` event and log). Returns a
        **synchronous** unsubscribe callable.

        Raises:
            DisconnectedError: Not connected.
            RateLimitedError: Subscription limit reached.
        """

        def on_push(data: Any) -> Any:
            topic, event = _split_push(data)
            return callback(event, topic)

        sub = await self._subscriptions.open(
            "rules.subscribe",
            {"pattern": pattern},
            unsubscribe_op="rules.unsubscribe",
            on_result=lambda _result: None,
            on_push=on_push,
        )
        return sub.close

    def watch(self, pattern: str, *, buffer_size: int = 256) -> Watch[tuple[str, Any]]:
        """Iterate over matching events: ``async with rules.watch(p) as events``,
        ``async for topic, event in events``.

        When the consumer falls ``buffer_size`` events behind, the iteration
        raises :class:`~noex_client.WatchOverflowError` after the buffered
        events (events are never dropped silently).

        Raises:
            ValueError: ``buffer_size`` is not positive.
            DisconnectedError: On entry, when not connected.
            RateLimitedError: On entry, when the server rate-limits the client.
        """

        return self._subscriptions.watch(
            "rules.subscribe",
            {"pattern": pattern},
            unsubscribe_op="rules.unsubscribe",
            initial=None,
            push=_split_push,
            buffer_size=buffer_size,
            overflow="raise",
            what=f"rules {pattern!r}",
        )

    async def unsubscribe(self, subscription_id: str) -> None:
        """Cancel a rules subscription by its server-assigned id.

        Raises:
            NotFoundError: The server knows no such rules subscription.
        """
        await self._subscriptions.unsubscribe_by_id(
            "rules.subscribe", "rules.unsubscribe", subscription_id
        )

    # -- administration --------------------------------------------------------------------

    async def register_rule(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Register ``rule``; returns ``{"id", "name", "version", "createdAt", "updatedAt"}``.

        Always include ``priority``, ``enabled`` and ``tags``: the server
        half-registers a rule without ``tags``.

        Raises:
            ValidationError: The rule is invalid (``details`` lists the issues).
            AlreadyExistsError: A rule with this id exists.
        """
        result: dict[str, Any] = await self._client.request("rules.registerRule", rule=rule)
        return result

    async def unregister_rule(self, rule_id: str) -> dict[str, Any]:
        """Remove rule ``rule_id``; returns ``{"ruleId", "unregistered": True}``.

        Raises:
            NotFoundError: No such rule.
        """
        result: dict[str, Any] = await self._client.request("rules.unregisterRule", ruleId=rule_id)
        return result

    async def update_rule(self, rule_id: str, updates: dict[str, Any]) -> dict[str, Any]:
        """Merge ``updates`` into rule ``rule_id``; returns ``{"id", "version", "updatedAt"}``.

        Raises:
            InternalServerError: No such rule (the server reports it so).
            ValidationError: The merged rule is invalid.
        """
        result: dict[str, Any] = await self._client.request(
            "rules.updateRule", ruleId=rule_id, updates=updates
        )
        return result

    async def enable_rule(self, rule_id: str) -> dict[str, Any]:
        """Enable rule ``rule_id``; returns ``{"ruleId", "enabled": True}``.

        Raises:
            NotFoundError: No such rule.
        """
        result: dict[str, Any] = await self._client.request("rules.enableRule", ruleId=rule_id)
        return result

    async def disable_rule(self, rule_id: str) -> dict[str, Any]:
        """Disable rule ``rule_id``; returns ``{"ruleId", "enabled": False}``.

        Raises:
            NotFoundError: No such rule.
        """
        result: dict[str, Any] = await self._client.request("rules.disableRule", ruleId=rule_id)
        return result

    async def get_rule(self, rule_id: str) -> dict[str, Any]:
        """The full rule ``rule_id``.

        Raises:
            NotFoundError: No such rule.
        """
        result: dict[str, Any] = await self._client.request("rules.getRule", ruleId=rule_id)
        return result

    async def get_rules(self) -> dict[str, Any]:
        """``{"rules": [{"id", "name", "enabled", "priority", "version", "tags", ...}]}``."""
        result: dict[str, Any] = await self._client.request("rules.getRules")
        return result

    async def validate_rule(self, rule: dict[str, Any]) -> dict[str, Any]:
        """``{"valid", "errors", "warnings"}`` for ``rule`` (never an error response)."""
        result: dict[str, Any] = await self._client.request("rules.validateRule", rule=rule)
        return result

    async def stats(self) -> dict[str, Any]:
        """Engine statistics: ``{"rulesCount", "factsCount", "eventsProcessed", ...}``."""
        result: dict[str, Any] = await self._client.request("rules.stats")
        return result
