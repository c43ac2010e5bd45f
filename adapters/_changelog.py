"""``ChangeLog``: the retained changes of an in-process data set (memory, the BeaverDB mirror).

Changes are kept per collection in feed order, each with its position (any
ordered value: an int, a tuple) and its cursor already set. Retention is
bounded by count per collection and/or by age; what is pruned moves the
collection's *horizon*, and a read after a position older than the horizon is
refused (:class:`~adapters.CursorExpired`): the feed never skips silently.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._stored import RawChange

__all__ = ["ChangeLog", "Expired", "check_retention"]


def check_retention(backend: str, max_changes: int, max_age: float) -> None:
    """Refuse unbounded retention (both limits off).

    Raises:
        ValueError: naming the backend's two options.
    """
    if max_changes <= 0 and max_age <= 0:
        raise ValueError(
            f"{backend} options 'feed_max_changes' and 'feed_max_age' cannot both be 0: "
            "the change log must be bounded"
        )


class Expired(Exception):
    """Changes after the requested position were pruned."""


@dataclass
class _Changes:
    entries: list[tuple[Any, float, RawChange]] = field(default_factory=list)
    horizon: Any = None  # the position of the newest pruned change


def _position(entry: tuple[Any, float, RawChange]) -> Any:
    return entry[0]


def _time(entry: tuple[Any, float, RawChange]) -> float:
    return entry[1]


class ChangeLog:
    """Retained changes per collection (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._collections: dict[str, _Changes] = {}

    def append(
        self,
        collection: str,
        entries: Iterable[tuple[Any, RawChange]],
        max_changes: int,
        max_age: float,
    ) -> None:
        """Add changes of ``collection`` (positions increasing), then prune it.

        Args:
            max_changes: keep this many changes of the collection (up to an eighth
                more between prunings; 0: no count limit).
            max_age: drop changes older than this many seconds (0: no age limit).
        """
        now = self._clock()
        with self._lock:
            log = self._collections.setdefault(collection, _Changes())
            log.entries.extend((position, now, change) for position, change in entries)
            self._prune(log, now, max_changes, max_age)

    def _prune(self, log: _Changes, now: float, max_changes: int, max_age: float) -> None:
        entries = log.entries
        drop = 0
        # Pruned in steps (a little slack over the limit), so appends stay O(1) amortised.
        if max_changes > 0 and len(entries) > max_changes + max_changes // 8:
            drop = len(entries) - max_changes
        if max_age > 0 and entries and entries[0][1] < now - max_age:
            drop = max(drop, bisect.bisect_left(entries, now - max_age, key=_time))
        if drop:
            log.horizon = entries[drop - 1][0]
            del entries[:drop]

    def read(self, collection: str, after: Any, limit: int = 1000) -> list[RawChange]:
        """Up to ``limit`` changes of ``collection`` after position ``after``, oldest first.

        Raises:
            Expired: changes after ``after`` were pruned.
        """
        with self._lock:
            log = self._collections.get(collection)
            if log is None:
                return []
            if log.horizon is not None and after < log.horizon:
                raise Expired
            entries = log.entries
            start = bisect.bisect_right(entries, after, key=_position)
            return [entry[2] for entry in entries[start : start + limit]]

    def forget(self, collection: str) -> None:
        """Drop everything retained for ``collection`` (its horizon stays)."""
        with self._lock:
            log = self._collections.get(collection)
            if log is not None and log.entries:
                log.horizon = log.entries[-1][0]
                log.entries.clear()
