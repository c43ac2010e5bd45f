"""Rule triggers, timers and services over the wire, with the real client.

Timers are awaited (their push arrives) or moved forward with
``LocalServer.advance_timers``; nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from noex_client import NoexClient
from noex_client.testing import LocalServer
from tests.server.rules_helpers import TIER_RULE, rule

Events = asyncio.Queue[tuple[str, dict[str, Any]]]


def payment_timer(duration: str) -> dict[str, Any]:
    return rule(
        "arm-" + duration,
        {"type": "event", "topic": "order.created"},
        {"type": "set_timer", "timer": {
            "name": "payment:${event.id}", "duration": duration,
            "onExpire": {"topic": "payment.timeout", "data": {"orderId": {"ref": "event.id"}}}}},
    )  # fmt: skip


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as running:
        yield running


async def listen(client: NoexClient, pattern: str) -> Events:
    queue: Events = asyncio.Queue()
    await client.rules.subscribe(pattern, lambda event, topic: queue.put_nowait((topic, event)))
    return queue


async def next_event(queue: Events) -> tuple[str, dict[str, Any]]:
    async with asyncio.timeout(5):
        return await queue.get()


async def test_a_timer_pushes_its_event_when_it_expires(server: LocalServer) -> None:
    async with NoexClient(server.url) as client:
        events = await listen(client, "payment.*")
        await client.rules.register_rule(payment_timer("30ms"))
        await client.rules.emit("order.created", {"id": "o1"})
        assert (await client.rules.stats())["timersCount"] == 1
        topic, event = await next_event(events)  # on its own, about 30 ms later
        assert (topic, event["data"], event["source"]) == (
            "payment.timeout",
            {"orderId": "o1"},
            "timer",
        )
        assert (await client.rules.stats())["timersCount"] == 0


async def test_advance_timers_fires_a_long_timer_at_once(server: LocalServer) -> None:
    async with NoexClient(server.url) as client:
        events = await listen(client, "payment.*")
        await client.rules.register_rule(payment_timer("15m"))
        expire = rule(
            "expire",
            {"type": "timer", "name": "payment:*"},
            {"type": "set_fact", "key": "order:${event.orderId}:status", "value": "expired"},
        )
        await client.rules.register_rule(expire)
        await client.rules.emit("order.created", {"id": "o2"})
        assert server.advance_timers(14 * 60_000) == 0
        assert server.advance_timers(60_000) == 1
        topic, event = await next_event(events)
        assert (topic, event["source"]) == ("payment.timeout", "timer")
        assert await client.rules.get_fact("order:o2:status") == "expired"
        assert server.rules is not None
        assert list(server.rules.timers) == []


async def test_fact_rules_fire_on_set_fact_requests(server: LocalServer) -> None:
    async with NoexClient(server.url) as client:
        events = await listen(client, "tier.*")
        await client.rules.register_rule(TIER_RULE)
        fact = await client.rules.set_fact("customer:7:tier", "gold")
        assert fact["source"] == "api"
        topic, event = events.get_nowait()  # pushed before the setFact result
        assert (topic, event["data"], event["source"]) == (
            "tier.changed",
            {"key": "customer:7:tier", "tier": "gold"},
            "rule",
        )


async def test_call_service_reaches_a_registered_python_service() -> None:
    sent: list[tuple[str, str]] = []
    services = {"mail": {"send": lambda to, text: sent.append((to, text))}}
    async with LocalServer(services=services) as server, NoexClient(server.url) as client:
        await client.rules.register_rule(
            rule(
                "welcome",
                {"type": "event", "topic": "user.created"},
                {"type": "call_service", "service": "mail", "method": "send",
                 "args": [{"ref": "event.email"}, "welcome"]},
            )
        )  # fmt: skip
        await client.rules.emit("user.created", {"email": "ann@example.com"})
        assert sent == [("ann@example.com", "welcome")]


async def test_timers_survive_a_restart_keeping_data(server: LocalServer) -> None:
    async with NoexClient(server.url) as client:
        await client.rules.register_rule(payment_timer("1h"))
        await client.rules.emit("order.created", {"id": "o3"})
    await server.restart(keep_data=True)
    async with NoexClient(server.url) as client:
        events = await listen(client, "payment.*")
        assert (await client.rules.stats())["timersCount"] == 1
        assert server.advance_timers(3_600_000) == 1
        topic, _event = await next_event(events)
        assert topic == "payment.timeout"


async def test_a_restart_without_data_ends_the_timers(server: LocalServer) -> None:
    async with NoexClient(server.url) as client:
        await client.rules.register_rule(payment_timer("1h"))
        await client.rules.emit("order.created", {"id": "o4"})
    await server.restart()
    async with NoexClient(server.url) as client:
        assert (await client.rules.stats())["timersCount"] == 0


async def test_advance_timers_needs_a_rule_engine() -> None:
    async with LocalServer(rules=False) as server:
        with pytest.raises(RuntimeError, match="rules disabled"):
            server.advance_timers(1)
