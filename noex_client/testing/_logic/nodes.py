"""The building blocks of compiled expressions: scope, nodes, errors, values (pure).

An expression is compiled once into a tree of :class:`Expr` nodes (closures
over their compiled arguments) and then evaluated against a :class:`Scope`
any number of times. Compilation checks the shape of every operator call, so
a malformed expression is refused when it is defined, not when a record
happens to reach it.

Value rules (the spec leaves them open; these follow noex-store's filter
semantics where it has one): a missing field reads as ``None``; an operator
whose operands have the wrong type yields ``None`` instead of failing;
``NaN`` and infinities become ``None`` (``JSON.stringify`` sends ``null``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._store._values import UNDEFINED, is_number, now_ms, to_text

__all__ = [
    "Builder",
    "Compiler",
    "Expr",
    "ExprError",
    "Scope",
    "arg_list",
    "const",
    "number_or_none",
    "resolve_path",
    "to_text",
    "truthy",
]


class ExprError(Exception):
    """An expression is malformed, or cannot be evaluated where it is used.

    Attributes:
        reason: What is wrong, e.g. ``unknown operator "$foo"``.
        path: Where, e.g. ``expr.$add[1]``.
    """

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(f"Invalid expression at {path}: {reason}")
        self.reason = reason
        self.path = path


@dataclass
class Scope:
    """What an expression is evaluated against.

    Attributes:
        record: The record ``"$field"`` paths read from (``None``: no record).
        rows: The rows aggregates run over (a view's rows), or ``None``.
        now: The time ``$now`` returns, fixed for one evaluation (ms epoch).
    """

    record: Mapping[str, Any] | None = None
    rows: Sequence[Mapping[str, Any]] | None = None
    now: int = field(default_factory=now_ms)

    def with_record(self, record: Mapping[str, Any] | None) -> Scope:
        """The same scope reading fields from another record (no rows)."""
        return Scope(record, None, self.now)


@dataclass(frozen=True)
class Expr:
    """A compiled expression.

    Attributes:
        run: Evaluates the expression in a scope.
        refs: Field paths the expression reads (without the ``$``).
        aggregate: Whether it aggregates over the scope's rows.
    """

    run: Callable[[Scope], Any]
    refs: frozenset[str] = frozenset()
    aggregate: bool = False


Compiler = Callable[[Any, str], Expr]
"""Compiles a sub-expression found at a path."""

Builder = Callable[[Any, str, Compiler], Expr]
"""Builds the node of one operator from its raw argument."""


def const(value: Any) -> Expr:
    """A node that always evaluates to ``value``."""
    return Expr(lambda _scope: value)


def merge(nodes: Sequence[Expr], run: Callable[[Scope], Any]) -> Expr:
    """A node over ``nodes``: their refs and aggregate flags combined."""
    refs: frozenset[str] = frozenset().union(*(n.refs for n in nodes))
    return Expr(run, refs, any(n.aggregate for n in nodes))


def arg_list(op: str, arg: Any, path: str, low: int, high: int | None = None) -> list[Any]:
    """The argument list of an operator call, checked against its arity.

    A unary operator (``low == high == 1``) also takes its argument bare:
    ``{"$abs": "$x"}`` is ``{"$abs": ["$x"]}``.

    Raises:
        ExprError: Not a list, or the wrong number of arguments.
    """
    if not isinstance(arg, list):
        if low == high == 1:
            return [arg]
        raise ExprError(f"{op} expects a list of arguments, got {_kind(arg)}", path)
    if len(arg) < low or (high is not None and len(arg) > high):
        if high is None:
            wanted = f"at least {low}"
        elif low == high:
            wanted = str(low)
        else:
            wanted = f"{low} to {high}"
        raise ExprError(f"{op} expects {wanted} argument(s), got {len(arg)}", path)
    return arg


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def resolve_path(value: Any, path: str) -> Any:
    """Read a dotted path (``a.b.c``) from a JSON value; missing parts give ``None``.

    A numeric segment indexes a list; any other segment applied to a list
    reads that path from every element (``items.price`` is the list of prices).
    """
    for i, part in enumerate(path.split(".")):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list):
            if part.isdigit():
                index = int(part)
                value = value[index] if index < len(value) else None
            else:
                rest = ".".join(path.split(".")[i:])
                return [resolve_path(item, rest) for item in value]
        else:
            return None
        if value is UNDEFINED:
            return None
    return value


def truthy(value: Any) -> bool:
    """JavaScript truthiness: ``null``, ``false``, ``0``, ``NaN`` and ``""`` are false."""
    if value is None or value is UNDEFINED or value is False:
        return False
    if is_number(value):
        return bool(value == value and value != 0)
    if isinstance(value, str):
        return value != ""
    return True


def number_or_none(value: Any) -> Any:
    """``value`` if it is a finite number, else ``None`` (JSON has no NaN/Infinity)."""
    if is_number(value) and math.isfinite(value):
        return value
    return None
