"""Every rule action type, conditions and references (sans-I/O)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from noex_client.testing._rules import RuleEngine


def on_event(engine: RuleEngine, *actions: Any, conditions: Any = ()) -> None:
    """Register a rule firing on topic ``go`` with these actions."""
    engine.register(
        {"id": f"r{len(engine.rules)}", "name": "r", "priority": 0, "enabled": True, "tags": [],
         "trigger": {"type": "event", "topic": "go"}, "conditions": list(conditions),
         "actions": list(actions)}
    )  # fmt: skip


def topics(engine: RuleEngine) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    engine.subscribe("sub-1", "*", lambda _sid, event: seen.append(event))
    return seen


def test_set_delete_facts_and_emit_with_references() -> None:
    engine = RuleEngine()
    seen = topics(engine)
    engine.set_fact("limit", 100)
    engine.set_fact("stale", True)
    on_event(
        engine,
        {"type": "set_fact", "key": "order:${event.id}", "value": {"total": {"ref": "event.total"}}},
        {"type": "delete_fact", "key": "stale"},
        {"type": "emit_event", "topic": "order.${event.kind}",
         "data": {"id": {"ref": "event.id"}, "limit": {"ref": "fact.limit"},
                  "first": {"ref": "event.items.0"}, "n": {"ref": "event.items.length"},
                  "missing": {"ref": "event.nope"}}},
    )  # fmt: skip
    engine.emit("go", {"id": "o1", "total": 7, "kind": "big", "items": ["a", "b"]})
    assert engine.facts["order:o1"]["value"] == {"total": 7}
    assert "stale" not in engine.facts
    assert seen[-1]["topic"] == "order.big"
    assert seen[-1]["data"] == {"id": "o1", "limit": 100, "first": "a", "n": 2}  # missing: absent


@pytest.mark.parametrize(
    ("operator", "value", "holds"),
    [
        ("eq", "gold", True), ("neq", "gold", False), ("in", ["gold", "x"], True),
        ("not_in", ["x"], True), ("contains", "ol", True), ("not_contains", "ol", False),
        ("matches", "^g.l", True), ("matches", "(", False), ("exists", None, True),
        ("not_exists", None, False), ("gt", "a", True), ("lt", 5, False),
    ],
)  # fmt: skip
def test_condition_operators(operator: str, value: Any, holds: bool) -> None:
    engine = RuleEngine()
    on_event(
        engine,
        {"type": "set_fact", "key": "hit", "value": True},
        conditions=[{"source": {"type": "event", "field": "tier"}, "operator": operator,
                     "value": value}],
    )  # fmt: skip
    engine.emit("go", {"tier": "gold"})
    assert ("hit" in engine.facts) is holds


def test_conditions_on_facts_lists_and_references() -> None:
    engine = RuleEngine()
    engine.set_fact("customer:c1:tier", "gold")
    engine.set_fact("threshold", 10)
    on_event(
        engine,
        {"type": "set_fact", "key": "hit", "value": True},
        conditions=[
            {"source": {"type": "fact", "pattern": "customer:${event.customer}:tier"},
             "operator": "eq", "value": "gold"},
            {"source": {"type": "event", "field": "total"}, "operator": "gte",
             "value": {"ref": "fact.threshold"}},
            {"source": {"type": "event", "field": "tags"}, "operator": "contains", "value": "vip"},
        ],
    )  # fmt: skip
    engine.emit("go", {"customer": "c1", "total": 9, "tags": ["vip"]})
    assert "hit" not in engine.facts
    engine.emit("go", {"customer": "c1", "total": 10, "tags": ["vip"]})
    assert "hit" in engine.facts


def test_conditional_for_each_and_try_catch() -> None:
    engine = RuleEngine()
    calls: list[Any] = []

    class Mailer:
        def send(self, to: str, subject: str) -> None:
            if to == "bad":
                raise RuntimeError("mailbox full")
            calls.append((to, subject))

    engine.services["mail"] = Mailer()
    send = {"type": "call_service", "service": "mail", "method": "send",
            "args": [{"ref": "var.user"}, {"ref": "event.id"}]}  # fmt: skip
    on_event(
        engine,
        {"type": "conditional",
         "conditions": [{"source": {"type": "event", "field": "total"}, "operator": "gt",
                         "value": 100}],
         "then": [{"type": "set_fact", "key": "size", "value": "big"}],
         "else": [{"type": "set_fact", "key": "size", "value": "small"}]},
        {"type": "for_each", "collection": {"ref": "event.users"}, "as": "user",
         "actions": [{"type": "try_catch", "try": [send],
                      "catch": {"as": "err", "actions": [
                          {"type": "set_fact", "key": "failed:${var.user}",
                           "value": {"ref": "var.err.message"}}]},
                      "finally": [{"type": "set_fact", "key": "tried:${var.user}",
                                   "value": True}]}]},
    )  # fmt: skip
    engine.emit("go", {"id": "o1", "total": 5, "users": ["ann", "bad", "bob"]})
    assert engine.facts["size"]["value"] == "small"
    assert calls == [("ann", "o1"), ("bob", "o1")]  # args: references, not templates
    assert engine.facts["failed:bad"]["value"] == "mailbox full"
    assert {k for k in engine.facts if k.startswith("tried:")} == {
        "tried:ann", "tried:bad", "tried:bob",
    }  # fmt: skip


def test_for_each_stops_at_max_iterations() -> None:
    engine = RuleEngine()
    on_event(
        engine,
        {"type": "for_each", "collection": [1, 2, 3, 4], "as": "n", "maxIterations": 2,
         "actions": [{"type": "set_fact", "key": "n:${var.n}", "value": {"ref": "var.n"}}]},
    )  # fmt: skip
    engine.emit("go", {})
    assert list(engine.facts) == ["n:1", "n:2"]


def test_a_failing_action_is_logged_and_the_rule_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = RuleEngine()
    on_event(
        engine,
        {"type": "call_service", "service": "nope", "method": "x"},
        {"type": "set_timer", "timer": {"name": "t", "duration": "soon",
                                        "onExpire": {"topic": "t"}}},
        {"type": "set_fact", "key": "after", "value": 1},
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="noex_client.testing.rules"):
        engine.emit("go", {})
    assert "after" in engine.facts
    messages = [r.getMessage() for r in caplog.records]
    assert any('Service "nope" not found' in m for m in messages)
    assert any("Invalid duration: 'soon'" in m for m in messages)


def test_services_must_be_synchronous(caplog: pytest.LogCaptureFixture) -> None:
    async def notify() -> None:
        return None

    engine = RuleEngine(services={"hooks": {"notify": notify}})
    on_event(engine, {"type": "call_service", "service": "hooks", "method": "notify"})
    with caplog.at_level(logging.WARNING, logger="noex_client.testing.rules"):
        engine.emit("go", {})
    assert "calls services synchronously" in caplog.text


def test_log_actions_use_the_rules_logger(caplog: pytest.LogCaptureFixture) -> None:
    engine = RuleEngine()
    on_event(engine, {"type": "log", "level": "warn", "message": "order ${event.id} is late"})
    with caplog.at_level(logging.DEBUG, logger="noex_client.testing.rules"):
        engine.emit("go", {"id": "o3"})
    (record,) = caplog.records
    assert (record.levelno, record.getMessage()) == (logging.WARNING, "order o3 is late")
