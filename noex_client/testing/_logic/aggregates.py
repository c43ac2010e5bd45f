"""Aggregate operators: ``$sum $avg $min $max $count`` (pure).

The argument names what to aggregate:

- a field path (``"total"`` or ``"$total"``, dotted for joined views:
  ``"o.total"``): in a view, that field of every row; elsewhere the field of
  the record, which should hold a list (``{"$sum": "$items.price"}``);
- ``"*"`` (``$count`` only): the number of rows of the view;
- an expression: evaluated on every row of a view, or once elsewhere;
- a literal list: its elements.

The results follow noex-store's aggregations: ``$sum`` adds the numbers and
skips other values (``0`` when there are none), ``$avg`` is their mean
(``0`` when there are none), ``$min``/``$max`` give ``None`` without numbers,
and ``$count`` counts the values that are not ``null``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._store._values import is_number
from .nodes import Builder, Compiler, Expr, ExprError, Scope, number_or_none, resolve_path

__all__ = ["AGGREGATE_OPERATORS"]

Values = Callable[[Scope], list[Any]]


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _reduce(op: str, values: list[Any]) -> Any:
    if op == "$count":
        return sum(1 for v in values if v is not None)
    numbers = [v for v in values if is_number(v)]
    if op == "$sum":
        return number_or_none(sum(numbers))
    if op == "$avg":
        return number_or_none(sum(numbers) / len(numbers)) if numbers else 0
    if not numbers:
        return None
    return min(numbers) if op == "$min" else max(numbers)


def _field_values(field: str) -> Values:
    def values(scope: Scope) -> list[Any]:
        if scope.rows is not None:
            out: list[Any] = []
            for row in scope.rows:
                out.extend(_flatten(resolve_path(row, field)))
            return out
        if scope.record is None:
            return []
        return _flatten(resolve_path(scope.record, field))

    return values


def _expression_values(node: Expr) -> Values:
    def values(scope: Scope) -> list[Any]:
        if scope.rows is None:
            return _flatten(node.run(scope))
        out: list[Any] = []
        for row in scope.rows:
            out.extend(_flatten(node.run(scope.with_record(row))))
        return out

    return values


def _count_rows(path: str) -> Expr:
    def run(scope: Scope) -> Any:
        if scope.rows is None:
            raise ExprError(
                '$count: "*" counts the rows of a view; name a field or give a list here', path
            )
        return len(scope.rows)

    return Expr(run, frozenset(), aggregate=True)


def _aggregate(op: str) -> Builder:
    def build(arg: Any, path: str, compile_: Compiler) -> Expr:
        if arg == "*":
            if op != "$count":
                raise ExprError(f'{op}: "*" is only meaningful for $count', path)
            return _count_rows(path)
        if isinstance(arg, str):
            field = arg.removeprefix("$")
            if not field:
                raise ExprError(f"{op}: empty field path", path)
            values = _field_values(field)
            refs, over_rows = frozenset([field]), True
        elif isinstance(arg, list):
            nodes = [compile_(item, f"{path}.{op}[{i}]") for i, item in enumerate(arg)]
            values = lambda scope: [n.run(scope) for n in nodes]  # noqa: E731
            refs = frozenset().union(*(n.refs for n in nodes))
            over_rows = any(n.aggregate for n in nodes)
        elif isinstance(arg, dict):
            node = compile_(arg, f"{path}.{op}")
            values, refs, over_rows = _expression_values(node), node.refs, True
        else:
            raise ExprError(
                f"{op} expects a field name, a list or an expression, got {arg!r}", path
            )
        return Expr(lambda scope: _reduce(op, values(scope)), refs, over_rows)

    return build


AGGREGATE_OPERATORS: dict[str, Builder] = {
    op: _aggregate(op) for op in ("$sum", "$avg", "$min", "$max", "$count")
}
