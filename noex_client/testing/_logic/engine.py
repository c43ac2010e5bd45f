"""The logic engine: computed fields, constraints, views and their subscriptions.

It hooks into a :class:`~noex_client.testing._store.Store` three times: a
``complete`` write hook sets computed fields before a record is validated, a
``check`` write hook refuses records that break a constraint, and a change
listener marks the view subscriptions whose source buckets changed. :meth:`LogicEngine.flush` then re-evaluates each marked
subscription once and pushes the whole new result when it differs from the
last one, exactly like store subscriptions (protocol §5.8): one push per
request at most, none when the result is unchanged. Sans-I/O: pushes go
through the callback given at subscribe time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import RequestError, validation
from .._store import Bucket, Store
from .._store.reactive import flush_changed
from .computed import ComputedFields, apply_computed, compile_computed
from .constraints import Constraint, check_constraints, compile_constraint
from .expr import compile_expr
from .nodes import ExprError, Scope
from .views import View, compile_view, evaluate_view, explain_view

__all__ = ["LogicEngine", "ViewPush"]

ViewPush = Callable[[str, list[dict[str, Any]]], None]
"""``(subscription_id, rows)``: delivers a view's new result."""


@dataclass
class _ViewSubscription:
    id: str
    view: str
    push: ViewPush
    last_result: list[dict[str, Any]]


