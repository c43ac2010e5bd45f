"""Property: the PostgreSQL SQL translation agrees with the Python evaluator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adapters
from adapters._filters import compile_filter, matches, parse_order, sort_records
from adapters.backends.postgres import PostgresStore

pytestmark = pytest.mark.postgres

FIELDS = ["a", "b", "n.x"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0]),
    st.sampled_from(["", "a", "ab", "B", "b", "é", "a\\b", "1"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=2))


def _doc(draw_values: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for field, value in draw_values.items():
        if field == "n.x":
            doc["n"] = {"x": value}
        else:
            doc[field] = value
    return doc


documents = st.lists(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=3).map(_doc),
    min_size=1,
    max_size=8,
)
ordered = st.one_of(st.integers(-3, 3), st.sampled_from(["", "a", "b", "B"]))
operator = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$neq", "$contains"]), values),
    st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), ordered),
    st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(values, max_size=3)),
    st.tuples(st.just("$exists"), st.booleans()),
    st.tuples(st.sampled_from(["$startsWith", "$endsWith"]), st.sampled_from(["", "a", "b"])),
    st.tuples(st.just("$between"), st.sampled_from([[-1, 2], [0.5, 3], ["a", "b"], ["", "a"]])),
)
condition = st.tuples(st.sampled_from(FIELDS), operator).map(lambda t: {t[0]: {t[1][0]: t[1][1]}})
filters = st.one_of(
    condition,
    st.lists(condition, min_size=1, max_size=3).map(lambda cs: {"$or": cs}),
    st.lists(condition, min_size=1, max_size=3).map(lambda cs: {"$and": cs}),
)


@pytest.fixture
def loop_runner() -> Any:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_sql_matches_the_evaluator(pg_schema: str, loop_runner: asyncio.AbstractEventLoop) -> None:
    store = loop_runner.run_until_complete(
        adapters.connect("postgresql://postgres@127.0.0.1:5432/test", schema=pg_schema)
    )
    assert isinstance(store, PostgresStore)
    coll = store.collection("prop")

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(docs=documents, where=filters, order=st.sampled_from(FIELDS))
    def check(docs: list[dict[str, Any]], where: dict[str, Any], order: str) -> None:
        async def run() -> tuple[list[str], list[str]]:
            await coll.clear()
            recs = await coll.insert_many([{"_key": f"k{i}", **d} for i, d in enumerate(docs)])
            node = compile_filter(where)
            hits = [r for r in recs if matches(node, r.data)]
            expected = sort_records(hits, parse_order(order), lambda r: r.data, lambda r: r.key)
            found = await coll.find(where, order_by=order)
            return [r.key for r in found], [r.key for r in expected]

        got, want = loop_runner.run_until_complete(run())
        assert got == want, (docs, where, order)

    try:
        check()
    finally:
        loop_runner.run_until_complete(store.close())
