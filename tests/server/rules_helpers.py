"""Rules the rule-engine tests register (a helper module, no tests)."""

from __future__ import annotations

from typing import Any

__all__ = ["TIER_RULE", "rule"]


def rule(
    rule_id: str, trigger: dict[str, Any], *actions: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A valid rule with ``trigger`` and ``actions`` (priority 0, enabled, no conditions)."""
    return {"id": rule_id, "name": rule_id, "priority": 0, "enabled": True, "tags": [],
            "trigger": trigger, "conditions": [], "actions": list(actions), **extra}  # fmt: skip


#: On every set of a ``customer:*:tier`` fact, emits ``tier.changed {key, tier}``.
TIER_RULE = rule(
    "tier",
    {"type": "fact", "pattern": "customer:*:tier"},
    {"type": "emit_event", "topic": "tier.changed",
     "data": {"key": {"ref": "event.key"}, "tier": {"ref": "event.value"}}},
)  # fmt: skip
