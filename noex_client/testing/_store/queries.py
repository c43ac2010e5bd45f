"""Queries: the tracking read context, declarative and programmatic queries.

A query runs against a :class:`QueryContext`. ``get(key)`` records a
record-level dependency, every other read a bucket-level one (§5.8); the
reactive layer re-evaluates a subscription only when a change touches one of
its dependencies.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._values import UNDEFINED, js_str, to_key
from .errors import BucketNotDefinedError
from .filters import aggregate, js_less

if TYPE_CHECKING:
    from .buckets import Bucket

__all__ = [
    "Dependencies",
    "QueryContext",
    "QueryFunction",
    "config_query",
    "evaluate_declarative",
]

_PARAM = re.compile(r"^\{\{\s*params\.(\w+)\s*\}\}$")


@dataclass
class Dependencies:
    """What a query evaluation read: whole buckets and single records."""

    buckets: set[str] = field(default_factory=set)
    records: set[tuple[str, Any]] = field(default_factory=set)

    def touches(self, bucket: str, key: Any) -> bool:
        """Whether a change of ``(bucket, key)`` may change the result."""
        if bucket in self.buckets:
            return True
        try:
            return (bucket, to_key(key)) in self.records
        except TypeError:
            return False


class QueryContext:
    """Read-only store access for query functions, recording dependencies.

    Args:
        lookup: Returns the bucket of a name, raising ``BucketNotDefinedError``.
    """

    def __init__(self, lookup: Callable[[str], Bucket]) -> None:
        self._lookup = lookup
        self.deps = Dependencies()

    def _bucket(self, name: str) -> Bucket:
        self.deps.buckets.add(name)
        return self._lookup(name)

    def get(self, bucket: str, key: Any) -> dict[str, Any] | None:
        """The record under ``key`` (record-level dependency)."""
        found = self._lookup(bucket)
        with contextlib.suppress(TypeError):
            self.deps.records.add((bucket, to_key(key)))
        return found.get(key)

    def all(self, bucket: str) -> list[dict[str, Any]]:
        """Every record of ``bucket``."""
        return self._bucket(bucket).records()

    def where(self, bucket: str, flt: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Records matching ``flt``."""
        return self._bucket(bucket).where(flt)

    def find_one(self, bucket: str, flt: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first record matching ``flt``."""
        return self._bucket(bucket).find_one(flt)

    def count(self, bucket: str, flt: Mapping[str, Any] | None = None) -> int:
        """Number of matching records."""
        return self._bucket(bucket).count(flt)

    def first(self, bucket: str, n: int) -> list[dict[str, Any]]:
        """The first ``n`` records."""
        return self._bucket(bucket).first(n)

    def last(self, bucket: str, n: int) -> list[dict[str, Any]]:
        """The last ``n`` records."""
        return self._bucket(bucket).last(n)

    def aggregate(
        self, kind: str, bucket: str, field_name: str, flt: Mapping[str, Any] | None = None
    ) -> Any:
        """``sum``/``avg``/``min``/``max`` of a field."""
        return self._bucket(bucket).aggregate(kind, field_name, flt)


QueryFunction = Callable[[QueryContext, Any], Any]
"""A programmatic query: ``(context, params) -> result`` (``UNDEFINED`` = no data)."""


def config_query(spec: Mapping[str, Any]) -> QueryFunction:
    """Build a programmatic query from a JSON config entry.

    The entry is ``{"name", "type", "bucket", ...}`` with ``type`` one of
    ``all``, ``where`` (``field``: equality on ``params[field]``, or ``filter``
    when no ``field`` is given), ``findOne`` (same), ``get`` (``params.key``),
    ``count`` (optional ``filter``), ``first``/``last`` (``n``).

    Raises:
        ValueError: An unknown ``type`` or a missing ``bucket``.
    """
    kind = spec.get("type")
    bucket = spec.get("bucket")
    if not isinstance(bucket, str):
        raise ValueError(f"query {spec.get('name')!r}: 'bucket' must be a string")

    def equality(params: Any) -> dict[str, Any]:
        name = spec.get("field")
        if isinstance(name, str):
            value = params.get(name) if isinstance(params, dict) else None
            return {name: value}
        flt = spec.get("filter")
        return dict(flt) if isinstance(flt, dict) else {}

    def run(ctx: QueryContext, params: Any) -> Any:
        if kind == "all":
            return ctx.all(bucket)
        if kind == "where":
            return ctx.where(bucket, equality(params))
        if kind == "findOne":
            return ctx.find_one(bucket, equality(params))
        if kind == "get":
            return ctx.get(bucket, params.get("key") if isinstance(params, dict) else None)
        if kind == "count":
            flt = spec.get("filter")
            return ctx.count(bucket, flt if isinstance(flt, dict) else None)
        if kind in ("first", "last"):
            n = int(spec.get("n", 10))
            return ctx.first(bucket, n) if kind == "first" else ctx.last(bucket, n)
        raise ValueError(f"unknown query type {kind!r}")

    if kind not in ("all", "where", "findOne", "get", "count", "first", "last"):
        raise ValueError(f"query {spec.get('name')!r}: unknown type {kind!r}")
    return run


def interpolate(value: Any, params: Any) -> Any:
    """Replace ``"{{ params.x }}"`` strings by the raw parameter value."""
    if isinstance(value, str):
        match = _PARAM.match(value)
        if match:
            if isinstance(params, dict) and match.group(1) in params:
                return params[match.group(1)]
            return UNDEFINED
        return value
    if isinstance(value, dict):
        # A missing parameter stays ``undefined``: {"f": undefined} matches a missing f.
        return {k: interpolate(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, params) for v in value]
    return value


def evaluate_declarative(ctx: QueryContext, config: Mapping[str, Any], params: Any) -> Any:
    """Evaluate a ``defineQuery`` config (§5.9).

    Raises:
        BucketNotDefinedError: The bucket does not exist.
    """
    cfg = interpolate(copy.deepcopy(dict(config)), params)
    bucket = cfg.get("bucket")
    if not isinstance(bucket, str):
        raise BucketNotDefinedError(f'Bucket "{js_str(bucket)}" is not defined')
    flt = cfg.get("filter")
    records = ctx.where(bucket, flt) if isinstance(flt, dict) and flt else ctx.all(bucket)
    agg = cfg.get("aggregate")
    if isinstance(agg, dict):
        return _aggregate(records, agg)
    sort = cfg.get("sort")
    if isinstance(sort, dict) and sort:
        records = sorted(records, key=functools.cmp_to_key(_sorter(sort)))
    offset = cfg.get("offset")
    if isinstance(offset, int) and offset > 0:
        records = records[offset:]
    limit = cfg.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
        records = records[:limit]
    fields = cfg.get("fields")
    if isinstance(fields, list):
        records = [{f: r[f] for f in fields if isinstance(f, str) and f in r} for r in records]
    return records


def _sorter(sort: Mapping[str, Any]) -> Callable[[Mapping[str, Any], Mapping[str, Any]], int]:
    def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
        for name, direction in sort.items():
            va, vb = a.get(name), b.get(name)
            if va is None and vb is None:
                continue
            if va is None:
                return 1  # missing values sort last in both directions
            if vb is None:
                return -1
            sign = -1 if direction == "desc" else 1
            if js_less(va, vb):
                return -sign
            if js_less(vb, va):
                return sign
        return 0

    return compare


def _aggregate(records: list[dict[str, Any]], agg: Mapping[str, Any]) -> Any:
    function = agg.get("function")
    name = agg.get("field")
    group_by = agg.get("groupBy")

    def value_of(rows: list[dict[str, Any]], empty_undefined: bool) -> Any:
        if function == "count":
            return len(rows)
        if function in ("sum", "avg", "min", "max") and isinstance(name, str):
            result = aggregate(str(function), rows, name)
            if result is None:
                return UNDEFINED if empty_undefined else 0
            return result
        return UNDEFINED

    if group_by is None:
        return value_of(records, empty_undefined=True)
    keys = [group_by] if isinstance(group_by, str) else list(group_by)
    groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for record in records:
        key = {k: record.get(k) for k in keys}
        ident = "\x00".join(js_str(record.get(k)) for k in keys)
        groups.setdefault(ident, (key, []))[1].append(record)
    return [
        {"key": key, "value": value_of(rows, empty_undefined=False)}
        for key, rows in groups.values()
    ]
