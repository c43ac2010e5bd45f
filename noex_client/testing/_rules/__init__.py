"""The rule engine of the test server (noex-rules semantics, sans-I/O)."""

from .actions import ActionError
from .engine import MAX_DEPTH, RuleEngine
from .patterns import event_id, fact_matches, parse_duration, topic_matches
from .timers import Timer, TimerTable
from .validation import validate_rule

__all__ = [
    "MAX_DEPTH",
    "ActionError",
    "RuleEngine",
    "Timer",
    "TimerTable",
    "event_id",
    "fact_matches",
    "parse_duration",
    "topic_matches",
    "validate_rule",
]
