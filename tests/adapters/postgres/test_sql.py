"""Filter translation to SQL: values and field names are bound, never formatted in."""

from __future__ import annotations

from typing import Any

import pytest

from adapters._filters import compile_filter, parse_order
from adapters.backends.postgres._sql import Params, order_sql, where_sql

HOSTILE = "x'); DROP TABLE documents; --\"$1%s"


@pytest.mark.parametrize(
    "where",
    [
        {HOSTILE: HOSTILE},
        {f"a.{HOSTILE}": {"$neq": HOSTILE}},
        {HOSTILE: {"$in": [HOSTILE, [HOSTILE]]}},
        {HOSTILE: {"$nin": [{"k": HOSTILE}]}},
        {HOSTILE: {"$gt": HOSTILE, "$lte": 5}},
        {HOSTILE: {"$between": [HOSTILE, HOSTILE]}},
        {HOSTILE: {"$contains": HOSTILE}},
        {HOSTILE: {"$startsWith": HOSTILE, "$endsWith": HOSTILE}},
        {HOSTILE: {"$exists": True}},
        {"$or": [{HOSTILE: 1}, {"$and": [{HOSTILE: [HOSTILE]}]}]},
    ],
)
def test_nothing_from_the_filter_reaches_the_sql_text(where: dict[str, Any]) -> None:
    params = Params(c="collection")
    text = where_sql(compile_filter(where), params)
    text += order_sql(parse_order([HOSTILE, f"-{HOSTILE}"]), params)
    assert "DROP" not in text
    assert HOSTILE not in text
    assert "x'" not in text
    # Every placeholder refers to a bound parameter.
    for name in params.values:
        assert name in ("c",) or f"%({name})s" in text


def test_scalar_equality_uses_containment() -> None:
    params = Params()
    text = where_sql(compile_filter({"a.b": 1}), params)
    assert text == "data @> %(p0)s::jsonb"
    assert params.values["p0"].obj == {"a": {"b": 1}}
