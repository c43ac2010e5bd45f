"""Filter and ``order_by`` translation to PostgreSQL over the JSONB ``data`` column.

Every value and every field name is a bound (named) parameter; the SQL text is
built only from fixed fragments. Equality on scalars becomes ``data @> $1`` so
the GIN (``jsonb_path_ops``) index serves it; comparisons use typed JSONB
expressions that follow the evaluator's semantics (numbers with numbers,
strings with strings in code-point order via ``COLLATE "C"``).

Paths walk objects only, like the evaluator: ``data -> 'a' -> 'b'`` yields SQL
NULL when a step is missing or not an object (``->`` with a text operand never
indexes arrays).
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from ..._filters import And, Cond, FilterNode, SortKey

__all__ = ["Params", "order_sql", "path_sql", "where_sql"]


class Params:
    """Named query parameters; :meth:`add` returns the placeholder to put in the SQL."""

    def __init__(self, **initial: Any) -> None:
        self.values: dict[str, Any] = dict(initial)

    def add(self, value: Any, cast: str = "") -> str:
        """Bind ``value``; return ``%(pN)s`` (followed by ``::cast`` when given)."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"%({name})s::{cast}" if cast else f"%({name})s"


def path_sql(path: tuple[str, ...], params: Params) -> str:
    """Return the JSONB expression of ``path`` inside ``data``."""
    return "(data" + "".join(f" -> {params.add(part, 'text')}" for part in path) + ")"


def _nest(path: tuple[str, ...], value: Any) -> Any:
    for part in reversed(path):
        value = {part: value}
    return value


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, list | tuple | dict)


def _eq(path: tuple[str, ...], value: Any, params: Params) -> str:
    contains = f"data @> {params.add(Jsonb(_nest(path, value)), 'jsonb')}"
    if _is_scalar(value):
        return contains
    # Containment is looser than equality for arrays and objects: add the exact test.
    exact = f"{path_sql(path, params)} = {params.add(Jsonb(value), 'jsonb')}"
    return f"({contains} AND {exact})"


def _in(path: tuple[str, ...], values: tuple[Any, ...], params: Params) -> str:
    if not values:
        return "false"
    if all(_is_scalar(v) for v in values):
        nested = params.add([Jsonb(_nest(path, v)) for v in values], "jsonb[]")
        return f"data @> ANY({nested})"
    p = path_sql(path, params)
    return f"COALESCE({p} = ANY({params.add([Jsonb(v) for v in values], 'jsonb[]')}), false)"


def _compare(p: str, sql_op: str, bound: Any, params: Params) -> str:
    if isinstance(bound, str):
        value = params.add(bound, "text")
        return (
            f"COALESCE(jsonb_typeof({p}) = 'string'"
            f' AND ({p} #>> \'{{}}\') COLLATE "C" {sql_op} {value} COLLATE "C", false)'
        )
    value = params.add(bound, "numeric")
    return (
        f"COALESCE(CASE WHEN jsonb_typeof({p}) = 'number'"
        f" THEN ({p})::numeric {sql_op} {value} END, false)"
    )


_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _cond(cond: Cond, params: Params) -> str:
    path, op, value = cond.path, cond.op, cond.value
    if op == "$eq":
        return _eq(path, value, params)
    if op == "$neq":
        return f"NOT {_eq(path, value, params)}"
    if op == "$in":
        return _in(path, value, params)
    if op == "$nin":
        return f"NOT {_in(path, value, params)}"
    p = path_sql(path, params)
    if op in _SQL_OPS:
        return _compare(p, _SQL_OPS[op], value, params)
    if op == "$between":
        low = _compare(p, ">=", value[0], params)
        high = _compare(p, "<=", value[1], params)
        return f"({low} AND {high})"
    if op == "$exists":
        return f"{p} IS NOT NULL" if value else f"{p} IS NULL"
    text = f"({p} #>> '{{}}')"
    is_string = f"jsonb_typeof({p}) = 'string'"
    if op == "$contains":
        element = params.add(Jsonb(value), "jsonb")
        in_array = (
            "EXISTS (SELECT 1 FROM jsonb_array_elements("
            f"CASE WHEN jsonb_typeof({p}) = 'array' THEN {p} END) AS e WHERE e = {element})"
        )
        if not isinstance(value, str):
            return in_array
        sub = params.add(value, "text")
        return f"({in_array} OR COALESCE({is_string} AND strpos({text}, {sub}) > 0, false))"
    affix = params.add(value, "text")
    if op == "$startsWith":
        test = f"starts_with({text}, {affix})"
    else:  # $endsWith, the last operator left after validation
        test = f"right({text}, char_length({affix})) = {affix}"
    return f"COALESCE({is_string} AND {test}, false)"


def where_sql(node: FilterNode | None, params: Params) -> str:
    """Translate a compiled filter into a SQL boolean expression."""
    if node is None:
        return "true"
    if isinstance(node, Cond):
        return _cond(node, params)
    parts = [where_sql(item, params) for item in node.items]
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(parts) + ")"


def order_sql(order: tuple[SortKey, ...], params: Params) -> str:
    """Translate ``order_by`` into an ORDER BY list; ties (and no order) go by key."""
    terms: list[str] = []
    for key in order:
        p = path_sql(key.path, params)
        desc = " DESC" if key.descending else ""
        terms += [
            f"CASE jsonb_typeof({p}) WHEN 'null' THEN 1 WHEN 'boolean' THEN 2"
            " WHEN 'number' THEN 3 WHEN 'string' THEN 4 WHEN 'array' THEN 5"
            f" WHEN 'object' THEN 5 ELSE 0 END{desc}",
            f"CASE WHEN jsonb_typeof({p}) = 'boolean' THEN ({p})::boolean END{desc}",
            f"CASE WHEN jsonb_typeof({p}) = 'number' THEN ({p})::numeric END{desc}",
            f"(CASE WHEN jsonb_typeof({p}) = 'string' THEN {p} #>> '{{}}' END) COLLATE \"C\"{desc}",
        ]
    terms.append("key")
    return ", ".join(terms)
