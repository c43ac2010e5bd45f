"""``client.rules`` against the in-process server's rule engine."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import NotFoundError, ValidationError
from tests.client.helpers import EventLog, until
from tests.client.local import local_client

RULE: dict[str, Any] = {
    "id": "big-order",
    "name": "Big order",
    "priority": 0,
    "enabled": True,
    "tags": [],
    "trigger": {"type": "event", "topic": "order.created"},
    "conditions": [],
    "actions": [{"type": "emit_event", "topic": "order.big", "data": {}}],
}


async def test_emit_with_correlation_and_causation_ids() -> None:
    async with local_client() as (_server, client):
        event = await client.rules.emit("user.created", {"userId": "1"})
        assert (event["topic"], event["data"], event["source"]) == (
            "user.created",
            {"userId": "1"},
            "api",
        )
        assert "correlationId" not in event
        event = await client.rules.emit(
            "order.completed", {"orderId": "4"}, correlation_id="corr-1", causation_id="cause-1"
        )
        assert (event["correlationId"], event["causationId"]) == ("corr-1", "cause-1")
        with pytest.raises(ValidationError, match="correlationId"):
            await client.rules.emit("x", {}, correlation_id="")


async def test_facts() -> None:
    async with local_client() as (_server, client):
        fact = await client.rules.set_fact("user:1:status", "active")
        assert (fact["key"], fact["value"], fact["version"]) == ("user:1:status", "active", 1)
        null_fact = await client.rules.set_fact("user:2:status", None)  # explicit null
        assert null_fact["value"] is None
        assert await client.rules.get_fact("user:1:status") == "active"
        assert await client.rules.get_fact("user:9:status") is None
        assert [f["key"] for f in await client.rules.query_facts("user:*:status")] == [
            "user:1:status",
            "user:2:status",
        ]
        assert len(await client.rules.get_all_facts()) == 2
        assert await client.rules.delete_fact("user:1:status") is True
        assert await client.rules.delete_fact("user:1:status") is False
        stats = await client.rules.stats()
        assert stats["factsCount"] == 1


async def test_subscribe_gets_event_and_topic_and_unsubscribe_stops_it() -> None:
    async with local_client() as (_server, client):
        seen: list[tuple[Any, str]] = []
        unsubscribe = await client.rules.subscribe(
            "order.*", lambda event, topic: seen.append((event, topic))
        )
        emitted = await client.rules.emit("order.paid", {"orderId": "o1"})
        # The push for an emit precedes its result: it is already here.
        assert seen == [(emitted, "order.paid")]
        await client.rules.emit("user.login", {})
        unsubscribe()
        await client.rules.emit("order.late", {})
        assert [topic for _event, topic in seen] == ["order.paid"]


async def test_rule_administration_and_rule_derived_events() -> None:
    async with local_client() as (_server, client):
        validation = await client.rules.validate_rule(RULE)
        assert validation["valid"] is True
        registered = await client.rules.register_rule(RULE)
        assert registered["id"] == "big-order"
        assert (await client.rules.get_rule("big-order"))["name"] == "Big order"
        assert [r["id"] for r in (await client.rules.get_rules())["rules"]] == ["big-order"]
        topics: list[str] = []
        await client.rules.subscribe("order.*", lambda _event, topic: topics.append(topic))
        await client.rules.emit("order.created", {"total": 500})
        await until(lambda: "order.big" in topics)
        assert (await client.rules.disable_rule("big-order"))["enabled"] is False
        assert (await client.rules.enable_rule("big-order"))["enabled"] is True
        updated = await client.rules.update_rule("big-order", {"name": "Huge order"})
        assert updated["id"] == "big-order"
        assert (await client.rules.get_rule("big-order"))["name"] == "Huge order"
        assert await client.rules.unregister_rule("big-order") == {
            "ruleId": "big-order",
            "unregistered": True,
        }
        with pytest.raises(NotFoundError):
            await client.rules.get_rule("big-order")


async def test_a_raising_callback_goes_to_the_error_event_and_others_keep_working(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with local_client() as (_server, client):
        log = EventLog(client)
        good: list[str] = []

        def bad(_event: Any, _topic: str) -> None:
            raise RuntimeError("callback bug")

        await client.rules.subscribe("a.*", bad)
        await client.rules.subscribe("a.*", lambda _event, topic: good.append(topic))
        store_seen: list[Any] = []
        await client.store.subscribe("all-users", store_seen.append)
        await client.rules.emit("a.one", {})
        await client.rules.emit("a.two", {})
        errors = await log.wait("error", 2)
        assert all(isinstance(args[0], RuntimeError) for args in errors)
        assert good == ["a.one", "a.two"]
        assert client.is_connected
        await client.store.bucket("users").insert({"name": "still works"})
        await until(lambda: len(store_seen) == 2)
        assert "callback bug" in caplog.text


async def test_unsubscribe_by_server_id_awaits_the_server_answer() -> None:
    async with local_client() as (_server, client):
        seen: list[str] = []
        await client.rules.subscribe("a.*", lambda _event, topic: seen.append(topic))
        (sub,) = client._subscriptions.active()
        assert sub.server_id is not None
        server_id = sub.server_id
        await client.rules.unsubscribe(server_id)
        assert client._subscriptions.active() == []
        await client.rules.emit("a.x", {})
        assert seen == []
        with pytest.raises(NotFoundError):
            await client.rules.unsubscribe(server_id)
