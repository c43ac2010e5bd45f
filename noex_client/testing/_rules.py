"""A small rule engine: facts, events, topic subscriptions, event rules.

It reproduces what noex-rules shows on the wire: facts with per-key versions,
events ``{id, topic, data, timestamp, source, correlationId?, causationId?}``,
``.``-segment topic patterns, ``:``-segment fact patterns, and rules with an
``event`` trigger whose ``emit_event`` / ``set_fact`` / ``delete_fact``
actions run (other triggers and actions are stored but not executed).
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import RequestError
from ._store._values import UNDEFINED, is_number, js_eq, now_ms

__all__ = ["RuleEngine", "fact_matches", "topic_matches", "validate_rule"]

EventListener = Callable[[str, dict[str, Any]], None]
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}
_TRIGGERS = {"event", "fact", "timer", "temporal"}
_ACTIONS = {
    "set_fact", "delete_fact", "emit_event", "set_timer", "cancel_timer", "call_service",
    "log", "conditional", "for_each", "try_catch",
}  # fmt: skip


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


def event_id() -> str:
    """``<ms base36>-<9 random base36 chars>``."""
    return f"{_base36(now_ms())}-{''.join(secrets.choice(_B36) for _ in range(9))}"


def topic_matches(pattern: str, topic: str) -> bool:
    """``.``-segment topic pattern matching (§5.10)."""
    if pattern == "*":
        return True
    if "*" not in pattern:
        return pattern == topic
    parts, segments = pattern.split("."), topic.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "*":
            if last:
                return len(segments) >= i
            if i >= len(segments):
                return False
            continue
        if i >= len(segments) or part != segments[i]:
            return False
    return len(parts) == len(segments)


def fact_matches(pattern: str, key: str) -> bool:
    """``:``-segment fact pattern matching (§5.10)."""
    if "*" not in pattern:
        return pattern == key
    regex = "^" + "[^:]+".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(regex, key) is not None


def _issue(path: str, message: str) -> dict[str, str]:
    return {"path": path, "message": message, "severity": "error"}


def validate_rule(rule: Mapping[str, Any]) -> list[dict[str, str]]:
    """Rule validation issues ``[{path, message, severity}]``."""
    issues = [
        _issue(name, f'Required field "{name}" is missing')
        for name in ("id", "name", "trigger")
        if name not in rule
    ]
    trigger = rule.get("trigger")
    if isinstance(trigger, dict) and trigger.get("type") not in _TRIGGERS:
        issues.append(_issue("trigger.type", f"Invalid trigger type: {trigger.get('type')}"))
    for i, action in enumerate(rule.get("actions") or []):
        if not isinstance(action, dict) or action.get("type") not in _ACTIONS:
            kind = action.get("type") if isinstance(action, dict) else action
            issues.append(_issue(f"actions[{i}].type", f"Invalid action type: {kind}"))
    return issues


class RuleEngine:
    """Facts, events, subscriptions and event rules of one server."""

    def __init__(self) -> None:
        self.facts: dict[str, dict[str, Any]] = {}
        self._fact_versions: dict[str, int] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self._version = 0
        self._subs: dict[str, tuple[str, EventListener]] = {}
        self.events_processed = 0
        self.rules_executed = 0

    # -- facts --------------------------------------------------------------
    def set_fact(self, key: str, value: Any, source: str = "api") -> dict[str, Any]:
        """Set a fact; returns the Fact."""
        version = self._fact_versions.get(key, 0) + 1
        self._fact_versions[key] = version
        fact = {
            "key": key,
            "value": value,
            "timestamp": now_ms(),
            "source": source,
            "version": version,
        }
        self.facts.pop(key, None)
        self.facts[key] = fact
        return fact

    def delete_fact(self, key: str) -> bool:
        """Delete a fact; returns whether it existed."""
        return self.facts.pop(key, None) is not None

    def query_facts(self, pattern: str) -> list[dict[str, Any]]:
        """Facts whose key matches ``pattern``, in insertion order."""
        return [f for k, f in self.facts.items() if fact_matches(pattern, k)]

    # -- events -------------------------------------------------------------
    def subscribe(self, sub_id: str, pattern: str, listener: EventListener) -> None:
        """Call ``listener(sub_id, event)`` for events whose topic matches."""
        self._subs[sub_id] = (pattern, listener)

    def unsubscribe(self, sub_id: str) -> bool:
        """Stop a subscription; returns whether it existed."""
        return self._subs.pop(sub_id, None) is not None

    def emit(
        self, topic: str, data: dict[str, Any], source: str = "api", **correlation: Any
    ) -> dict[str, Any]:
        """Emit an event: push it to subscribers, then run matching rules."""
        event: dict[str, Any] = {
            "id": event_id(),
            "topic": topic,
            "data": data,
            "timestamp": now_ms(),
        }
        event.update({k: v for k, v in correlation.items() if v is not None and v is not UNDEFINED})
        event["source"] = source
        self.events_processed += 1
        for sub_id, (pattern, listener) in list(self._subs.items()):
            if topic_matches(pattern, topic):
                listener(sub_id, event)
        self._run_rules(event)
        return event

    def _run_rules(self, event: dict[str, Any]) -> None:
        rules = sorted(self.rules.values(), key=lambda r: -(r.get("priority") or 0))
        for rule in rules:
            trigger = rule.get("trigger") or {}
            if not rule.get("enabled", True) or trigger.get("type") != "event":
                continue
            if not topic_matches(str(trigger.get("topic", "")), event["topic"]):
                continue
            if all(self._condition(c, event) for c in rule.get("conditions") or []):
                self.rules_executed += 1
                for action in rule.get("actions") or []:
                    self._action(action, event)

    def _resolve(self, value: Any, event: Mapping[str, Any]) -> Any:
        if isinstance(value, dict) and set(value) == {"ref"} and isinstance(value["ref"], str):
            root, _, path = value["ref"].partition(".")
            current: Any = event.get("data", {}) if root == "event" else None
            if root == "fact":
                fact = self.facts.get(path)
                return None if fact is None else fact["value"]
            for part in path.split(".") if path else []:
                current = current.get(part) if isinstance(current, dict) else None
            return current
        if isinstance(value, dict):
            return {k: self._resolve(v, event) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, event) for v in value]
        return value

    def _condition(self, cond: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
        source = cond.get("source") or {}
        if source.get("type") == "event":
            actual = self._resolve({"ref": f"event.{source.get('field', '')}"}, event)
        elif source.get("type") == "fact":
            fact = self.facts.get(str(source.get("pattern", "")))
            actual = None if fact is None else fact["value"]
        else:
            return False
        expected = self._resolve(cond.get("value"), event)
        op = cond.get("operator")
        ordered = is_number(actual) and is_number(expected)
        if op == "eq":
            return js_eq(actual, expected)
        if op == "neq":
            return not js_eq(actual, expected)
        if op in ("gt", "gte", "lt", "lte") and ordered:
            return bool(_COMPARE[op](actual, expected))
        if op == "in":
            return isinstance(expected, list) and any(js_eq(actual, e) for e in expected)
        if op == "not_in":
            return isinstance(expected, list) and not any(js_eq(actual, e) for e in expected)
        if op == "exists":
            return actual is not None
        if op == "not_exists":
            return actual is None
        return False

    def _action(self, action: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        kind = action.get("type")
        if kind == "emit_event":
            data = self._resolve(action.get("data") or {}, event)
            self.emit(str(action.get("topic")), data, source="rule")
        elif kind == "set_fact":
            self.set_fact(str(action.get("key")), self._resolve(action.get("value"), event), "rule")
        elif kind == "delete_fact":
            self.delete_fact(str(action.get("key")))

    # -- rule admin ---------------------------------------------------------
    def register(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Register a rule.

        Raises:
            RequestError: ``VALIDATION_ERROR`` or ``ALREADY_EXISTS``.
        """
        issues = validate_rule(rule)
        if issues:
            raise RequestError("VALIDATION_ERROR", "Rule validation failed", issues)
        if rule["id"] in self.rules:
            raise RequestError("ALREADY_EXISTS", f'Rule "{rule["id"]}" already exists')
        self._version += 1
        now = now_ms()
        stored = {
            **copy.deepcopy(rule),
            "version": self._version,
            "createdAt": now,
            "updatedAt": now,
        }
        self.rules[str(rule["id"])] = stored
        return {k: stored[k] for k in ("id", "name", "version", "createdAt", "updatedAt")}

    def get(self, rule_id: str) -> dict[str, Any]:
        """The stored rule.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        rule = self.rules.get(rule_id)
        if rule is None:
            raise RequestError("NOT_FOUND", f'Rule "{rule_id}" not found')
        return rule

    def update(self, rule_id: str, updates: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``updates`` over a rule.

        Raises:
            RequestError: ``INTERNAL_ERROR`` for a missing rule, ``VALIDATION_ERROR``.
        """
        rule = self.rules.get(rule_id)
        if rule is None:
            raise RequestError("INTERNAL_ERROR", f"Rule '{rule_id}' not found")
        merged = {**rule, **copy.deepcopy(dict(updates)), "id": rule_id}
        issues = validate_rule(merged)
        if issues:
            raise RequestError("VALIDATION_ERROR", "Rule validation failed", issues)
        self._version += 1
        merged["version"] = self._version
        merged["updatedAt"] = now_ms()
        self.rules[rule_id] = merged
        return {"id": rule_id, "version": merged["version"], "updatedAt": merged["updatedAt"]}

    def summaries(self) -> list[dict[str, Any]]:
        """``rules.getRules`` entries."""
        keys = ("id", "name", "enabled", "priority", "version", "tags", "group")
        return [{k: r[k] for k in keys if k in r} for r in self.rules.values()]

    def stats(self) -> dict[str, Any]:
        """``rules.stats``."""
        return {
            "rulesCount": len(self.rules),
            "factsCount": len(self.facts),
            "timersCount": 0,
            "eventsProcessed": self.events_processed,
            "rulesExecuted": self.rules_executed,
            "avgProcessingTimeMs": 0,
            "tracing": {"enabled": False, "entriesCount": 0, "maxEntries": 10000},
        }
