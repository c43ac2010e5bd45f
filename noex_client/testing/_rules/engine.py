"""The rule engine of one server: facts, events, subscriptions, rules, timers.

It reproduces what noex-rules shows on the wire (``rules.jsonl``): facts
with per-key versions, events ``{id, topic, data, timestamp, source,
correlationId?, causationId?}``, ``.``-segment topic patterns,
``:``-segment fact patterns, and rules fired by their trigger:

- ``event {topic}``: an emitted event whose topic matches (topic pattern);
  the event's push to subscribers comes first, then the rules run, so an
  emit's pushes (its own and the events its rules emit) precede its result;
- ``fact {pattern}``: a fact set (by ``rules.setFact``, a rule's
  ``set_fact`` or a procedure step) whose key matches (fact pattern);
  deleting a fact fires nothing;
- ``timer {name}``: a timer expiring whose name matches (fact pattern): the
  timer's event is emitted first (``source: "timer"``), then these rules run
  with that event's data as ``event.*``;
- ``temporal {pattern}``: accepted, validated (``pattern`` must be an object)
  and stored, but never fired: complex-event patterns are not evaluated.

Rules run by priority (highest first; ties in registration order) when
enabled and every condition holds. A chain of rules firing rules stops at
depth :data:`MAX_DEPTH` (logged), so a rule that re-triggers itself cannot
hang the server.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import RequestError
from .._store._values import UNDEFINED, now_ms
from .actions import ActionRunner
from .context import Context, condition_holds
from .patterns import event_id, fact_matches, topic_matches
from .timers import Timer, TimerTable
from .validation import validate_rule

__all__ = ["MAX_DEPTH", "RuleEngine"]

logger = logging.getLogger("noex_client.testing.rules")
EventListener = Callable[[str, dict[str, Any]], None]
MAX_DEPTH = 32
"""How deep rules may trigger rules (events, facts) before the chain is cut."""
_MAX_FIRES = 10_000  # timer expiries per fire_due_timers call (a 0 ms repeat must end)


def _noop() -> None:
    return None


class RuleEngine:
    """Facts, events, subscriptions, rules and timers of one server.

    Args:
        services: Services for ``call_service`` actions: name -> an object or
            a mapping whose (synchronous) methods the actions call.
        clock: Milliseconds since the epoch (timers are due on this clock).

    Attributes:
        timers_changed: Called whenever the set of timers or their due times
            change (the server re-plans its wake-up).
    """

    def __init__(
        self, services: Mapping[str, Any] | None = None, clock: Callable[[], int] = now_ms
    ) -> None:
        self.facts: dict[str, dict[str, Any]] = {}
        self._fact_versions: dict[str, int] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self._version = 0
        self._subs: dict[str, tuple[str, EventListener]] = {}
        self.events_processed = 0
        self.rules_executed = 0
        self.timers = TimerTable()
        self.services: dict[str, Any] = dict(services or {})
        self._clock = clock
        self._offset = 0
        self.timers_changed: Callable[[], None] = _noop
        self._actions = ActionRunner(self)

    def adopt(self, old: RuleEngine) -> None:
        """Take over the facts, rules and timers of ``old`` (a restart keeping data)."""
        self.facts, self._fact_versions = old.facts, old._fact_versions
        self.rules, self._version = old.rules, old._version
        self.timers, self._offset = old.timers, old._offset
        self.timers_changed()

    def now(self) -> int:
        """The engine clock in ms (the clock plus every :meth:`advance`)."""
        return self._clock() + self._offset

    # -- facts --------------------------------------------------------------
    def set_fact(self, key: str, value: Any, source: str = "api", depth: int = 0) -> dict[str, Any]:
        """Set a fact and fire the ``fact`` rules matching its key; returns the Fact."""
        version = self._fact_versions.get(key, 0) + 1
        self._fact_versions[key] = version
        fact = {"key": key, "value": value, "timestamp": now_ms(), "source": source,
                "version": version}  # fmt: skip
        self.facts.pop(key, None)
        self.facts[key] = fact
        self._fire("fact", key, copy.deepcopy(fact), {}, depth)
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
        self,
        topic: str,
        data: dict[str, Any],
        source: str = "api",
        depth: int = 0,
        **correlation: Any,
    ) -> dict[str, Any]:
        """Emit an event: push it to subscribers, then fire the matching ``event`` rules."""
        event: dict[str, Any] = {"id": event_id(), "topic": topic, "data": data,
                                 "timestamp": now_ms()}  # fmt: skip
        event.update({k: v for k, v in correlation.items() if v is not None and v is not UNDEFINED})
        event["source"] = source
        self.events_processed += 1
        for sub_id, (pattern, listener) in list(self._subs.items()):
            if topic_matches(pattern, topic):
                listener(sub_id, event)
        carried = {}
        if "correlationId" in event:
            carried = {"correlationId": event["correlationId"], "causationId": event["id"]}
        self._fire("event", topic, copy.deepcopy(data), carried, depth)
        return event

    # -- timers -------------------------------------------------------------
    def set_timer(self, timer: Timer) -> None:
        """Start (or replace) a named timer."""
        self.timers.set(timer)
        self.timers_changed()

    def cancel_timer(self, name: str) -> bool:
        """Stop a named timer; returns whether it was active."""
        cancelled = self.timers.cancel(name)
        if cancelled:
            self.timers_changed()
        return cancelled

    def next_timer_due(self) -> int | None:
        """When the next timer expires (engine clock, ms), or ``None``."""
        return self.timers.next_due()

    def fire_due_timers(self) -> int:
        """Expire every timer due by :meth:`now`, earliest first; returns how many fired.

        Each expiry emits the timer's event (``source: "timer"``), then fires
        the ``timer`` rules whose name pattern matches.
        """
        fired = 0
        while fired < _MAX_FIRES and (timer := self.timers.pop_due(self.now())) is not None:
            fired += 1
            event = self.emit(timer.topic, copy.deepcopy(timer.data), "timer", **timer.correlation)
            self._fire("timer", timer.name, copy.deepcopy(event["data"]), {}, 0)
        if fired:
            self.timers_changed()
        return fired

    def advance(self, ms: int) -> int:
        """Move the engine clock ``ms`` forward and fire the timers now due."""
        self._offset += max(0, int(ms))
        fired = self.fire_due_timers()
        self.timers_changed()
        return fired

    # -- rules ----------------------------------------------------------------
    def _fire(
        self, kind: str, name: str, data: Any, correlation: dict[str, Any], depth: int
    ) -> None:
        matching = [r for r in self._by_priority() if _triggered_by(r, kind, name)]
        if matching and depth >= MAX_DEPTH:
            logger.warning("rules: %s %r not evaluated, rule chain deeper than %d",
                           kind, name, MAX_DEPTH)  # fmt: skip
            return
        for rule in matching:
            ctx = Context(data, dict(correlation), {}, depth)
            if all(condition_holds(c, ctx, self.facts) for c in rule.get("conditions") or []):
                self.rules_executed += 1
                self._actions.run_all(str(rule.get("id")), rule.get("actions") or [], ctx)

    def _by_priority(self) -> list[dict[str, Any]]:
        enabled = [r for r in self.rules.values() if r.get("enabled", True)]
        return sorted(enabled, key=lambda r: _priority_key(r.get("priority")))

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
        stored = {**copy.deepcopy(rule), "version": self._version, "createdAt": now,
                  "updatedAt": now}  # fmt: skip
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

    def unregister(self, rule_id: str) -> None:
        """Remove a rule.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        self.get(rule_id)
        del self.rules[rule_id]

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
            "timersCount": len(self.timers),
            "eventsProcessed": self.events_processed,
            "rulesExecuted": self.rules_executed,
            "avgProcessingTimeMs": 0,
            "tracing": {"enabled": False, "entriesCount": 0, "maxEntries": 10000},
        }


def _priority_key(priority: object) -> float:
    if isinstance(priority, int | float) and not isinstance(priority, bool):
        return -float(priority)
    return 0.0


def _triggered_by(rule: Mapping[str, Any], kind: str, name: str) -> bool:
    trigger = rule.get("trigger")
    if not isinstance(trigger, dict) or trigger.get("type") != kind:
        return False
    if kind == "event":
        return topic_matches(str(trigger.get("topic", "")), name)
    if kind == "fact":
        return fact_matches(str(trigger.get("pattern", "")), name)
    if kind == "timer":
        return fact_matches(str(trigger.get("name", "")), name)
    return False
