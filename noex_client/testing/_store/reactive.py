"""Reactive store subscriptions: the real push rule (§5.8), sans-I/O.

Change events only mark subscriptions dirty; :meth:`Reactive.flush` then
re-evaluates each dirty subscription once and pushes the whole new result
when it differs (deep equality) from the last one. Flushing after each
request gives the real server's observable behaviour: one push per request,
a single push for a whole transaction, and none for ``store.clear``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ._values import json_equal
from .queries import Dependencies
from .store import Store

__all__ = ["PushSubscription", "Reactive", "StoreSubscription", "flush_changed"]

PushCallback = Callable[[str, Any], None]


class PushSubscription(Protocol):
    """What :func:`flush_changed` needs of a subscription."""

    @property
    def id(self) -> str: ...

    @property
    def push(self) -> Callable[[str, Any], None]: ...

    last_result: Any


S = TypeVar("S", bound=PushSubscription)


def flush_changed(
    dirty: dict[str, None], subs: Mapping[str, S], evaluate: Callable[[S], Any]
) -> int:
    """Re-evaluate each dirty subscription once; push the whole result when it changed.

    The push rule of §5.8: only when the new result differs (deep equality)
    from the last one. A failing ``evaluate`` keeps the subscription and
    sends nothing. Returns the number of pushes.
    """
    pushes = 0
    while dirty:
        sub_id = next(iter(dirty))
        del dirty[sub_id]
        sub = subs.get(sub_id)
        if sub is None:
            continue
        try:
            result = evaluate(sub)
        except Exception:  # a failing query keeps its subscription, silently
            continue
        if not json_equal(sub.last_result, result):
            sub.last_result = result
            sub.push(sub.id, result)
            pushes += 1
    return pushes


@dataclass
class StoreSubscription:
    """One ``store.subscribe``: its query, params and last result."""

    id: str
    query: str
    params: Any
    push: PushCallback
    last_result: Any
    deps: Dependencies = field(default_factory=Dependencies)


class Reactive:
    """The subscriptions of one store.

    Args:
        store: The store whose change events drive the subscriptions.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._subs: dict[str, StoreSubscription] = {}
        self._dirty: dict[str, None] = {}
        self.on_dirty: Callable[[], None] = lambda: None
        store.add_listener(self._on_change)
        store.active_subscriptions = self.count

    def count(self, query: str | None = None) -> int:
        """Active subscriptions, all or those of one query."""
        return sum(1 for s in self._subs.values() if query is None or s.query == query)

    def subscribe(self, sub_id: str, query: str, params: Any, push: PushCallback) -> Any:
        """Register a subscription and return its initial result.

        Raises:
            QueryNotDefinedError: Unknown query.
            StoreError: The query failed.
        """
        result, ctx = self._store.run_query(query, params)
        sub = StoreSubscription(sub_id, query, params, push, result, ctx.deps)
        initial, _ = self._store.run_query(query, params)
        self._subs[sub_id] = sub
        return initial

    def unsubscribe(self, sub_id: str) -> bool:
        """Stop a subscription; returns whether it was active."""
        self._dirty.pop(sub_id, None)
        return self._subs.pop(sub_id, None) is not None

    def drop_query(self, query: str) -> None:
        """Silently remove the subscriptions of an undefined query."""
        for sub in [s for s in self._subs.values() if s.query == query]:
            self.unsubscribe(sub.id)

    def drop_bucket(self, bucket: str) -> None:
        """Silently remove the subscriptions that read a dropped bucket."""
        for sub in list(self._subs.values()):
            if bucket in sub.deps.buckets or any(b == bucket for b, _ in sub.deps.records):
                self.unsubscribe(sub.id)

    def _on_change(self, bucket: str, key: Any) -> None:
        marked = False
        for sub in self._subs.values():
            if sub.id not in self._dirty and sub.deps.touches(bucket, key):
                self._dirty[sub.id] = None
                marked = True
        if marked:
            self.on_dirty()

    @property
    def pending(self) -> bool:
        """Whether some subscription waits for re-evaluation."""
        return bool(self._dirty)

    def flush(self) -> int:
        """Re-evaluate dirty subscriptions; returns the number of pushes."""

        def evaluate(sub: StoreSubscription) -> Any:
            result, ctx = self._store.run_query(sub.query, sub.params)
            sub.deps = ctx.deps
            return result

        return flush_changed(self._dirty, self._subs, evaluate)
