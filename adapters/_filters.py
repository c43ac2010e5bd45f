"""The filter language: validation, a pure-Python evaluator and ordering helpers.

A filter (``where``) is a mapping. ``{"field": value}`` is equality;
``{"field": {"$gt": 1, "$lt": 5}}`` applies operators (all must hold);
``{"$or": [f1, f2]}`` and ``{"$and": [f1, f2]}`` combine filters. Dotted paths
(``"address.city"``) walk into nested objects (never into arrays).

Semantics shared by every backend (the Postgres SQL translation follows them):

* equality is JSON equality (``1 == 1.0``; ``True`` is not ``1``); ``None``
  matches an explicit ``null`` only, never a missing field;
* ``$neq`` and ``$nin`` also match when the field is missing;
* ``$gt $gte $lt $lte $between`` compare numbers with numbers and strings with
  strings (code-point order); any other pairing does not match;
* ``$contains`` is a substring test on strings and a membership test on arrays;
* ``$startsWith``/``$endsWith`` apply to strings only;
* ``$exists: true`` matches a present field, even when it is ``null``.

Everything is validated by :func:`compile_filter` before any I/O; a bad filter
raises :class:`~adapters.FilterError` naming the operator or path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from ._errors import FilterError

__all__ = [
    "MISSING",
    "OPERATORS",
    "And",
    "Cond",
    "FilterNode",
    "Or",
    "SortKey",
    "compile_filter",
    "get_path",
    "json_equal",
    "matches",
    "parse_order",
    "sort_records",
    "sort_value",
]

Item = TypeVar("Item")


class _Missing:
    """Marks a path that does not exist in a document."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

OPERATORS: Final = frozenset(
    {
        "$eq",
        "$neq",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$contains",
        "$startsWith",
        "$endsWith",
        "$exists",
        "$between",
    }
)


