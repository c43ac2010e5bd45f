"""Expression helpers: each function returns the plain JSON expression the server evaluates.

Nothing is evaluated on the client. ``f("qty")`` is the field reference
``"$qty"`` (dotted paths read nested objects); any other ``Arg`` is a literal
or another expression::

    from noex_client import expr as e

    e.multiply(e.f("qty"), e.f("price"))   # {"$multiply": ["$qty", "$price"]}
    e.and_(e.gt(e.f("qty"), 0), e.not_(e.f("void")))
    e.cond(e.gte(e.f("total"), 100), "big", "small")

The names are those of the published client; ``and_``, ``or_``, ``not_`` and
``is_in`` avoid Python keywords, and ``abs``, ``round``, ``min``, ``max`` and
``sum`` are module functions here (import the module, not the names, to keep
the builtins).
"""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = [
    "Arg",
    "Expr",
    "abs",
    "add",
    "and_",
    "avg",
    "between",
    "ceil",
    "concat",
    "cond",
    "count",
    "date_add",
    "day",
    "days_between",
    "divide",
    "eq",
    "f",
    "floor",
    "gt",
    "gte",
    "is_in",
    "length",
    "lower",
    "lt",
    "lte",
    "max",
    "min",
    "mod",
    "month",
    "multiply",
    "neq",
    "not_",
    "now",
    "or_",
    "round",
    "substring",
    "subtract",
    "sum",
    "trim",
    "upper",
    "year",
]

#: A JSON expression: ``{"$op": args}``.
Expr: TypeAlias = dict[str, Any]
#: An operand: a literal JSON value, a field reference (``f("x")``) or an :data:`Expr`.
Arg: TypeAlias = Any


def f(field_name: str) -> str:
    """The field reference ``"$<field_name>"``."""
    return f"${field_name}"


# -- arithmetic ---------------------------------------------------------------------------


def add(a: Arg, b: Arg) -> Expr:
    """``{"$add": [a, b]}``."""
    return {"$add": [a, b]}


def subtract(a: Arg, b: Arg) -> Expr:
    """``{"$subtract": [a, b]}``."""
    return {"$subtract": [a, b]}


def multiply(a: Arg, b: Arg) -> Expr:
    """``{"$multiply": [a, b]}``."""
    return {"$multiply": [a, b]}


def divide(a: Arg, b: Arg) -> Expr:
    """``{"$divide": [a, b]}``."""
    return {"$divide": [a, b]}


def mod(a: Arg, b: Arg) -> Expr:
    """``{"$mod": [a, b]}``."""
    return {"$mod": [a, b]}


def abs(a: Arg) -> Expr:
    """``{"$abs": a}``."""
    return {"$abs": a}


def round(a: Arg, decimals: int = 0) -> Expr:
    """``{"$round": [a, decimals]}``."""
    return {"$round": [a, decimals]}


def floor(a: Arg) -> Expr:
    """``{"$floor": a}``."""
    return {"$floor": a}


def ceil(a: Arg) -> Expr:
    """``{"$ceil": a}``."""
    return {"$ceil": a}


# -- comparison ---------------------------------------------------------------------------


def eq(a: Arg, b: Arg) -> Expr:
    """``{"$eq": [a, b]}``."""
    return {"$eq": [a, b]}


def neq(a: Arg, b: Arg) -> Expr:
    """``{"$neq": [a, b]}``."""
    return {"$neq": [a, b]}


def gt(a: Arg, b: Arg) -> Expr:
    """``{"$gt": [a, b]}``."""
    return {"$gt": [a, b]}


def gte(a: Arg, b: Arg) -> Expr:
    """``{"$gte": [a, b]}``."""
    return {"$gte": [a, b]}


def lt(a: Arg, b: Arg) -> Expr:
    """``{"$lt": [a, b]}``."""
    return {"$lt": [a, b]}


def lte(a: Arg, b: Arg) -> Expr:
    """``{"$lte": [a, b]}``."""
    return {"$lte": [a, b]}


def between(a: Arg, min_val: Arg, max_val: Arg) -> Expr:
    """``{"$between": [a, min_val, max_val]}`` (inclusive)."""
    return {"$between": [a, min_val, max_val]}


def is_in(a: Arg, values: list[Arg]) -> Expr:
    """``{"$in": [a, values]}``."""
    return {"$in": [a, values]}


# -- logic --------------------------------------------------------------------------------


def and_(*conds: Arg) -> Expr:
    """``{"$and": [cond, ...]}``."""
    return {"$and": list(conds)}


def or_(*conds: Arg) -> Expr:
    """``{"$or": [cond, ...]}``."""
    return {"$or": list(conds)}


def not_(a: Arg) -> Expr:
    """``{"$not": a}``."""
    return {"$not": a}


def cond(condition: Arg, then: Arg, otherwise: Arg) -> Expr:
    """``{"$cond": [condition, then, otherwise]}``."""
    return {"$cond": [condition, then, otherwise]}


# -- strings ------------------------------------------------------------------------------


def concat(*parts: Arg) -> Expr:
    """``{"$concat": [part, ...]}``."""
    return {"$concat": list(parts)}


def upper(a: Arg) -> Expr:
    """``{"$upper": a}``."""
    return {"$upper": a}


def lower(a: Arg) -> Expr:
    """``{"$lower": a}``."""
    return {"$lower": a}


def length(a: Arg) -> Expr:
    """``{"$length": a}``."""
    return {"$length": a}


def trim(a: Arg) -> Expr:
    """``{"$trim": a}``."""
    return {"$trim": a}


def substring(a: Arg, start: int, length: int | None = None) -> Expr:
    """``{"$substring": [a, start]}``, or ``[a, start, length]`` when ``length`` is given."""
    if length is None:
        return {"$substring": [a, start]}
    return {"$substring": [a, start, length]}


# -- dates --------------------------------------------------------------------------------


def now() -> Expr:
    """``{"$now": True}``: the evaluation time."""
    return {"$now": True}


def year(a: Arg) -> Expr:
    """``{"$year": a}``."""
    return {"$year": a}


def month(a: Arg) -> Expr:
    """``{"$month": a}``."""
    return {"$month": a}


def day(a: Arg) -> Expr:
    """``{"$day": a}``."""
    return {"$day": a}


def days_between(a: Arg, b: Arg) -> Expr:
    """``{"$daysBetween": [a, b]}``."""
    return {"$daysBetween": [a, b]}


def date_add(date: Arg, n: int, unit: str) -> Expr:
    """``{"$dateAdd": [date, n, unit]}``."""
    return {"$dateAdd": [date, n, unit]}


# -- aggregates over a list or view -------------------------------------------------------


def sum(field: str) -> Expr:
    """``{"$sum": field}``."""
    return {"$sum": field}


def avg(field: str) -> Expr:
    """``{"$avg": field}``."""
    return {"$avg": field}


def min(field: str) -> Expr:
    """``{"$min": field}``."""
    return {"$min": field}


def max(field: str) -> Expr:
    """``{"$max": field}``."""
    return {"$max": field}


def count(field: str | None = None) -> Expr:
    """``{"$count": field}``, or ``{"$count": "*"}`` to count rows."""
    return {"$count": field if field is not None else "*"}
