"""Derived views: definition, join plan, evaluation and explanation (pure).

A view is ``{name, from: {alias: bucket, ...}, join?: {"a.field": "b.field",
...}, select: {outField: "alias.field" | expression}}``.

- **Rows.** One row per record of a single source, in table order; with
  several sources, one row per combination the join conditions accept (an
  inner equality join, ``===`` on the values). Sources are joined in ``from``
  order, each to one already joined by a condition, so every source after the
  first needs one; the rows keep the order of the first source, then of each
  joined bucket. ``null`` and missing values never join (as in SQL).
- **Select.** A string is a path: ``"alias.field"`` (for a single source the
  alias may be left out). Anything else is an expression, where ``"$alias.field"``
  reads the row (``"$field"`` too for a single source). A missing value is
  ``null`` in the row.
- **Aggregates.** When a select entry aggregates over rows (``{"$sum":
  "o.total"}``, ``{"$count": "*"}``), the view groups its rows by the other
  select entries (one row per distinct combination, in first-seen order, or
  a single row when every entry aggregates, even over no rows) and evaluates
  the aggregates over each group.
"""

from __future__ import annotations

import copy
import json
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import validation
from .._store._values import js_eq, now_ms, to_key
from .._store.buckets import Bucket
from .expr import compile_expr
from .nodes import Expr, ExprError, Scope, resolve_path

__all__ = ["View", "compile_view", "evaluate_view", "explain_view"]

_KEYS = ("name", "from", "join", "select")


@dataclass(frozen=True)
class _Join:
    """``alias.path === other.other_path``, checked when ``alias`` is joined."""

    alias: str
    path: str
    other: str
    other_path: str

    def text(self) -> str:
        return f"{self.alias}.{self.path} = {self.other}.{self.other_path}"


@dataclass(frozen=True)
class _Step:
    alias: str
    bucket: str
    joins: tuple[_Join, ...]


@dataclass(frozen=True)
class _Column:
    name: str
    expr: Expr


@dataclass(frozen=True)
class View:
    """A compiled view and its definition as it was given."""

    name: str
    definition: dict[str, Any]
    sources: dict[str, str]
    steps: tuple[_Step, ...]
    columns: tuple[_Column, ...]

    @property
    def grouped(self) -> bool:
        """Whether the view aggregates its rows."""
        return any(c.expr.aggregate for c in self.columns)

    @property
    def buckets(self) -> frozenset[str]:
        """The source buckets (a change in one re-evaluates the view)."""
        return frozenset(self.sources.values())


def _split(ref: Any, sources: Mapping[str, str], where: str) -> tuple[str, str]:
    if not isinstance(ref, str) or "." not in ref:
        raise validation(f'{where}: "{ref}" must be "alias.field"')
    alias, path = ref.split(".", 1)
    if alias not in sources:
        raise validation(f'{where}: unknown alias "{alias}" (sources: {", ".join(sources)})')
    if not path:
        raise validation(f'{where}: "{ref}" names no field')
    return alias, path


def _plan(sources: dict[str, str], join: Mapping[str, Any]) -> tuple[_Step, ...]:
    conditions: list[tuple[tuple[str, str], tuple[str, str]]] = []
    for left, right in join.items():
        a, b = _split(left, sources, "definition.join"), _split(right, sources, "definition.join")
        if a[0] == b[0]:
            raise validation(f'definition.join: "{left}" and "{right}" are in the same source')
        conditions.append((a, b))
    aliases = list(sources)
    steps = [_Step(aliases[0], sources[aliases[0]], ())]
    placed, pending = {aliases[0]}, aliases[1:]
    while pending:
        for alias in pending:
            joins = [
                _Join(alias, mine[1], theirs[0], theirs[1])
                for a, b in conditions
                for mine, theirs in ((a, b), (b, a))
                if mine[0] == alias and theirs[0] in placed
            ]
            if joins:
                steps.append(_Step(alias, sources[alias], tuple(joins)))
                placed.add(alias)
                pending.remove(alias)
                break
        else:
            raise validation(
                f'definition.join: source "{pending[0]}" is not joined to '
                f"{', '.join(sorted(placed))} (views use inner equality joins)"
            )
    return tuple(steps)


def _column(name: str, spec: Any, sources: Mapping[str, str]) -> _Column:
    where = f"definition.select.{name}"
    if isinstance(spec, str):
        if not spec.removeprefix("$"):
            raise validation(f"{where}: empty path")
        spec = "$" + spec.removeprefix("$")
    try:
        expr = compile_expr(spec, where)
    except ExprError as exc:
        raise validation(str(exc)) from None
    if len(sources) > 1:
        for ref in sorted(expr.refs):
            if ref.split(".", 1)[0] not in sources:
                raise validation(
                    f'{where}: "{ref}" does not start with a source alias ({", ".join(sources)})'
                )
    return _Column(name, expr)


