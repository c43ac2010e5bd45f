"""Every expression helper returns exactly the JSON the published client's helper returns."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from noex_client import expr as e

#: (call, expected JSON): the published helper list, one line per helper and variant.
CASES: list[tuple[Callable[[], Any], Any]] = [
    (lambda: e.add(1, "$a"), {"$add": [1, "$a"]}),
    (lambda: e.subtract("$a", 2), {"$subtract": ["$a", 2]}),
    (lambda: e.multiply("$qty", "$price"), {"$multiply": ["$qty", "$price"]}),
    (lambda: e.divide(10, 4), {"$divide": [10, 4]}),
    (lambda: e.mod(7, 3), {"$mod": [7, 3]}),
    (lambda: e.abs(-3), {"$abs": -3}),
    (lambda: e.round("$x"), {"$round": ["$x", 0]}),
    (lambda: e.round("$x", 2), {"$round": ["$x", 2]}),
    (lambda: e.floor(1.5), {"$floor": 1.5}),
    (lambda: e.ceil(1.5), {"$ceil": 1.5}),
    (lambda: e.eq("$a", None), {"$eq": ["$a", None]}),
    (lambda: e.neq("$a", 1), {"$neq": ["$a", 1]}),
    (lambda: e.gt("$a", 1), {"$gt": ["$a", 1]}),
    (lambda: e.gte("$a", 1), {"$gte": ["$a", 1]}),
    (lambda: e.lt("$a", 1), {"$lt": ["$a", 1]}),
    (lambda: e.lte("$a", 1), {"$lte": ["$a", 1]}),
    (lambda: e.between("$a", 1, 5), {"$between": ["$a", 1, 5]}),
    (lambda: e.is_in("$a", [1, 2]), {"$in": ["$a", [1, 2]]}),
    (lambda: e.and_(True, "$b"), {"$and": [True, "$b"]}),
    (lambda: e.and_(), {"$and": []}),
    (lambda: e.or_(False, "$b", "$c"), {"$or": [False, "$b", "$c"]}),
    (lambda: e.not_("$a"), {"$not": "$a"}),
    (lambda: e.cond("$ok", "yes", "no"), {"$cond": ["$ok", "yes", "no"]}),
    (lambda: e.concat("$first", " ", "$last"), {"$concat": ["$first", " ", "$last"]}),
    (lambda: e.upper("$a"), {"$upper": "$a"}),
    (lambda: e.lower("$a"), {"$lower": "$a"}),
    (lambda: e.length("$a"), {"$length": "$a"}),
    (lambda: e.trim("$a"), {"$trim": "$a"}),
    (lambda: e.substring("$a", 1), {"$substring": ["$a", 1]}),
    (lambda: e.substring("$a", 1, 3), {"$substring": ["$a", 1, 3]}),
    (lambda: e.now(), {"$now": True}),
    (lambda: e.year("$d"), {"$year": "$d"}),
    (lambda: e.month("$d"), {"$month": "$d"}),
    (lambda: e.day("$d"), {"$day": "$d"}),
    (lambda: e.days_between("$a", "$b"), {"$daysBetween": ["$a", "$b"]}),
    (lambda: e.date_add("$d", 3, "days"), {"$dateAdd": ["$d", 3, "days"]}),
    (lambda: e.sum("amount"), {"$sum": "amount"}),
    (lambda: e.avg("amount"), {"$avg": "amount"}),
    (lambda: e.min("amount"), {"$min": "amount"}),
    (lambda: e.max("amount"), {"$max": "amount"}),
    (lambda: e.count(), {"$count": "*"}),
    (lambda: e.count("id"), {"$count": "id"}),
    (lambda: e.f("qty"), "$qty"),
    (lambda: e.f("address.city"), "$address.city"),
]

PUBLISHED_NAMES = {
    *("add", "subtract", "multiply", "divide", "mod", "abs", "round", "floor", "ceil"),
    *("eq", "neq", "gt", "gte", "lt", "lte", "between", "is_in", "and_", "or_", "not_", "cond"),
    *("concat", "upper", "lower", "length", "trim", "substring"),
    *("now", "year", "month", "day", "days_between", "date_add"),
    *("sum", "avg", "min", "max", "count", "f"),
}


@pytest.mark.parametrize(("call", "expected"), CASES)
def test_helper_returns_the_published_json(call: Callable[[], Any], expected: Any) -> None:
    result = call()
    assert result == expected
    # Plain JSON all the way down: it encodes and decodes to the same value.
    assert msgspec.json.decode(msgspec.json.encode(result)) == expected


def test_every_published_helper_exists_and_nothing_else() -> None:
    helpers = {name for name in e.__all__ if inspect.isfunction(getattr(e, name))}
    assert helpers == PUBLISHED_NAMES


def test_helpers_nest_into_one_tree() -> None:
    big = e.cond(e.gte(e.multiply(e.f("qty"), e.f("price")), 100), "big", "small")
    assert big == {"$cond": [{"$gte": [{"$multiply": ["$qty", "$price"]}, 100]}, "big", "small"]}


def test_builtins_are_untouched_outside_the_module() -> None:
    assert abs(-1) == 1
    assert round(1.26, 1) == 1.3
    assert (min(1, 2), max(1, 2), sum([1, 2])) == (1, 2, 3)
