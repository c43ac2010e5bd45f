"""Topic and fact-key patterns, event ids and durations of the rule engine (§5.10)."""

from __future__ import annotations

import re
import secrets

from .._store._values import now_ms

__all__ = ["event_id", "fact_matches", "parse_duration", "topic_matches"]

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


def event_id() -> str:
    """``<ms base36>-<9 random base36 chars>``, as noex-rules numbers events."""
    return f"{_base36(now_ms())}-{''.join(secrets.choice(_B36) for _ in range(9))}"


def topic_matches(pattern: str, topic: str) -> bool:
    """``.``-segment topic pattern matching (§5.10).

    ``*`` alone matches every topic; a non-final ``*`` matches exactly one
    segment, a final ``*`` the rest (zero or more segments); partial-segment
    wildcards never match.
    """
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
    """``:``-segment fact-key pattern matching (§5.10).

    ``*`` matches one or more non-``:`` characters; a pattern without ``*`` is
    an exact lookup. Timer names in ``timer`` triggers match the same way.
    """
    if "*" not in pattern:
        return pattern == key
    regex = "^" + "[^:]+".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(regex, key) is not None


def parse_duration(value: object) -> int:
    """A timer duration in ms: a number of ms or ``"500ms"``/``"30s"``/``"15m"``/``"1h"``/``"7d"``/``"1w"``.

    Raises:
        ValueError: Not a non-negative number or such a string.
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            return int(float(match.group(1)) * _UNIT_MS[match.group(2)])
    raise ValueError(f"Invalid duration: {value!r}")
