"""Rule engine patterns and rule execution (sans-I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client.testing._connection import encode_frame
from noex_client.testing._rules import RuleEngine, fact_matches, topic_matches


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("*", "a.b.c", True),
        ("order.*", "order", True),
        ("order.*", "order.created", True),
        ("order.*", "order.created.v2", True),
        ("*.created", "order.created", True),
        ("*.created", "a.b.created", False),
        ("order.*.v2", "order.created.v2", True),
        ("order.*.v2", "order.created.v3", False),
        ("ord*", "order", False),
        ("order.created", "order.created", True),
        ("order.created", "order", False),
    ],
)
def test_topic_patterns(pattern: str, topic: str, expected: bool) -> None:
    assert topic_matches(pattern, topic) is expected


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("user:*:name", "user:1:name", True),
        ("user:*:name", "user:1:name:x", False),
        ("user:*", "user:1", True),
        ("user:*", "user:1:name", False),
        ("*", "plain", True),
        ("*", "a:b", False),
        ("a.b", "a.b", True),
    ],
)
def test_fact_patterns(pattern: str, key: str, expected: bool) -> None:
    assert fact_matches(pattern, key) is expected


def test_event_rules_emit_and_set_facts() -> None:
    engine = RuleEngine()
    seen: list[tuple[str, dict[str, Any]]] = []
    engine.subscribe("sub-1", "*", lambda sid, event: seen.append((sid, event)))
    engine.register(
        {
            "id": "big",
            "name": "Big",
            "priority": 0,
            "enabled": True,
            "tags": [],
            "trigger": {"type": "event", "topic": "order.created"},
            "conditions": [
                {"source": {"type": "event", "field": "total"}, "operator": "gte", "value": 100}
            ],
            "actions": [
                {"type": "emit_event", "topic": "order.big", "data": {"id": {"ref": "event.id"}}},
                {"type": "set_fact", "key": "last", "value": {"ref": "event.id"}},
            ],
        }
    )
    engine.emit("order.created", {"id": "o1", "total": 5})
    engine.emit("order.created", {"id": "o2", "total": 500})
    assert [e["topic"] for _, e in seen] == ["order.created", "order.created", "order.big"]
    assert seen[-1][1]["data"] == {"id": "o2"}
    assert seen[-1][1]["source"] == "rule"
    assert engine.facts["last"]["value"] == "o2"
    assert (engine.events_processed, engine.rules_executed) == (3, 1)
    updated = engine.update("big", {"enabled": False})
    assert updated["version"] == 2
    engine.emit("order.created", {"id": "o3", "total": 500})
    assert engine.rules_executed == 1


def test_frames_print_integral_numbers_as_ints() -> None:
    assert encode_frame({"data": [20.0, 2.5, {"x": 1e3}]}) == '{"data":[20,2.5,{"x":1000}]}'