class LogicEngine:
    """Computed fields, constraints and derived views over one store.

    Args:
        store: The store whose writes and changes the engine follows.
    """

    def __init__(self, store: Store) -> None:
        self.computed: dict[str, ComputedFields] = {}
        self.constraints: dict[str, Constraint] = {}
        self.views: dict[str, View] = {}
        self._subs: dict[str, _ViewSubscription] = {}
        self._dirty: dict[str, None] = {}
        self.store = store
        store.add_listener(self._on_change)
        store.add_write_hook(self._complete, "complete")
        store.add_write_hook(self._check, "check")

    def drop_bucket(self, bucket: str) -> None:
        """Forget what belongs to a dropped bucket.

        Its computed fields and constraints go, so a bucket defined again
        under the name starts clean; the subscriptions of views reading it end
        silently, as store subscriptions do (the views stay defined).
        """
        self.computed.pop(bucket, None)
        self.constraints = {n: c for n, c in self.constraints.items() if c.bucket != bucket}
        for sub in list(self._subs.values()):
            view = self.views.get(sub.view)
            if view is None or bucket in view.buckets:
                self.unsubscribe_view(sub.id)

    def adopt(self, old: LogicEngine) -> None:
        """Take over the definitions of ``old`` (a restart keeping data)."""
        self.computed = dict(old.computed)
        self.constraints = dict(old.constraints)
        self.views = dict(old.views)

    # -- computed fields ------------------------------------------------------
    def define_computed(self, bucket: str, fields: Mapping[str, Any]) -> None:
        """Define (or replace) the computed fields of ``bucket``.

        Raises:
            BucketNotDefinedError: Unknown bucket.
            RequestError: ``VALIDATION_ERROR``, a bad field definition.
        """
        target = self.store.bucket(bucket)
        self.computed[bucket] = compile_computed(bucket, fields, target.key_field)

    def drop_computed(self, bucket: str) -> bool:
        """Remove the computed fields of ``bucket``; returns whether there were any."""
        return self.computed.pop(bucket, None) is not None

    def list_computed(self) -> list[dict[str, Any]]:
        """``[{bucket, fields}]`` in definition order."""
        return [copy.deepcopy(c.definition) for c in self.computed.values()]

    # -- constraints ----------------------------------------------------------
    def define_constraint(self, spec: Mapping[str, Any]) -> str:
        """Define (or replace) a constraint; returns its name.

        Raises:
            RequestError: ``VALIDATION_ERROR``, a bad definition.
            BucketNotDefinedError: ``on`` names an unknown bucket.
        """
        constraint = compile_constraint(spec)
        self.store.bucket(constraint.bucket)
        self.constraints[constraint.name] = constraint
        return constraint.name

    def drop_constraint(self, name: str) -> bool:
        """Remove a constraint; returns whether it existed."""
        return self.constraints.pop(name, None) is not None

    def list_constraints(self) -> list[dict[str, Any]]:
        """The constraint definitions as given, in definition order."""
        return [copy.deepcopy(c.definition) for c in self.constraints.values()]

    # -- views ----------------------------------------------------------------
    def define_view(self, definition: Mapping[str, Any]) -> str:
        """Define (or replace) a view; returns its name.

        Subscriptions to a replaced view stay and get the new result if it differs.

        Raises:
            RequestError: ``VALIDATION_ERROR``, a bad definition.
            BucketNotDefinedError: A source bucket is unknown.
        """
        view = compile_view(definition)
        for bucket in sorted(view.buckets):
            self.store.bucket(bucket)
        self.views[view.name] = view
        for sub in self._subs.values():
            if sub.view == view.name:
                self._dirty[sub.id] = None
        return view.name

    def drop_view(self, name: str) -> bool:
        """Remove a view; its subscriptions end silently (as store queries do)."""
        if self.views.pop(name, None) is None:
            return False
        for sub in [s for s in self._subs.values() if s.view == name]:
            self.unsubscribe_view(sub.id)
        return True

    def view(self, name: str) -> View:
        """The view called ``name``.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        found = self.views.get(name)
        if found is None:
            raise RequestError("NOT_FOUND", f'View "{name}" not found')
        return found

    def query_view(self, name: str) -> list[dict[str, Any]]:
        """The current rows of a view.

        Raises:
            RequestError: ``NOT_FOUND``.
            BucketNotDefinedError: A source bucket was dropped.
        """
        return evaluate_view(self.view(name), self.store.bucket)

    def explain_view(self, name: str) -> dict[str, Any]:
        """``{name, sources, join, select, plan, aggregate, groupBy, subscriptions}``.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        explained = explain_view(self.view(name))
        explained["subscriptions"] = sum(1 for s in self._subs.values() if s.view == name)
        return explained

    def list_views(self) -> list[dict[str, Any]]:
        """The view definitions as given, in definition order."""
        return [copy.deepcopy(v.definition) for v in self.views.values()]

    # -- view subscriptions ---------------------------------------------------
    def subscribe_view(self, sub_id: str, name: str, push: ViewPush) -> list[dict[str, Any]]:
        """Subscribe to a view; returns its current rows (no push is sent now).

        Raises:
            RequestError: ``NOT_FOUND``.
            BucketNotDefinedError: A source bucket was dropped.
        """
        rows = self.query_view(name)
        self._subs[sub_id] = _ViewSubscription(sub_id, name, push, rows)
        return rows

    def unsubscribe_view(self, sub_id: str) -> bool:
        """Stop a view subscription; returns whether it was active."""
        self._dirty.pop(sub_id, None)
        return self._subs.pop(sub_id, None) is not None

    @property
    def subscription_count(self) -> int:
        """Active view subscriptions."""
        return len(self._subs)

    def _on_change(self, bucket: str, _key: Any) -> None:
        for sub in self._subs.values():
            view = self.views.get(sub.view)
            if view is not None and bucket in view.buckets:
                self._dirty[sub.id] = None

    def flush(self) -> int:
        """Re-evaluate the marked subscriptions; push changed results. Returns the pushes."""
        return flush_changed(self._dirty, self._subs, lambda sub: self.query_view(sub.view))

    # -- expressions and writes -----------------------------------------------
    def evaluate(self, expr: Any, record: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression, reading ``"$field"`` paths from ``record``.

        Raises:
            RequestError: ``VALIDATION_ERROR`` naming what is wrong with ``expr``.
        """
        try:
            return compile_expr(expr).run(Scope(record))
        except ExprError as exc:
            raise validation(str(exc)) from None

    def _complete(
        self, bucket: Bucket, existing: Mapping[str, Any] | None, record: dict[str, Any]
    ) -> None:
        computed = self.computed.get(bucket.name)
        if computed is not None:
            apply_computed(computed, existing, record)

    def _check(
        self, bucket: Bucket, _existing: Mapping[str, Any] | None, record: dict[str, Any]
    ) -> None:
        constraints = [c for c in self.constraints.values() if c.bucket == bucket.name]
        if constraints:
            check_constraints(constraints, record)
