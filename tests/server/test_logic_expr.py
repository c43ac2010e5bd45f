"""The logic expression language, without sockets: every operator of ``logic.md``.

Argument shapes are those the published expression helpers produce
(``published-client.md``), e.g. ``{"$round": [a, 2]}``, ``{"$abs": a}``,
``{"$count": "*"}``, ``{"$now": True}``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from noex_client.testing._logic import OPERATORS, ExprError, compile_expr, evaluate
from noex_client.testing._logic.nodes import Scope

RECORD = {
    "qty": 3,
    "price": 2.5,
    "name": "  Ada Lovelace ",
    "tags": ["math", "poetry"],
    "address": {"city": "London", "zip": None},
    "items": [{"price": 10}, {"price": 20}, {"price": "n/a"}],
    "born": "1815-12-10",
    "at": 1_700_000_000_000,
    "active": True,
}

SPEC_OPERATORS = {
    "$add", "$subtract", "$multiply", "$divide", "$mod", "$abs", "$round", "$floor", "$ceil",
    "$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$between", "$in", "$and", "$or", "$not",
    "$cond", "$concat", "$upper", "$lower", "$length", "$trim", "$substring", "$now", "$year",
    "$month", "$day", "$daysBetween", "$dateAdd", "$sum", "$avg", "$min", "$max", "$count",
}  # fmt: skip

CASES: list[tuple[Any, Any]] = [
    # literals and field paths
    (42, 42),
    ("plain text", "plain text"),
    (None, None),
    ("$qty", 3),
    ("$address.city", "London"),
    ("$address.zip", None),
    ("$missing.deep", None),
    ("$tags.1", "poetry"),
    ({"total": {"$multiply": ["$qty", "$price"]}, "n": "$qty"}, {"total": 7.5, "n": 3}),
    ([1, "$qty"], [1, 3]),
    # arithmetic
    ({"$add": [2, 3]}, 5),
    ({"$add": [1, 2, 3]}, 6),
    ({"$add": ["$qty", None]}, None),
    ({"$subtract": [10, "$qty"]}, 7),
    ({"$multiply": ["$qty", "$price"]}, 7.5),
    ({"$divide": [10, 4]}, 2.5),
    ({"$divide": [1, 0]}, None),
    ({"$mod": [10, 3]}, 1),
    ({"$mod": [-7, 3]}, -1),
    ({"$mod": [7.5, 2]}, 1.5),
    ({"$mod": [1, 0]}, None),
    ({"$abs": -4}, 4),
    ({"$abs": ["$qty"]}, 3),
    ({"$round": [3.14159, 2]}, 3.14),
    ({"$round": [1.005, 2]}, 1.01),
    ({"$round": [2.5, 0]}, 3),
    ({"$round": [-2.5, 0]}, -3),
    ({"$round": [1250, -2]}, 1300),
    ({"$round": 7.6}, 8),
    ({"$round": ["x", 1]}, None),
    ({"$floor": 2.7}, 2),
    ({"$floor": -2.1}, -3),
    ({"$ceil": 2.1}, 3),
    ({"$ceil": "x"}, None),
    # comparison
    ({"$eq": ["$qty", 3]}, True),
    ({"$eq": [1, True]}, False),
    ({"$eq": ["$address", {"city": "London", "zip": None}]}, True),
    ({"$neq": ["$qty", 3]}, False),
    ({"$gt": ["$qty", 2]}, True),
    ({"$gt": ["b", "a"]}, True),
    ({"$gt": ["$missing", 0]}, False),
    ({"$gte": [3, 3]}, True),
    ({"$lt": [2, "3"]}, False),
    ({"$lte": ["1815-12-10", "$born"]}, True),
    ({"$between": ["$qty", 1, 3]}, True),
    ({"$between": [4, 1, 3]}, False),
    ({"$in": ["math", "$tags"]}, True),
    ({"$in": ["$qty", [1, 2]]}, False),
    ({"$in": [1, "not a list"]}, False),
    # logic
    ({"$and": [{"$gt": ["$qty", 1]}, "$active"]}, True),
    ({"$and": [1, 0]}, False),
    ({"$or": [0, "", None, "x"]}, True),
    ({"$or": []}, False),
    ({"$not": "$active"}, False),
    ({"$not": [0]}, True),
    ({"$cond": [{"$gte": ["$qty", 3]}, "bulk", "single"]}, "bulk"),
    ({"$cond": [[], "truthy", "falsy"]}, "truthy"),
    # strings
    ({"$concat": ["$address.city", "-", "$qty"]}, "London-3"),
    ({"$concat": ["a", None, True, {"k": 1}]}, 'atrue{"k":1}'),
    ({"$upper": "abc"}, "ABC"),
    ({"$lower": "$address.city"}, "london"),
    ({"$upper": "$missing"}, None),
    ({"$length": "$tags"}, 2),
    ({"$length": "héllo"}, 5),
    ({"$length": "$qty"}, None),
    ({"$trim": "$name"}, "Ada Lovelace"),
    ({"$substring": ["abcdef", 2]}, "cdef"),
    ({"$substring": ["abcdef", 1, 3]}, "bcd"),
    ({"$substring": ["abc", -1, 2]}, "ab"),
    ({"$substring": ["$missing", 0, 2]}, None),
    # dates
    ({"$year": "$born"}, 1815),
    ({"$month": "$born"}, 12),
    ({"$day": "$born"}, 10),
    ({"$year": "$at"}, 2023),
    ({"$month": "2024-02-29T23:30:00-01:00"}, 3),
    ({"$day": "not a date"}, None),
    ({"$daysBetween": ["2024-01-01", "2024-03-01"]}, 60),
    ({"$daysBetween": ["2024-03-01", "2024-01-01"]}, -60),
    ({"$daysBetween": ["2024-01-01T00:00:00Z", "2024-01-02T23:00:00Z"]}, 1),
    ({"$dateAdd": ["2024-01-31", 1, "month"]}, "2024-02-29"),
    ({"$dateAdd": ["2024-02-29", 1, "years"]}, "2025-02-28"),
    ({"$dateAdd": ["2024-01-01", -1, "day"]}, "2023-12-31"),
    ({"$dateAdd": ["2024-01-01", 2, "weeks"]}, "2024-01-15"),
    ({"$dateAdd": ["2024-01-01", 6, "hours"]}, "2024-01-01T06:00:00.000Z"),
    ({"$dateAdd": ["2024-01-01T10:00:00Z", 90, "minutes"]}, "2024-01-01T11:30:00.000Z"),
    ({"$dateAdd": [0, 1, "day"]}, 86_400_000),
    ({"$dateAdd": [1000, 500, "ms"]}, 1500),
    ({"$dateAdd": ["2024-01-01", 1.5, "months"]}, None),
    # aggregates over a list
    ({"$sum": "$items.price"}, 30),
    ({"$sum": "items.price"}, 30),
    ({"$sum": [1, 2, "x", 3.5]}, 6.5),
    ({"$sum": "$missing"}, 0),
    ({"$avg": "$items.price"}, 15),
    ({"$avg": []}, 0),
    ({"$min": "$items.price"}, 10),
    ({"$max": [3, 9, 4]}, 9),
    ({"$max": ["a"]}, None),
    ({"$count": "$tags"}, 2),
    ({"$count": [1, None, 2]}, 2),
]


def test_every_spec_operator_is_implemented_and_nothing_else() -> None:
    assert set(OPERATORS) == SPEC_OPERATORS
    tested = {op for expr, _ in CASES for op in _operators(expr)}
    assert tested >= SPEC_OPERATORS - {"$now"}


def _operators(expr: Any) -> set[str]:
    if isinstance(expr, dict):
        found = {k for k in expr if k.startswith("$")}
        for value in expr.values():
            found |= _operators(value)
        return found
    if isinstance(expr, list):
        return set().union(*(_operators(v) for v in expr)) if expr else set()
    return set()


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_evaluates(expr: Any, expected: Any) -> None:
    result = evaluate(expr, RECORD)
    assert result == expected
    assert isinstance(result, bool) == isinstance(expected, bool)  # 1 is not true


def test_without_a_record_fields_read_null() -> None:
    assert evaluate({"$add": [2, 3]}) == 5
    assert evaluate("$qty") is None
    assert evaluate({"$concat": ["x", "$qty"]}) == "x"


def test_now_is_the_current_time_and_fixed_within_one_evaluation() -> None:
    before = int(time.time() * 1000)
    first, second = evaluate([{"$now": True}, {"$now": True}])
    assert first == second
    assert before <= first <= int(time.time() * 1000)
    assert evaluate({"$year": {"$now": True}}) == time.gmtime().tm_year


def test_results_are_json_numbers() -> None:
    assert evaluate({"$multiply": [1e308, 10]}) is None  # Infinity is null in JSON
    assert evaluate({"$divide": [0, 0]}) is None
    assert not math.isnan(evaluate({"$avg": [1, 2]}))


def test_aggregates_run_over_rows_when_a_view_provides_them() -> None:
    rows: list[dict[str, Any]] = [{"o": {"total": 5}}, {"o": {"total": 7}}, {"o": {}}]
    scope = Scope(rows[0], rows)
    assert compile_expr({"$sum": "o.total"}).run(scope) == 12
    assert compile_expr({"$count": "*"}).run(scope) == 3
    assert compile_expr({"$count": "o.total"}).run(scope) == 2
    assert compile_expr({"$avg": {"$multiply": ["$o.total", 2]}}).run(scope) == 12
    assert compile_expr({"$round": [{"$avg": "o.total"}, 0]}).run(scope) == 6
    assert compile_expr({"$sum": "o.total"}).aggregate
    assert not compile_expr({"$sum": [1, 2]}).aggregate


def test_field_references_are_collected() -> None:
    expr = compile_expr({"$cond": [{"$gt": ["$qty", 0]}, "$a.b", {"$sum": "items.price"}]})
    assert expr.refs == {"qty", "a.b", "items.price"}


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ({"$pow": [2, 3]}, 'Invalid expression at expr: unknown operator "$pow"'),
        ({"$add": [1, {"$nope": 1}]}, 'Invalid expression at expr.$add[1]: unknown operator "$nope"'),
        ({"$add": 1}, "Invalid expression at expr: $add expects a list of arguments, got number"),
        ({"$subtract": [1]}, "Invalid expression at expr: $subtract expects 2 argument(s), got 1"),
        ({"$abs": [1, 2]}, "Invalid expression at expr: $abs expects 1 argument(s), got 2"),
        ({"$round": [1, 2, 3]}, "expects 1 to 2 argument(s), got 3"),
        ({"$between": [1, 2]}, "$between expects 3 argument(s), got 2"),
        ({"$substring": ["x"]}, "$substring expects 2 to 3 argument(s), got 1"),
        ({"$cond": [True, 1]}, "$cond expects 3 argument(s), got 2"),
        ({"$add": [1, 2], "x": 1}, 'an operator object has exactly one key, got "$add", "x"'),
        ("$", 'empty field reference "$"'),
        ({"$dateAdd": ["2024-01-01", 1, "fortnight"]}, 'at expr.$dateAdd[2]: $dateAdd: unknown unit "fortnight"'),
        ({"$sum": "*"}, '$sum: "*" is only meaningful for $count'),
        ({"$sum": 3}, "$sum expects a field name, a list or an expression, got 3"),
        ({"$count": "*"}, '$count: "*" counts the rows of a view'),
    ],
)  # fmt: skip
def test_bad_expressions_name_what_is_wrong(expr: Any, message: str) -> None:
    with pytest.raises(ExprError) as info:
        evaluate(expr)
    assert message in str(info.value)
