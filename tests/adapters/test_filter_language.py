"""The filter language without any backend: validation, evaluation, ordering."""

from __future__ import annotations

from typing import Any

import pytest

from adapters import FilterError
from adapters._filters import (
    MISSING,
    And,
    Cond,
    Or,
    compile_filter,
    get_path,
    json_equal,
    matches,
    parse_order,
    sort_value,
)


def test_compile_shapes() -> None:
    assert compile_filter(None) is None
    assert compile_filter({}) is None
    assert compile_filter({"a": 1}) == Cond(("a",), "$eq", 1)
    assert compile_filter({"a.b": {"$gt": 1, "$lt": 3}}) == And(
        (Cond(("a", "b"), "$gt", 1), Cond(("a", "b"), "$lt", 3))
    )
    assert compile_filter({"$or": [{"a": 1}, {"b": 2}]}) == Or(
        (Cond(("a",), "$eq", 1), Cond(("b",), "$eq", 2))
    )
    # A plain nested object is equality on the whole object.
    assert compile_filter({"a": {"b": 1}}) == Cond(("a",), "$eq", {"b": 1})


def test_filter_error_names_the_operator_and_path() -> None:
    with pytest.raises(FilterError) as info:
        compile_filter({"profile.age": {"$gt": 1, "$like": "x"}})
    assert info.value.path == "profile.age.$like"
    assert "$like" in str(info.value)


def test_get_path_walks_objects_only() -> None:
    doc: dict[str, Any] = {"a": {"b": [1, {"c": 2}]}, "n": None}
    assert get_path(doc, ("a", "b")) == [1, {"c": 2}]
    assert get_path(doc, ("a", "b", "0")) is MISSING
    assert get_path(doc, ("n",)) is None
    assert get_path(doc, ("n", "x")) is MISSING


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        ([1, [2]], [1.0, [2]], True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ("1", 1, False),
        (None, None, True),
    ],
)
def test_json_equal(a: Any, b: Any, equal: bool) -> None:
    assert json_equal(a, b) is equal
    assert json_equal(b, a) is equal


def test_contains_semantics() -> None:
    assert matches(compile_filter({"t": {"$contains": [1]}}), {"t": [[1], 2]})
    assert not matches(compile_filter({"t": {"$contains": 1}}), {"t": "1"})
    assert not matches(compile_filter({"t": {"$contains": "a"}}), {"t": {"a": 1}})


def test_parse_order_and_sort_value() -> None:
    assert [(k.path, k.descending) for k in parse_order(["a.b", "-c"])] == [
        (("a", "b"), False),
        (("c",), True),
    ]
    assert parse_order(None) == ()
    ranked = sorted([MISSING, "s", 2, None, True, [1]], key=sort_value)
    assert ranked == [MISSING, None, True, 2, "s", [1]]
