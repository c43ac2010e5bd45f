"""The row engine without a backend: write rules, queries, the dict row set and copies."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import adapters
from adapters._engine import (
    CLEAR,
    Delete,
    Insert,
    RowMap,
    Write,
    apply,
    copy_doc,
    count,
    page,
    select,
)
from adapters._filters import compile_filter, parse_order
from adapters._stored import Stored

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)


def _rows(**docs: dict[str, Any]) -> RowMap:
    return RowMap({k: Stored(k, d, 1, T0, T0) for k, d in docs.items()})


def test_insert_stamps_version_one_and_the_time() -> None:
    (change,) = apply("c", (), RowMap(), Insert([("k", {"a": 1})]), T1)
    assert (change.kind, change.key, change.old) == ("inserted", "k", None)
    assert change.new == Stored("k", {"a": 1}, 1, T1, T1)


@pytest.mark.parametrize(
    ("docs", "clash"),
    [
        ([("k", {}), ("k", {})], "k"),  # the same key twice in one batch
        ([("new", {}), ("a", {})], "a"),  # a stored key
    ],
)
def test_insert_refuses_taken_keys(docs: list[tuple[str, dict[str, Any]]], clash: str) -> None:
    with pytest.raises(adapters.AlreadyExists) as info:
        apply("c", (), _rows(a={}), Insert(docs), T1)
    assert (info.value.key, info.value.field) == (clash, None)


def test_unique_values_clash_with_stored_rows_and_within_the_batch() -> None:
    rows = _rows(a={"email": "x@y"}, b={"email": None})
    with pytest.raises(adapters.AlreadyExists) as info:
        apply("c", ("email",), rows, Insert([("n", {"email": "x@y"})]), T1)
    assert (info.value.field, info.value.value, info.value.key) == ("email", "x@y", "n")
    with pytest.raises(adapters.AlreadyExists):
        apply("c", ("email",), rows, Insert([("m", {"email": 1}), ("n", {"email": 1.0})]), T1)
    # Missing and null values never clash.
    assert len(apply("c", ("email",), rows, Insert([("m", {}), ("n", {"email": None})]), T1)) == 2


def test_update_merges_shallowly_and_bumps_the_version() -> None:
    rows = _rows(k={"a": 1, "nested": {"x": 1}})
    (change,) = apply("c", (), rows, Write("k", {"nested": {"y": 2}}, True, None), T1)
    assert change.kind == "updated"
    assert change.new == Stored("k", {"a": 1, "nested": {"y": 2}}, 2, T0, T1)
    assert change.old == rows.get("k")


def test_replace_overwrites_and_updated_at_never_goes_back() -> None:
    rows = RowMap({"k": Stored("k", {"a": 1}, 4, T0, T1)})
    (change,) = apply("c", (), rows, Write("k", {"b": 2}, False, 4), T0)
    assert change.new == Stored("k", {"b": 2}, 5, T0, T1)


def test_writes_check_existence_then_version_then_unique() -> None:
    rows = _rows(a={"u": 1}, b={"u": 2})
    with pytest.raises(adapters.NotFound):
        apply("c", ("u",), rows, Write("zz", {"u": 1}, True, 7), T1)
    with pytest.raises(adapters.Conflict) as conflict:
        apply("c", ("u",), rows, Write("b", {"u": 1}, True, 7), T1)
    assert (conflict.value.expected, conflict.value.actual) == (7, 1)
    with pytest.raises(adapters.AlreadyExists):
        apply("c", ("u",), rows, Write("b", {"u": 1}, True, 1), T1)
    # A record keeping its own unique value is no clash.
    assert apply("c", ("u",), rows, Write("b", {"u": 2, "x": 0}, False, None), T1)


def test_delete_and_clear() -> None:
    rows = _rows(a={}, b={})
    assert apply("c", (), rows, Delete("missing", 3), T1) == []
    with pytest.raises(adapters.Conflict):
        apply("c", (), rows, Delete("a", 2), T1)
    (gone,) = apply("c", (), rows, Delete("a", 1), T1)
    assert (gone.kind, gone.new, gone.old) == ("deleted", None, rows.get("a"))
    assert [c.key for c in apply("c", (), rows, CLEAR, T1)] == ["a", "b"]


def test_a_failed_write_changes_nothing_in_a_row_map() -> None:
    rows = _rows(a={"n": 1})
    with pytest.raises(adapters.AlreadyExists):
        rows.commit(apply("c", (), rows, Insert([("b", {}), ("a", {})]), T1))
    assert [r.key for r in rows.rows()] == ["a"]


def test_row_map_commit_returns_detached_changes() -> None:
    rows = RowMap()
    (change,) = rows.commit(apply("c", (), rows, Insert([("k", {"l": [1]})]), T1))
    stored = rows.get("k")
    assert stored is not None
    assert change.new == stored
    assert change.new is not None
    change.new.data["l"].append(2)
    assert stored.data == {"l": [1]}


def test_copy_doc_is_exact_for_every_json_value_and_beyond() -> None:
    doc = {"big": 2**80, "neg": -(2**70), "f": 0.1, "nan": math.nan, "l": [{"a": None}], "t": True}
    copied = copy_doc(doc)
    assert copied is not doc
    assert copied["l"] is not doc["l"]
    assert math.isnan(copied.pop("nan"))
    assert copied == {k: v for k, v in doc.items() if k != "nan"}
    assert copy_doc({"a": 1}) == {"a": 1}


@dataclass
class _Row:
    key: str
    data: dict[str, Any] = field(default_factory=dict)


def test_select_orders_slices_and_defaults_to_key_order() -> None:
    rows = [_Row(k, {"n": n}) for k, n in [("c", 1), ("a", 3), ("b", 1), ("d", 2)]]
    where = compile_filter({"n": {"$lt": 3}})
    assert [r.key for r in select(rows, where, (), None, 0)] == ["b", "c", "d"]
    assert [r.key for r in select(rows, where, (), 1, 1)] == ["c"]
    by_n = parse_order("-n")
    assert [r.key for r in select(rows, None, by_n, 2, 1)] == ["d", "b"]
    assert select(rows, where, (), 5, 10) == []


def test_count_and_page() -> None:
    rows = [_Row(k, {"n": i}) for i, k in enumerate("dbca")]
    assert count(rows, None) == 4
    assert count(rows, compile_filter({"n": {"$gte": 2}})) == 2
    assert [r.key for r in page(rows, 2, None)] == ["a", "b"]
    assert [r.key for r in page(rows, 2, "b")] == ["c", "d"]
    assert page(rows, 2, "d") == []


def test_select_reads_presorted_rows_only_as_far_as_the_slice() -> None:
    read: list[str] = []

    def walk() -> Any:
        for key in "abcdef":
            read.append(key)
            yield _Row(key, {"n": 1})

    got = select(walk(), compile_filter({"n": 1}), (), 2, 1, in_key_order=True)
    assert [r.key for r in got] == ["b", "c"]
    assert read == ["a", "b", "c"]