def compile_view(definition: Mapping[str, Any]) -> View:
    """Check and compile a view definition (bucket existence is the caller's check).

    Raises:
        RequestError: ``VALIDATION_ERROR`` naming the first problem.
    """
    unknown = [k for k in definition if k not in _KEYS]
    if unknown:
        raise validation(f'definition: unknown key "{unknown[0]}" (expected {", ".join(_KEYS)})')
    name = definition.get("name")
    if not isinstance(name, str) or not name:
        raise validation("definition.name: expected non-empty string")
    sources = definition.get("from")
    if not isinstance(sources, dict) or not sources:
        raise validation("definition.from: expected a non-empty object of alias -> bucket")
    for alias, bucket in sources.items():
        if not alias or "." in alias:
            raise validation(f'definition.from: alias "{alias}" must be non-empty, without "."')
        if not isinstance(bucket, str) or not bucket:
            raise validation(f"definition.from.{alias}: expected non-empty string (a bucket)")
    join = definition.get("join")
    if join is None:
        join = {}
    if not isinstance(join, dict):
        raise validation('definition.join: expected an object {"a.field": "b.field"}')
    steps = _plan(dict(sources), join)
    select = definition.get("select")
    if not isinstance(select, dict) or not select:
        raise validation("definition.select: expected a non-empty object of field -> path")
    columns = tuple(_column(n, s, sources) for n, s in select.items())
    return View(name, copy.deepcopy(dict(definition)), dict(sources), steps, columns)


def _join_key(value: Any) -> Any:
    if value is None or isinstance(value, dict | list):
        return None
    return to_key(value)


def _rows(view: View, lookup: Callable[[str], Bucket]) -> list[dict[str, Any]]:
    first = view.steps[0]
    rows: list[dict[str, Any]] = [{first.alias: r} for r in lookup(first.bucket).records()]
    for step in view.steps[1:]:
        head, rest = step.joins[0], step.joins[1:]
        index: dict[Any, list[dict[str, Any]]] = {}
        for record in lookup(step.bucket).records():
            key = _join_key(resolve_path(record, head.path))
            if key is not None:
                index.setdefault(key, []).append(record)
        joined: list[dict[str, Any]] = []
        for row in rows:
            key = _join_key(resolve_path(row[head.other], head.other_path))
            for record in index.get(key, []) if key is not None else []:
                if all(
                    _join_key(resolve_path(record, j.path)) is not None
                    and js_eq(
                        resolve_path(record, j.path), resolve_path(row[j.other], j.other_path)
                    )
                    for j in rest
                ):
                    joined.append({**row, step.alias: record})
        rows = joined
    return rows


def _group_key(values: list[Any]) -> str:
    return json.dumps(values, sort_keys=True, default=str)


def evaluate_view(view: View, lookup: Callable[[str], Bucket]) -> list[dict[str, Any]]:
    """The rows of ``view`` over the current store.

    Args:
        view: The compiled view.
        lookup: Returns a bucket by name.

    Raises:
        BucketNotDefinedError: A source bucket no longer exists.
    """
    now = now_ms()
    joined = _rows(view, lookup)
    rows: list[Mapping[str, Any]] = list(joined)
    if len(view.sources) == 1:
        alias = view.steps[0].alias  # "alias.field" and bare "field" both read the record
        rows = [ChainMap(row, row[alias]) for row in joined]
    if not view.grouped:
        return [{c.name: c.expr.run(Scope(row, None, now)) for c in view.columns} for row in rows]
    keys = [c for c in view.columns if not c.expr.aggregate]
    groups: dict[str, list[Mapping[str, Any]]] = {"": []} if not keys else {}
    for row in rows:
        values = [c.expr.run(Scope(row, None, now)) for c in keys]
        groups.setdefault(_group_key(values) if keys else "", []).append(row)
    return [
        {
            c.name: c.expr.run(Scope(members[0] if members else None, members, now))
            for c in view.columns
        }
        for members in groups.values()
    ]


def explain_view(view: View) -> dict[str, Any]:
    """How the view is computed: sources, join plan, columns, grouping."""
    plan: list[dict[str, Any]] = []
    for step in view.steps:
        entry: dict[str, Any] = {"alias": step.alias, "bucket": step.bucket}
        if step.joins:
            entry["access"] = "hash join"
            entry["on"] = [j.text() for j in step.joins]
        else:
            entry["access"] = "scan"
        plan.append(entry)
    return {
        "name": view.name,
        "sources": dict(view.sources),
        "join": dict(view.definition.get("join") or {}),
        "select": list(view.definition["select"]),
        "plan": plan,
        "aggregate": view.grouped,
        "groupBy": [c.name for c in view.columns if not c.expr.aggregate] if view.grouped else [],
    }
