"""Rule validation: the issues ``rules.validateRule`` / ``registerRule`` report.

Issues are ``{"path", "message", "severity": "error"}``. The recorded
messages (``Required field "name" is missing``) are those of the real
validator; the checks of trigger and action fields follow the same form
(``Required field "trigger.topic" is missing``, ``Required field
"actions[0].timer.onExpire.topic" is missing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ACTIONS", "OPERATORS", "TRIGGERS", "validate_rule"]

TRIGGERS: dict[str, str] = {
    "event": "topic",
    "fact": "pattern",
    "timer": "name",
    "temporal": "pattern",
}
"""Trigger type -> its required field."""

ACTIONS: dict[str, tuple[str, ...]] = {
    "set_fact": ("key", "value"),
    "delete_fact": ("key",),
    "emit_event": ("topic",),
    "set_timer": ("timer",),
    "cancel_timer": ("name",),
    "call_service": ("service", "method"),
    "log": ("message",),
    "conditional": ("conditions", "then"),
    "for_each": ("collection", "as", "actions"),
    "try_catch": ("try",),
}
"""Action type -> its required fields."""

OPERATORS = frozenset(
    {"eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "not_contains",
     "matches", "exists", "not_exists"}
)  # fmt: skip
_LOG_LEVELS = ("debug", "info", "warn", "error")
_SOURCES = ("event", "fact", "context", "lookup", "baseline")


def _issue(path: str, message: str) -> dict[str, str]:
    return {"path": path, "message": message, "severity": "error"}


def _missing(path: str) -> dict[str, str]:
    return _issue(path, f'Required field "{path}" is missing')


def validate_rule(rule: Mapping[str, Any]) -> list[dict[str, str]]:
    """Rule validation issues ``[{path, message, severity}]`` (empty when valid)."""
    issues = [_missing(name) for name in ("id", "name", "trigger") if name not in rule]
    trigger = rule.get("trigger")
    if "trigger" in rule and not isinstance(trigger, dict):
        issues.append(_issue("trigger", "Trigger must be an object"))
    elif isinstance(trigger, dict):
        kind = trigger.get("type")
        if kind not in TRIGGERS:
            issues.append(_issue("trigger.type", f"Invalid trigger type: {kind}"))
        elif trigger.get(TRIGGERS[kind]) is None:
            issues.append(_missing(f"trigger.{TRIGGERS[kind]}"))
        elif kind == "temporal" and not isinstance(trigger["pattern"], dict):
            issues.append(_issue("trigger.pattern", "Temporal pattern must be an object"))
    issues += _conditions(rule.get("conditions"), "conditions")
    issues += _actions(rule.get("actions"), "actions")
    return issues


def _conditions(conditions: object, path: str) -> list[dict[str, str]]:
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        return [_issue(path, f'"{path}" must be an array')]
    issues: list[dict[str, str]] = []
    for i, cond in enumerate(conditions):
        here = f"{path}[{i}]"
        if not isinstance(cond, dict):
            issues.append(_issue(here, "Condition must be an object"))
            continue
        source = cond.get("source")
        if not isinstance(source, dict):
            issues.append(_missing(f"{here}.source"))
        elif source.get("type") not in _SOURCES:
            issues.append(
                _issue(f"{here}.source.type", f"Invalid source type: {source.get('type')}")
            )
        if cond.get("operator") not in OPERATORS:
            issues.append(_issue(f"{here}.operator", f"Invalid operator: {cond.get('operator')}"))
    return issues


def _actions(actions: object, path: str) -> list[dict[str, str]]:
    if actions is None:
        return []
    if not isinstance(actions, list):
        return [_issue(path, f'"{path}" must be an array')]
    issues: list[dict[str, str]] = []
    for i, action in enumerate(actions):
        here = f"{path}[{i}]"
        kind = action.get("type") if isinstance(action, dict) else action
        if not isinstance(action, dict) or kind not in ACTIONS:
            issues.append(_issue(f"{here}.type", f"Invalid action type: {kind}"))
            continue
        missing = [
            f for f in ACTIONS[str(kind)] if f not in action or (f != "value" and action[f] is None)
        ]
        issues += [_missing(f"{here}.{field}") for field in missing]
        if missing:
            continue
        issues += _action_details(str(kind), action, here)
    return issues


def _action_details(kind: str, action: Mapping[str, Any], here: str) -> list[dict[str, str]]:
    if kind == "set_timer":
        return _timer(action["timer"], f"{here}.timer")
    if kind == "log" and action.get("level", "info") not in _LOG_LEVELS:
        return [_issue(f"{here}.level", f"Invalid log level: {action.get('level')}")]
    if kind == "conditional":
        return (
            _conditions(action["conditions"], f"{here}.conditions")
            + _actions(action["then"], f"{here}.then")
            + _actions(action.get("else"), f"{here}.else")
        )
    if kind == "for_each":
        return _actions(action["actions"], f"{here}.actions")
    if kind == "try_catch":
        issues = _actions(action["try"], f"{here}.try")
        catch = action.get("catch")
        if catch is not None:
            if not isinstance(catch, dict):
                issues.append(_issue(f"{here}.catch", "catch must be an object"))
            else:
                issues += _actions(catch.get("actions"), f"{here}.catch.actions")
        return issues + _actions(action.get("finally"), f"{here}.finally")
    return []


def _timer(timer: object, path: str) -> list[dict[str, str]]:
    if not isinstance(timer, dict):
        return [_issue(path, "Timer must be an object")]
    issues = [_missing(f"{path}.{f}") for f in ("name", "duration", "onExpire") if f not in timer]
    on_expire = timer.get("onExpire")
    if isinstance(on_expire, dict) and on_expire.get("topic") is None:
        issues.append(_missing(f"{path}.onExpire.topic"))
    repeat = timer.get("repeat")
    if repeat is not None and (not isinstance(repeat, dict) or "interval" not in repeat):
        issues.append(_missing(f"{path}.repeat.interval"))
    return issues
