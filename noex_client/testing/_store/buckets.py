"""One bucket: records in insertion order, indexes, unique fields (sans-I/O).

Records live in a ``dict`` keyed by the JS-``Map``-like form of their primary
key, so the table order is insertion order and an update keeps its position.
Every write reports ``(bucket, key)`` to ``on_change`` (the store turns those
into change events for reactive queries). Every record about to be written
(insert, update, in a transaction too) goes through the store's write hooks:
``complete`` before schema validation (the logic engine sets computed fields
there), ``check`` after it (constraints may refuse the record).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from ._values import UNDEFINED, js_eq, js_str, to_key
from .errors import StoreError, UniqueConstraintError
from .filters import aggregate, matches, sort_key_of
from .indexes import Indexes
from .schema import prepare_insert, prepare_update, validate_record

__all__ = ["Bucket", "WriteHook", "WriteHooks", "parse_ttl"]

_TTL = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$")
WriteHook = Callable[["Bucket", Mapping[str, Any] | None, dict[str, Any]], None]
"""``(bucket, existing, record)``: completes or refuses a record before it is written."""


class WriteHooks(Protocol):
    """The two stages a prepared record goes through (``existing`` is ``None`` on insert)."""

    def complete(
        self, bucket: Bucket, existing: Mapping[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Change ``record`` in place before it is validated."""

    def check(
        self, bucket: Bucket, existing: Mapping[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Raise a ``StoreError`` to refuse the validated ``record``."""


_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_ttl(value: object) -> int | None:
    """Parse a bucket ``ttl`` (ms number or ``"30s"``/``"5m"``/``"1h"``/``"7d"``)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if value > 0 else None
    if isinstance(value, str):
        match = _TTL.match(value.strip())
        if match:
            return int(float(match.group(1)) * _UNIT_MS[match.group(2)])
    raise StoreError(f"Invalid TTL value: {js_str(value)}")


class Bucket:
    """A defined bucket and its records.

    Args:
        name: Bucket name.
        definition: The BucketDefinition (§5.1), stored as given.
        on_change: Called with ``(bucket, key)`` after every record write.
        hooks: Completes every prepared record before validation and checks
            it after (see :class:`WriteHooks`).

    Raises:
        StoreError: The definition is invalid (INTERNAL_ERROR on the wire).
    """

    def __init__(
        self,
        name: str,
        definition: dict[str, Any],
        on_change: Callable[[str, Any], None] = lambda _b, _k: None,
        hooks: WriteHooks | None = None,
    ) -> None:
        schema = definition.get("schema")
        if not isinstance(schema, dict):
            raise StoreError("Cannot convert undefined or null to object")
        key = definition.get("key")
        if not isinstance(key, str) or key not in schema:
            raise StoreError(
                f'Key field "{js_str(key)}" does not exist in schema for bucket "{name}"'
            )
        indexes = definition.get("indexes") or []
        for field in indexes:
            if field not in schema:
                raise StoreError(
                    f'Index field "{js_str(field)}" does not exist in schema for bucket "{name}"'
                )
        self.name = name
        self.definition = definition
        self.key_field: str = key
        self.ttl_ms = parse_ttl(definition.get("ttl"))
        max_size = definition.get("maxSize")
        self.max_size = (
            int(max_size) if isinstance(max_size, int | float) and max_size > 0 else None
        )
        self.ordered = definition.get("etsType") == "ordered_set"
        self._on_change = on_change
        self._hooks = hooks
        self._records: dict[Any, dict[str, Any]] = {}
        self._counter = 0
        self._indexes = Indexes(str(f) for f in [*indexes, *self.unique_fields])
        self.revision = 0
        """Goes up on every change of the records or the counter (persistence saves then)."""

    # -- schema -------------------------------------------------------------
    @property
    def schema(self) -> dict[str, Any]:
        """The field map of the definition."""
        schema = self.definition["schema"]
        assert isinstance(schema, dict)
        return schema

    @property
    def persistent(self) -> bool:
        """Whether the bucket persists when the store does (``persistent: false`` opts out)."""
        return self.definition.get("persistent", True) is not False

    @property
    def unique_fields(self) -> list[str]:
        """Fields declared ``unique: true``, in schema order."""
        return [n for n, f in self.schema.items() if isinstance(f, dict) and f.get("unique")]

    @property
    def index_count(self) -> int:
        """Number of indexed fields (explicit and unique)."""
        return len(self._indexes)

    def add_fields(self, fields: Mapping[str, Any]) -> None:
        """Add schema fields (``updateBucket.addFields``).

        Raises:
            StoreError: A field already exists.
        """
        for field in fields:
            if field in self.schema:
                raise StoreError(f'Field "{field}" already exists in bucket "{self.name}"')
        self.schema.update(copy.deepcopy(dict(fields)))
        for field in self.unique_fields:
            self._indexes.add(field, self._records)

    def add_indexes(self, fields: list[Any]) -> None:
        """Add indexes (``updateBucket.addIndexes``).

        Raises:
            StoreError: A field is not in the schema.
        """
        for field in fields:
            if field not in self.schema:
                raise StoreError(
                    f'Index field "{js_str(field)}" does not exist in schema for bucket "{self.name}"'
                )
        indexes = self.definition.setdefault("indexes", [])
        for field in fields:
            if field not in indexes:
                indexes.append(field)
            self._indexes.add(field, self._records)

    def set_ttl(self, ttl: object) -> None:
        """Change the bucket ``ttl`` (``null`` removes it)."""
        self.ttl_ms = parse_ttl(ttl)
        if ttl is None:
            self.definition.pop("ttl", None)
        else:
            self.definition["ttl"] = ttl

    # -- reads --------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[dict[str, Any]]:
        """All records in table order."""
        return list(self._records.values())

    def get(self, key: Any) -> dict[str, Any] | None:
        """The record stored under ``key``, or ``None``."""
        try:
            return self._records.get(to_key(key))
        except TypeError:
            return None

    def has(self, key: Any) -> bool:
        """Whether a record is stored under ``key``."""
        return self.get(key) is not None

    def where(self, flt: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Records matching ``flt``; index order for an indexed equality field."""
        return list(self._scan(flt))

    def find_one(self, flt: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first record matching ``flt``, or ``None``."""
        return next(self._scan(flt), None)

    def count(self, flt: Mapping[str, Any] | None = None) -> int:
        """Number of records matching ``flt`` (all records when ``None``)."""
        if not flt:
            return len(self._records)
        return sum(1 for _ in self._scan(flt))

    def _scan(self, flt: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for field, cond in flt.items():
            plain = not isinstance(cond, dict | list) and cond is not None and cond is not UNDEFINED
            if field in self._indexes and plain:
                candidates = [self._records[k] for k in self._indexes.holders(field, cond)]
                break
        else:
            candidates = list(self._records.values())
        return (r for r in candidates if matches(r, flt))

    def ordered_records(self) -> list[dict[str, Any]]:
        """Records in key order for ``ordered_set`` buckets, else table order."""
        records = list(self._records.values())
        if self.ordered:
            records.sort(key=lambda r: sort_key_of(r.get(self.key_field)))
        return records

    def first(self, n: int) -> list[dict[str, Any]]:
        """The first ``n`` records."""
        return self.ordered_records()[:n]

    def last(self, n: int) -> list[dict[str, Any]]:
        """The last ``n`` records, in forward order."""
        return self.ordered_records()[-n:] if n > 0 else []

    def paginate(self, limit: int, after: Any = UNDEFINED) -> dict[str, Any]:
        """A cursor page (§5.6); ``after`` is absent when ``UNDEFINED``."""
        records = self.ordered_records()
        start = 0
        if after is not UNDEFINED:
            start = next(
                (i + 1 for i, r in enumerate(records) if js_eq(r.get(self.key_field), after)),
                len(records),
            )
        page = records[start : start + limit]
        result: dict[str, Any] = {"records": page, "hasMore": start + limit < len(records)}
        if page:
            result["nextCursor"] = page[-1].get(self.key_field)
        return result

    def aggregate(self, kind: str, field: str, flt: Mapping[str, Any] | None) -> Any:
        """``sum``/``avg``/``min``/``max`` of ``field`` over matching records."""
        records = self.where(flt) if flt else self.records()
        return aggregate(kind, records, field)

    # -- writes -------------------------------------------------------------
    def next_counter(self) -> int:
        """Advance and return the autoincrement counter."""
        self._counter += 1
        self.revision += 1
        return self._counter

    def build(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Prepare and validate a new record without storing it."""
        record = prepare_insert(
            self.name, self.schema, data, self.next_counter, self.ttl_ms, validate=False
        )
        return self._finish(None, record)

    def build_update(
        self, existing: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Prepare and validate an updated record without storing it."""
        record = prepare_update(
            self.name, self.schema, self.key_field, existing, changes, validate=False
        )
        return self._finish(existing, record)

    def _finish(self, existing: Mapping[str, Any] | None, record: dict[str, Any]) -> dict[str, Any]:
        if self._hooks is not None:
            self._hooks.complete(self, existing, record)
        validate_record(self.name, self.schema, record)
        if self._hooks is not None:
            self._hooks.check(self, existing, record)
        return record

    def insert(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a record (an existing key is replaced, as the real store does).

        Raises:
            ValidationFailedError: Schema failure.
            UniqueConstraintError: A unique field clash.
        """
        record = self.build(data)
        if self.max_size is not None:
            while len(self._records) >= self.max_size:
                oldest = min(self._records.values(), key=lambda r: r.get("_createdAt", 0))
                self.delete(oldest.get(self.key_field, UNDEFINED))
        self.check_unique(record)
        self.put(record)
        return record

    def update(self, key: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Update the record under ``key``.

        Raises:
            StoreError: The record does not exist.
            ValidationFailedError: Schema failure.
            UniqueConstraintError: A unique field clash.
        """
        existing = self.get(key)
        if existing is None:
            raise StoreError(f'Record with key "{js_str(key)}" not found in bucket "{self.name}"')
        record = self.build_update(existing, changes)
        self.check_unique(record)
        self.put(record)
        return record

    def check_unique(self, record: Mapping[str, Any]) -> None:
        """Raise ``UniqueConstraintError`` if a unique value is held by another key."""
        own = to_key(record.get(self.key_field, UNDEFINED))
        for field in self.unique_fields:
            value = record.get(field)
            if value is None:
                continue
            if any(k != own for k in self._indexes.holders(field, value)):
                raise UniqueConstraintError(
                    f'Unique constraint violation in bucket "{self.name}": field "{field}" '
                    f'already has value "{js_str(value)}"',
                    {"bucket": self.name, "field": field, "value": value},
                )

    def put(self, record: dict[str, Any]) -> None:
        """Store a prepared record (no checks) and report the change."""
        key = record.get(self.key_field, UNDEFINED)
        self._place(key, record)
        self._on_change(self.name, key)

    def _place(self, key: Any, record: dict[str, Any]) -> None:
        hkey = to_key(key)
        old = self._records.get(hkey)
        self._records[hkey] = record
        self._indexes.place(hkey, old, record)
        self.revision += 1

    def load(self, records: list[dict[str, Any]], counter: int) -> None:
        """Restore persisted records and the autoincrement counter (no change events)."""
        self._counter = max(self._counter, counter)
        for record in records:
            self._place(record.get(self.key_field, UNDEFINED), record)
        self.revision = 0

    @property
    def counter(self) -> int:
        """The autoincrement counter (the last value handed out)."""
        return self._counter

    def delete(self, key: Any) -> bool:
        """Delete the record under ``key``; returns whether one existed."""
        try:
            hkey = to_key(key)
            old = self._records.pop(hkey, None)
        except TypeError:
            return False
        if old is None:
            return False
        self._indexes.remove(hkey, old)
        self.revision += 1
        self._on_change(self.name, key)
        return True

    def clear(self) -> None:
        """Remove every record; reports no change (as noex-store)."""
        self._records.clear()
        self._indexes.clear()
        self.revision += 1

    def expired_keys(self, now: int) -> list[Any]:
        """Keys of records whose ``_expiresAt`` has passed."""
        return [
            r.get(self.key_field)
            for r in self._records.values()
            if isinstance(r.get("_expiresAt"), int | float) and r["_expiresAt"] <= now
        ]
