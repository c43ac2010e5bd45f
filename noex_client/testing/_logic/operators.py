"""Arithmetic, comparison, logic and string operators (pure).

Argument shapes are those of the published expression helpers:
``{"$add": [a, b]}``, ``{"$abs": a}``, ``{"$round": [a, decimals]}``,
``{"$in": [a, values]}``, ``{"$between": [a, lo, hi]}``,
``{"$cond": [condition, then, otherwise]}``,
``{"$substring": [a, start, length?]}``. ``$add``, ``$multiply``, ``$and``,
``$or`` and ``$concat`` also take more arguments.

Comparisons follow noex-store's filter operators: ``$eq``/``$neq`` compare
JSON values deeply (``1`` is not ``true``); ``$gt``/``$gte``/``$lt``/``$lte``
and ``$between`` (inclusive) compare two numbers or two strings and are false
for any other pair, ``null`` included. ``$round`` rounds half away from zero
on the decimal value (``1.005`` to 2 places is ``1.01``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .._store._values import is_number, json_equal
from .._store.filters import operator_matches
from .nodes import Builder, Compiler, Expr, Scope, arg_list, merge, number_or_none, to_text, truthy

__all__ = ["BASIC_OPERATORS"]


def _compile_args(
    op: str, arg: Any, path: str, compile_: Compiler, low: int, high: int | None = None
) -> list[Expr]:
    items = arg_list(op, arg, path, low, high)
    if low == high == 1 and not isinstance(arg, list):
        return [compile_(arg, f"{path}.{op}")]
    return [compile_(item, f"{path}.{op}[{i}]") for i, item in enumerate(items)]


def _numeric(op: str, low: int, high: int | None, fn: Callable[[list[Any]], Any]) -> Builder:
    """An operator over numbers; any non-number operand gives ``None``."""

    def build(arg: Any, path: str, compile_: Compiler) -> Expr:
        nodes = _compile_args(op, arg, path, compile_, low, high)

        def run(scope: Scope) -> Any:
            values = [n.run(scope) for n in nodes]
            if not all(is_number(v) for v in values):
                return None
            return number_or_none(fn(values))

        return merge(nodes, run)

    return build


def _divide(values: list[Any]) -> Any:
    a, b = values
    return None if b == 0 else a / b


def _mod(values: list[Any]) -> Any:
    a, b = values
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        rest = abs(a) % abs(b)  # JavaScript: the sign follows the dividend
        return -rest if a < 0 else rest
    return math.fmod(a, b)


def _product(values: list[Any]) -> Any:
    out: Any = 1
    for v in values:
        out *= v
    return out


def _round(arg: Any, path: str, compile_: Compiler) -> Expr:
    items = arg if isinstance(arg, list) else [arg]
    nodes = _compile_args("$round", items, path, compile_, 1, 2)

    def run(scope: Scope) -> Any:
        value = nodes[0].run(scope)
        places = nodes[1].run(scope) if len(nodes) > 1 else 0
        if not is_number(value) or not is_number(places) or places != int(places):
            return None
        if not math.isfinite(value):
            return None
        try:
            exact = Decimal(repr(value))
            step = Decimal(1).scaleb(-int(places))
            rounded = (exact / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
        except InvalidOperation:
            return None
        return int(rounded) if places <= 0 or rounded == rounded.to_integral() else float(rounded)

    return merge(nodes, run)


def _comparison(op: str) -> Builder:
    """``$gt``/``$gte``/``$lt``/``$lte``: the store filter operator of the same name."""

    def build(arg: Any, path: str, compile_: Compiler) -> Expr:
        left, right = _compile_args(op, arg, path, compile_, 2, 2)
        return merge([left, right], lambda s: operator_matches(op, right.run(s), left.run(s)))

    return build


def _equality(op: str, want: bool) -> Builder:
    def build(arg: Any, path: str, compile_: Compiler) -> Expr:
        left, right = _compile_args(op, arg, path, compile_, 2, 2)
        return merge([left, right], lambda s: json_equal(left.run(s), right.run(s)) is want)

    return build


def _between(arg: Any, path: str, compile_: Compiler) -> Expr:
    nodes = _compile_args("$between", arg, path, compile_, 3, 3)

    def run(scope: Scope) -> Any:
        value, low, high = (n.run(scope) for n in nodes)
        return operator_matches("$between", [low, high], value)

    return merge(nodes, run)


def _in(arg: Any, path: str, compile_: Compiler) -> Expr:
    needle, haystack = _compile_args("$in", arg, path, compile_, 2, 2)

    def run(scope: Scope) -> Any:
        value, values = needle.run(scope), haystack.run(scope)
        return isinstance(values, list) and any(json_equal(value, v) for v in values)

    return merge([needle, haystack], run)


def _and(arg: Any, path: str, compile_: Compiler) -> Expr:
    nodes = _compile_args("$and", arg, path, compile_, 0)
    return merge(nodes, lambda s: all(truthy(n.run(s)) for n in nodes))


def _or(arg: Any, path: str, compile_: Compiler) -> Expr:
    nodes = _compile_args("$or", arg, path, compile_, 0)
    return merge(nodes, lambda s: any(truthy(n.run(s)) for n in nodes))


def _not(arg: Any, path: str, compile_: Compiler) -> Expr:
    (node,) = _compile_args("$not", arg, path, compile_, 1, 1)
    return merge([node], lambda s: not truthy(node.run(s)))


def _cond(arg: Any, path: str, compile_: Compiler) -> Expr:
    test, then, otherwise = _compile_args("$cond", arg, path, compile_, 3, 3)

    def run(scope: Scope) -> Any:
        return then.run(scope) if truthy(test.run(scope)) else otherwise.run(scope)

    return merge([test, then, otherwise], run)


def _concat(arg: Any, path: str, compile_: Compiler) -> Expr:
    nodes = _compile_args("$concat", arg, path, compile_, 0)
    return merge(nodes, lambda s: "".join(to_text(n.run(s)) for n in nodes))


def _text(op: str, fn: Callable[[str], Any]) -> Builder:
    """A string operator; ``null`` stays ``null``, other values are turned into text."""

    def build(arg: Any, path: str, compile_: Compiler) -> Expr:
        (node,) = _compile_args(op, arg, path, compile_, 1, 1)

        def run(scope: Scope) -> Any:
            value = node.run(scope)
            return None if value is None else fn(to_text(value))

        return merge([node], run)

    return build


def _length(arg: Any, path: str, compile_: Compiler) -> Expr:
    (node,) = _compile_args("$length", arg, path, compile_, 1, 1)

    def run(scope: Scope) -> Any:
        value = node.run(scope)
        return len(value) if isinstance(value, str | list) else None

    return merge([node], run)


def _substring(arg: Any, path: str, compile_: Compiler) -> Expr:
    nodes = _compile_args("$substring", arg, path, compile_, 2, 3)

    def run(scope: Scope) -> Any:
        value = nodes[0].run(scope)
        start = nodes[1].run(scope)
        length = nodes[2].run(scope) if len(nodes) > 2 else None
        if value is None or not is_number(start) or not (length is None or is_number(length)):
            return None
        text = to_text(value)
        begin = max(0, int(start))
        if length is None:
            return text[begin:]
        return text[begin : begin + max(0, int(length))]

    return merge(nodes, run)


BASIC_OPERATORS: dict[str, Builder] = {
    "$add": _numeric("$add", 1, None, sum),
    "$subtract": _numeric("$subtract", 2, 2, lambda v: v[0] - v[1]),
    "$multiply": _numeric("$multiply", 1, None, _product),
    "$divide": _numeric("$divide", 2, 2, _divide),
    "$mod": _numeric("$mod", 2, 2, _mod),
    "$abs": _numeric("$abs", 1, 1, lambda v: abs(v[0])),
    "$round": _round,
    "$floor": _numeric("$floor", 1, 1, lambda v: math.floor(v[0]) if math.isfinite(v[0]) else None),
    "$ceil": _numeric("$ceil", 1, 1, lambda v: math.ceil(v[0]) if math.isfinite(v[0]) else None),
    "$eq": _equality("$eq", True),
    "$neq": _equality("$neq", False),
    "$gt": _comparison("$gt"),
    "$gte": _comparison("$gte"),
    "$lt": _comparison("$lt"),
    "$lte": _comparison("$lte"),
    "$between": _between,
    "$in": _in,
    "$and": _and,
    "$or": _or,
    "$not": _not,
    "$cond": _cond,
    "$concat": _concat,
    "$upper": _text("$upper", str.upper),
    "$lower": _text("$lower", str.lower),
    "$trim": _text("$trim", str.strip),
    "$length": _length,
    "$substring": _substring,
}
