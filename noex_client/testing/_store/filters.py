"""Filters, ordering and aggregation over records (sans-I/O).

A filter is ``{field: cond}`` with AND across fields. A plain ``cond`` is a
strict-equality test; a ``cond`` whose keys all start with ``$`` is an
operator set (§5.7). The top level may also hold ``$or`` / ``$and`` lists.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from ._values import UNDEFINED, is_number, js_eq, js_str

__all__ = [
    "aggregate",
    "compare_keys",
    "is_operator_set",
    "js_less",
    "matches",
    "operator_matches",
]


def is_operator_set(cond: object) -> bool:
    """Whether ``cond`` is an operator set like ``{"$gt": 3}``."""
    return isinstance(cond, dict) and bool(cond) and all(k.startswith("$") for k in cond)


def matches(record: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    """Whether ``record`` satisfies ``flt``."""
    for field, cond in flt.items():
        if field == "$or":
            if not isinstance(cond, list) or not any(
                isinstance(sub, dict) and matches(record, sub) for sub in cond
            ):
                return False
            continue
        if field == "$and":
            if not isinstance(cond, list) or not all(
                isinstance(sub, dict) and matches(record, sub) for sub in cond
            ):
                return False
            continue
        value = record.get(field, UNDEFINED)
        if is_operator_set(cond):
            if not all(operator_matches(op, arg, value) for op, arg in cond.items()):
                return False
        elif not js_eq(value, cond):
            return False
    return True


def _ordered(a: object, b: object) -> tuple[Any, Any] | None:
    if is_number(a) and is_number(b):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    return None


def operator_matches(op: str, arg: Any, value: Any) -> bool:
    """Whether a record value satisfies one filter operator, e.g. ``$gt`` with ``arg`` 3."""
    if op == "$eq":
        return js_eq(value, arg)
    if op == "$neq":
        return not js_eq(value, arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        pair = _ordered(value, arg)
        if pair is None:
            return False
        left, right = pair
        if op == "$gt":
            return bool(left > right)
        if op == "$gte":
            return bool(left >= right)
        if op == "$lt":
            return bool(left < right)
        return bool(left <= right)
    if op == "$in":
        return isinstance(arg, list) and any(js_eq(value, a) for a in arg)
    if op == "$nin":
        return isinstance(arg, list) and not any(js_eq(value, a) for a in arg)
    if op == "$contains":
        return isinstance(value, str) and isinstance(arg, str) and arg.lower() in value.lower()
    if op == "$startsWith":
        return isinstance(value, str) and isinstance(arg, str) and value.startswith(arg)
    if op == "$endsWith":
        return isinstance(value, str) and isinstance(arg, str) and value.endswith(arg)
    if op == "$exists":
        present = value is not None and value is not UNDEFINED
        return present if arg else not present
    if op == "$between":
        if not isinstance(arg, list) or len(arg) != 2:
            return False
        low, high = _ordered(value, arg[0]), _ordered(value, arg[1])
        return low is not None and high is not None and arg[0] <= value <= arg[1]
    return False


def js_less(a: object, b: object) -> bool:
    """JavaScript ``a < b`` for numbers and strings (other pairs: false)."""
    pair = _ordered(a, b)
    return pair is not None and bool(pair[0] < pair[1])


def compare_keys(a: object, b: object) -> int:
    """Key order of an ``ordered_set`` bucket: numbers numerically, else as text."""
    if is_number(a) and is_number(b):
        return -1 if a < b else (1 if a > b else 0)  # type: ignore[operator]
    sa, sb = js_str(a), js_str(b)
    ka, kb = (sa.casefold(), sa), (sb.casefold(), sb)
    return -1 if ka < kb else (1 if ka > kb else 0)


sort_key_of = functools.cmp_to_key(compare_keys)


def aggregate(kind: str, records: Iterable[Mapping[str, Any]], field: str) -> Any:
    """``sum``/``avg``/``min``/``max`` over the numeric values of ``field``.

    Returns:
        A number; ``None`` for ``min``/``max`` without numeric values.
    """
    numbers: list[Any] = [v for v in (r.get(field) for r in records) if is_number(v)]
    if kind == "sum":
        return sum(numbers)
    if kind == "avg":
        return sum(numbers) / len(numbers) if numbers else 0
    if kind == "min":
        return min(numbers) if numbers else None
    if kind == "max":
        return max(numbers) if numbers else None
    raise ValueError(f"unknown aggregate {kind!r}")
