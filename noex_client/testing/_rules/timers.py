"""Named rule timers (``set_timer`` / ``cancel_timer``), kept as data (sans-I/O).

A timer is due at a time of the rule engine's clock; nothing here sleeps.
The engine fires the due ones when asked (``fire_due_timers``), and the
server asks at the time :meth:`TimerTable.next_due` names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Timer", "TimerTable"]


@dataclass
class Timer:
    """One named timer.

    Attributes:
        name: The timer name (unique: setting a name again replaces the timer).
        due: When it expires next, in ms of the engine clock.
        topic: The topic of the event it emits on expiry.
        data: The data of that event (references resolved when it was set).
        interval: The repeat interval in ms, or ``None`` for a one-shot timer.
        remaining: Expiries left, the next one included (``None``: unlimited).
        correlation: ``correlationId``/``causationId`` for the emitted events.
    """

    name: str
    due: int
    topic: str
    data: dict[str, Any]
    interval: int | None = None
    remaining: int | None = None
    correlation: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{name, expiresAt, onExpire: {topic, data}, repeat?}`` for inspection."""
        out: dict[str, Any] = {
            "name": self.name,
            "expiresAt": self.due,
            "onExpire": {"topic": self.topic, "data": self.data},
        }
        if self.interval is not None:
            out["repeat"] = {"interval": self.interval, "remaining": self.remaining}
        return out


class TimerTable:
    """The active timers of one engine, by name."""

    def __init__(self) -> None:
        self._timers: dict[str, Timer] = {}

    def __len__(self) -> int:
        return len(self._timers)

    def __iter__(self) -> Iterator[Timer]:
        return iter(list(self._timers.values()))

    def get(self, name: str) -> Timer | None:
        """The active timer called ``name``, or ``None``."""
        return self._timers.get(name)

    def set(self, timer: Timer) -> None:
        """Start a timer, replacing an active one of the same name."""
        self._timers.pop(timer.name, None)
        self._timers[timer.name] = timer

    def cancel(self, name: str) -> bool:
        """Stop a timer; returns whether it was active."""
        return self._timers.pop(name, None) is not None

    def next_due(self) -> int | None:
        """The earliest due time, or ``None`` without timers."""
        return min((t.due for t in self._timers.values()), default=None)

    def pop_due(self, now: int) -> Timer | None:
        """The earliest timer due at ``now`` (first set first on ties), or ``None``.

        A one-shot timer, or a repeating one on its last expiry, leaves the
        table; a repeating one is re-armed ``interval`` after its due time.
        """
        due = min(self._timers.values(), key=lambda t: t.due, default=None)
        if due is None or due.due > now:
            return None
        fired = Timer(due.name, due.due, due.topic, due.data, due.interval, due.remaining,
                      due.correlation)  # fmt: skip
        if due.interval is not None and (due.remaining is None or due.remaining > 1):
            due.due += max(due.interval, 1)
            if due.remaining is not None:
                due.remaining -= 1
        else:
            del self._timers[due.name]
        return fired