@dataclass(frozen=True, slots=True)
class Cond:
    """One operator applied to one path."""

    path: tuple[str, ...]
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class And:
    """All of ``items`` must match (an empty ``And`` matches everything)."""

    items: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one of ``items`` must match."""

    items: tuple[FilterNode, ...]


FilterNode = Cond | And | Or


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(item, where)
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise FilterError(
                    f"object keys in filter values must be strings at {where!r}", path=where
                )
            _check_json(v, where)
        return
    raise FilterError(
        f"filter value of type {type(value).__name__} at {where!r} is not JSON", path=where
    )


def _parse_path(field: str) -> tuple[str, ...]:
    parts = tuple(field.split("."))
    if not field or any(not p for p in parts):
        raise FilterError(f"invalid field path {field!r}", path=field)
    return parts


def _compile_op(path: tuple[str, ...], field: str, op: str, value: Any) -> Cond:
    where = f"{field}.{op}"
    if op not in OPERATORS:
        raise FilterError(f"unknown filter operator {op!r} on field {field!r}", path=where)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not (_is_number(value) or isinstance(value, str)):
            raise FilterError(f"{op} on {field!r} needs a number or a string", path=where)
    elif op == "$between":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise FilterError(f"$between on {field!r} needs [low, high]", path=where)
        low, high = value
        both_numbers = _is_number(low) and _is_number(high)
        both_strings = isinstance(low, str) and isinstance(high, str)
        if not (both_numbers or both_strings):
            raise FilterError(f"$between on {field!r} needs two numbers or two strings", path=where)
        value = (low, high)
    elif op in ("$in", "$nin"):
        if not isinstance(value, list | tuple):
            raise FilterError(f"{op} on {field!r} needs a list", path=where)
        _check_json(value, where)
        value = tuple(value)
    elif op in ("$startsWith", "$endsWith"):
        if not isinstance(value, str):
            raise FilterError(f"{op} on {field!r} needs a string", path=where)
    elif op == "$exists":
        if not isinstance(value, bool):
            raise FilterError(f"$exists on {field!r} needs true or false", path=where)
    else:  # $eq, $neq, $contains
        _check_json(value, where)
    return Cond(path, op, value)


def _compile_field(field: str, spec: Any) -> FilterNode:
    if not isinstance(field, str):
        raise FilterError(f"filter keys must be strings, got {field!r}", path=str(field))
    if field.startswith("$"):
        raise FilterError(f"unknown top-level filter operator {field!r}", path=field)
    path = _parse_path(field)
    if isinstance(spec, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in spec):
        if not all(isinstance(k, str) and k.startswith("$") for k in spec):
            raise FilterError(
                f"operators and plain keys are mixed in the filter on {field!r}", path=field
            )
        conds = tuple(_compile_op(path, field, op, v) for op, v in spec.items())
        return conds[0] if len(conds) == 1 else And(conds)
    _check_json(spec, field)
    return Cond(path, "$eq", spec)


def _compile(where: Any, at: str) -> FilterNode:
    if not isinstance(where, Mapping):
        raise FilterError(f"a filter must be a mapping, got {type(where).__name__}", path=at)
    items: list[FilterNode] = []
    for key, spec in where.items():
        if key in ("$or", "$and"):
            if not isinstance(spec, list | tuple) or not spec:
                raise FilterError(f"{key} needs a non-empty list of filters", path=key)
            subs = tuple(_compile(s, f"{key}[{i}]") for i, s in enumerate(spec))
            items.append(Or(subs) if key == "$or" else And(subs))
        else:
            items.append(_compile_field(key, spec))
    return items[0] if len(items) == 1 else And(tuple(items))


def compile_filter(where: Mapping[str, Any] | None) -> FilterNode | None:
    """Validate ``where`` and compile it into a tree of :class:`Cond`/:class:`And`/:class:`Or`.

    Args:
        where: The filter, or ``None`` for "everything".

    Returns:
        The compiled filter, or ``None`` when ``where`` is ``None`` or empty.

    Raises:
        FilterError: ``where`` is malformed; the message names the operator or path.
    """
    if where is None:
        return None
    node = _compile(where, "")
    if isinstance(node, And) and not node.items:
        return None
    return node


def get_path(doc: Any, path: Sequence[str]) -> Any:
    """Return the value at ``path`` inside ``doc``, or :data:`MISSING`."""
    current = doc
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, booleans distinct from numbers, deep on containers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) or _is_number(b):
        return _is_number(a) and _is_number(b) and a == b
    if isinstance(a, list | tuple):
        return (
            isinstance(b, list | tuple)
            and len(a) == len(b)
            and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(json_equal(v, b[k]) for k, v in a.items())
        )
    return type(a) is type(b) and bool(a == b)


def _compare(actual: Any, op: str, bound: Any) -> bool:
    if _is_number(bound):
        if not _is_number(actual):
            return False
    elif not isinstance(actual, str):
        return False
    if op == "$gt":
        return bool(actual > bound)
    if op == "$gte":
        return bool(actual >= bound)
    if op == "$lt":
        return bool(actual < bound)
    return bool(actual <= bound)


def _match_cond(cond: Cond, doc: Any) -> bool:
    actual = get_path(doc, cond.path)
    op, value = cond.op, cond.value
    if op == "$exists":
        return (actual is not MISSING) is value
    if op == "$neq":
        return actual is MISSING or not json_equal(actual, value)
    if op == "$nin":
        return actual is MISSING or not any(json_equal(actual, v) for v in value)
    if actual is MISSING:
        return False
    if op == "$eq":
        return json_equal(actual, value)
    if op == "$in":
        return any(json_equal(actual, v) for v in value)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return _compare(actual, op, value)
    if op == "$between":
        return _compare(actual, "$gte", value[0]) and _compare(actual, "$lte", value[1])
    if op == "$contains":
        if isinstance(actual, str):
            return isinstance(value, str) and value in actual
        if isinstance(actual, list):
            return any(json_equal(item, value) for item in actual)
        return False
    if op == "$startsWith":
        return isinstance(actual, str) and actual.startswith(value)
    # $endsWith: the only operator left after validation.
    return isinstance(actual, str) and actual.endswith(value)


def matches(node: FilterNode | None, doc: Any) -> bool:
    """Evaluate a compiled filter against one document (``None`` matches everything)."""
    if node is None:
        return True
    if isinstance(node, Cond):
        return _match_cond(node, doc)
    if isinstance(node, And):
        return all(matches(item, doc) for item in node.items)
    return any(matches(item, doc) for item in node.items)


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ``order_by`` term: a path and a direction."""

    path: tuple[str, ...]
    descending: bool


def parse_order(order_by: str | Sequence[str] | None) -> tuple[SortKey, ...]:
    """Parse ``"field"``, ``"-field"`` or a sequence of them.

    Raises:
        FilterError: a term is empty or has an invalid path.
    """
    if order_by is None:
        return ()
    terms = [order_by] if isinstance(order_by, str) else list(order_by)
    keys: list[SortKey] = []
    for term in terms:
        if not isinstance(term, str):
            raise FilterError(f"order_by terms must be strings, got {term!r}", path=str(term))
        descending = term.startswith("-")
        field = term[1:] if descending else term
        keys.append(SortKey(_parse_path(field), descending))
    return tuple(keys)


def sort_value(value: Any) -> tuple[int, Any]:
    """Total order over JSON values: missing < null < booleans < numbers < strings < others.

    Arrays and objects all rank equal; ties fall back to the record key.
    """
    if value is MISSING:
        return (0, 0)
    if value is None:
        return (1, 0)
    if isinstance(value, bool):
        return (2, int(value))
    if _is_number(value):
        return (3, value)
    if isinstance(value, str):
        return (4, value)
    return (5, 0)


def sort_records(
    items: Iterable[Item],
    order: Sequence[SortKey],
    doc_of: Callable[[Item], Any],
    key_of: Callable[[Item], str],
) -> list[Item]:
    """Sort ``items`` by ``order``, ties broken by ascending record key.

    Python's sort is stable, so sorting by the key first and then by each term
    from the last to the first yields the combined order.
    """
    result = sorted(items, key=key_of)
    for term in reversed(order):
        result.sort(
            key=lambda item, p=term.path: sort_value(get_path(doc_of(item), p)),  # type: ignore[misc]
            reverse=term.descending,
        )
    return result
