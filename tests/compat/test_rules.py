"""``client.rules``, called as the published README shows, against LocalServer's rule engine."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import NoexClientError
from tests.compat.servers import local

RULE = {
    "id": "my-rule",
    "name": "My rule",
    "priority": 0,
    "enabled": True,
    "tags": [],
    "trigger": {"type": "event", "topic": "order.created"},
    "conditions": [],
    "actions": [{"type": "emit_event", "topic": "order.ack", "data": {}}],
}


async def test_events_and_subscriptions() -> None:
    async with local() as (_server, client):
        seen: list[tuple[str, Any]] = []
        unsub = await client.rules.subscribe(
            "user.*", lambda event, topic: seen.append((topic, event))
        )
        event = await client.rules.emit("user.created", {"userId": "123"})
        assert {"id", "topic", "data", "timestamp", "source"} <= set(event)
        assert (event["topic"], event["data"]) == ("user.created", {"userId": "123"})
        assert seen == [("user.created", event)]  # the push precedes the emit's result
        linked = await client.rules.emit(
            "order.completed", {"orderId": "456"}, correlation_id="corr-1", causation_id="cause-1"
        )
        assert (linked["correlationId"], linked["causationId"]) == ("corr-1", "cause-1")
        assert (await client.rules.emit("user.bare"))["data"] == {}
        assert unsub() is None
        await client.rules.emit("user.after", {})
        assert [topic for topic, _ in seen] == ["user.created", "user.bare"]


async def test_facts() -> None:
    async with local() as (_server, client):
        fact = await client.rules.set_fact("user:1:status", "active")
        assert (fact["key"], fact["value"], fact["version"]) == ("user:1:status", "active", 1)
        assert await client.rules.get_fact("user:1:status") == "active"  # the bare value
        assert await client.rules.get_fact("user:2:status") is None
        facts = await client.rules.query_facts("user:*:status")
        assert [f["key"] for f in facts] == ["user:1:status"]
        assert [f["key"] for f in await client.rules.get_all_facts()] == ["user:1:status"]
        assert await client.rules.delete_fact("user:1:status") is True
        assert await client.rules.delete_fact("user:1:status") is False


async def test_rule_administration_returns_the_server_json() -> None:
    async with local() as (_server, client):
        validation = await client.rules.validate_rule(RULE)
        assert validation["valid"] is True
        registered = await client.rules.register_rule(RULE)
        assert registered["id"] == "my-rule"
        assert await client.rules.disable_rule("my-rule") == {"ruleId": "my-rule", "enabled": False}
        assert await client.rules.enable_rule("my-rule") == {"ruleId": "my-rule", "enabled": True}
        assert (await client.rules.get_rule("my-rule"))["name"] == "My rule"
        assert [r["id"] for r in (await client.rules.get_rules())["rules"]] == ["my-rule"]
        updated = await client.rules.update_rule("my-rule", {"name": "Renamed"})
        assert updated["id"] == "my-rule"
        stats = await client.rules.stats()
        assert stats["rulesCount"] == 1
        assert {"factsCount", "eventsProcessed"} <= set(stats)
        removed = await client.rules.unregister_rule("my-rule")
        assert removed == {"ruleId": "my-rule", "unregistered": True}
        with pytest.raises(NoexClientError) as info:
            await client.rules.get_rule("my-rule")
        assert info.value.code == "NOT_FOUND"


async def test_unsubscribe_by_server_id() -> None:
    async with local() as (_server, client):
        await client.rules.subscribe("*", lambda event, topic: None)
        await client.rules.unsubscribe("sub-1")
        with pytest.raises(NoexClientError) as info:
            await client.rules.unsubscribe("sub-1")
        assert info.value.code == "NOT_FOUND"
