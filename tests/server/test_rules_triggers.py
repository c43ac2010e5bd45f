"""Rule triggers and timers of the rule engine (sans-I/O, an injected clock)."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client.testing._errors import RequestError
from noex_client.testing._rules import MAX_DEPTH, RuleEngine, parse_duration, validate_rule
from tests.server.rules_helpers import TIER_RULE, rule


class Clock:
    """A settable millisecond clock."""

    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def timer(name: str, duration: Any, topic: str, **extra: Any) -> dict[str, Any]:
    spec = {"name": name, "duration": duration, "onExpire": {"topic": topic}, **extra}
    return {"type": "set_timer", "timer": spec}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(clock: Clock) -> RuleEngine:
    return RuleEngine(clock=clock)


def events(engine: RuleEngine) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    engine.subscribe("sub-1", "*", lambda _sid, event: seen.append(event))
    return seen


def test_fact_rules_fire_on_every_set_of_a_matching_key(engine: RuleEngine) -> None:
    seen = events(engine)
    engine.register(TIER_RULE)
    engine.set_fact("customer:1:tier", "gold")
    engine.set_fact("customer:1:tier", "platinum")
    engine.set_fact("customer:1:name", "Ann")  # another key: no rule
    engine.delete_fact("customer:1:tier")  # deleting fires nothing
    assert [e["data"] for e in seen] == [
        {"key": "customer:1:tier", "tier": "gold"},
        {"key": "customer:1:tier", "tier": "platinum"},
    ]
    assert {e["source"] for e in seen} == {"rule"}
    assert engine.rules_executed == 2


def test_fact_rules_see_facts_set_by_other_rules(engine: RuleEngine) -> None:
    engine.register(
        rule(
            "flag",
            {"type": "event", "topic": "order.created"},
            {"type": "set_fact", "key": "order:${event.id}:status", "value": "new"},
        )
    )
    engine.register(
        rule(
            "audit",
            {"type": "fact", "pattern": "order:*:status"},
            {"type": "set_fact", "key": "last-status", "value": {"ref": "event.key"}},
        )
    )
    engine.emit("order.created", {"id": "o7"})
    assert engine.facts["order:o7:status"]["source"] == "rule"
    assert engine.facts["last-status"]["value"] == "order:o7:status"


def test_a_timer_emits_its_event_and_fires_timer_rules_when_due(
    engine: RuleEngine, clock: Clock
) -> None:
    seen = events(engine)
    engine.register(
        rule(
            "arm",
            {"type": "event", "topic": "order.created"},
            {"type": "set_timer", "timer": {
                "name": "payment:${event.id}", "duration": "15m",
                "onExpire": {"topic": "payment.timeout", "data": {"orderId": {"ref": "event.id"}}},
            }},
        )
    )  # fmt: skip
    engine.register(
        rule(
            "expire",
            {"type": "timer", "name": "payment:*"},
            {"type": "set_fact", "key": "order:${event.orderId}:status", "value": "expired"},
        )
    )
    engine.emit("order.created", {"id": "o1"})
    assert engine.stats()["timersCount"] == 1
    assert engine.next_timer_due() == clock.ms + 15 * 60_000
    clock.ms += 15 * 60_000 - 1
    assert engine.fire_due_timers() == 0
    clock.ms += 1
    assert engine.fire_due_timers() == 1
    fired = seen[-1]
    assert (fired["topic"], fired["data"], fired["source"]) == (
        "payment.timeout",
        {"orderId": "o1"},
        "timer",
    )
    assert engine.facts["order:o1:status"]["value"] == "expired"
    assert engine.stats()["timersCount"] == 0
    assert engine.fire_due_timers() == 0  # a one-shot timer fires once


def test_cancel_timer_and_replacing_a_timer_by_name(engine: RuleEngine, clock: Clock) -> None:
    seen = events(engine)
    engine.register(rule("arm", {"type": "event", "topic": "arm"}, timer("t", 1000, "t.fired")))
    engine.register(
        rule("disarm", {"type": "event", "topic": "disarm"}, {"type": "cancel_timer", "name": "t"})
    )
    engine.emit("arm", {})
    clock.ms += 600
    engine.emit("arm", {})  # the same name: replaced, due 1000 ms from now
    assert engine.stats()["timersCount"] == 1
    clock.ms += 600
    assert engine.fire_due_timers() == 0
    clock.ms += 400
    assert engine.fire_due_timers() == 1
    engine.emit("arm", {})
    engine.emit("disarm", {})
    clock.ms += 5000
    assert engine.fire_due_timers() == 0
    assert [e["topic"] for e in seen].count("t.fired") == 1


def test_repeating_timers_fire_per_interval_up_to_max_count(engine: RuleEngine) -> None:
    seen = events(engine)
    repeat = timer("tick", "1s", "tick", repeat={"interval": "1s", "maxCount": 3})
    engine.register(rule("arm", {"type": "event", "topic": "start"}, repeat))
    engine.emit("start", {})
    assert engine.advance(2500) == 2  # at 1 s and 2 s
    assert engine.stats()["timersCount"] == 1
    assert engine.advance(10_000) == 1  # the third and last
    assert engine.stats()["timersCount"] == 0
    assert [e["topic"] for e in seen].count("tick") == 3


def test_advance_keeps_later_timers_that_much_closer(engine: RuleEngine, clock: Clock) -> None:
    engine.register(rule("arm", {"type": "event", "topic": "go"}, timer("later", "1h", "late")))
    engine.emit("go", {})
    assert engine.advance(30 * 60_000) == 0
    due = engine.next_timer_due()
    assert due is not None
    assert due - engine.now() == 30 * 60_000


def test_timer_events_carry_the_correlation_of_their_trigger(engine: RuleEngine) -> None:
    seen = events(engine)
    engine.register(rule("arm", {"type": "event", "topic": "go"}, timer("t", 0, "done")))
    trigger = engine.emit("go", {}, correlationId="c-1")
    engine.fire_due_timers()
    assert seen[-1]["correlationId"] == "c-1"
    assert seen[-1]["causationId"] == trigger["id"]


def test_temporal_rules_are_validated_and_stored_but_never_fire(engine: RuleEngine) -> None:
    pattern = {"type": "sequence", "events": [{"topic": "a"}, {"topic": "b"}], "within": "5m"}
    engine.register(
        rule("cep", {"type": "temporal", "pattern": pattern}, {"type": "set_fact", "key": "x",
                                                                "value": 1})
    )  # fmt: skip
    engine.emit("a", {})
    engine.emit("b", {})
    assert "x" not in engine.facts
    assert engine.get("cep")["trigger"]["pattern"] == pattern
    issues = validate_rule(rule("bad", {"type": "temporal", "pattern": "a then b"}))
    assert issues == [{"path": "trigger.pattern", "message": "Temporal pattern must be an object",
                       "severity": "error"}]  # fmt: skip


@pytest.mark.parametrize(
    ("trigger", "path"),
    [
        ({"type": "event"}, "trigger.topic"),
        ({"type": "fact"}, "trigger.pattern"),
        ({"type": "timer"}, "trigger.name"),
        ({"type": "temporal"}, "trigger.pattern"),
    ],
)
def test_each_trigger_type_needs_its_field(trigger: dict[str, Any], path: str) -> None:
    assert validate_rule(rule("r", trigger)) == [
        {"path": path, "message": f'Required field "{path}" is missing', "severity": "error"}
    ]


def test_a_rule_chain_that_feeds_itself_is_cut_at_max_depth(engine: RuleEngine) -> None:
    engine.register(
        rule("loop", {"type": "event", "topic": "again"},
             {"type": "emit_event", "topic": "again", "data": {}})
    )  # fmt: skip
    engine.emit("again", {})
    assert engine.rules_executed == MAX_DEPTH
    assert engine.events_processed == MAX_DEPTH + 1


def test_rules_run_by_priority_then_registration_order(engine: RuleEngine) -> None:
    order: list[str] = []
    engine.services["log"] = {"add": order.append}
    for rule_id, priority in (("low", 1), ("high", 10), ("also-low", 1)):
        call = {"type": "call_service", "service": "log", "method": "add", "args": [rule_id]}
        engine.register(rule(rule_id, {"type": "event", "topic": "e"}, call, priority=priority))
    engine.emit("e", {})
    assert order == ["high", "low", "also-low"]


def test_invalid_rules_are_refused_with_their_issues(engine: RuleEngine) -> None:
    bad = rule("r", {"type": "event", "topic": "t"}, {"type": "set_timer", "timer": {"name": "x"}})
    with pytest.raises(RequestError) as info:
        engine.register(bad)
    assert [i["path"] for i in info.value.details] == [
        "actions[0].timer.duration",
        "actions[0].timer.onExpire",
    ]


@pytest.mark.parametrize(
    ("value", "ms"),
    [(250, 250), ("500ms", 500), ("30s", 30_000), ("15m", 900_000), ("1h", 3_600_000),
     ("7d", 604_800_000), ("1w", 604_800_000), ("1.5s", 1500)],
)  # fmt: skip
def test_durations(value: object, ms: int) -> None:
    assert parse_duration(value) == ms


@pytest.mark.parametrize("value", ["soon", -1, None, True, "5 minutes"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError, match="Invalid duration"):
        parse_duration(value)
