"""Field indexes of one bucket: value -> the keys holding it, in insertion order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._values import UNDEFINED, js_eq, to_key

__all__ = ["Indexes"]


class Indexes:
    """The indexed fields of a bucket (explicit indexes and unique fields).

    Each index maps a value (its JS-``Map``-like key) to the record keys
    holding it, in the order they got that value: that is the order of
    results for an equality filter on an indexed field.
    """

    def __init__(self, fields: Iterable[str]) -> None:
        self._fields: dict[str, dict[Any, dict[Any, None]]] = {}
        for field in fields:
            self._fields.setdefault(field, {})

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, field: object) -> bool:
        return field in self._fields

    def add(self, field: str, records: Mapping[Any, Mapping[str, Any]]) -> None:
        """Index ``field`` over the existing ``records`` (record key -> record)."""
        if field in self._fields:
            return
        index: dict[Any, dict[Any, None]] = {}
        for hkey, record in records.items():
            if field in record:
                index.setdefault(to_key(record[field]), {})[hkey] = None
        self._fields[field] = index

    def holders(self, field: str, value: Any) -> list[Any]:
        """The record keys whose ``field`` holds ``value``."""
        return list(self._fields.get(field, {}).get(to_key(value), {}))

    def place(self, hkey: Any, old: Mapping[str, Any] | None, record: Mapping[str, Any]) -> None:
        """Index a written record (``old`` is the record it replaced, if any)."""
        for field, index in self._fields.items():
            before = UNDEFINED if old is None else old.get(field, UNDEFINED)
            after = record.get(field, UNDEFINED)
            if old is not None and js_eq(before, after):
                continue  # an unchanged value keeps its place in the index
            if before is not UNDEFINED:
                _drop(index, hkey, before)
            if after is not UNDEFINED:
                index.setdefault(to_key(after), {})[hkey] = None

    def remove(self, hkey: Any, record: Mapping[str, Any]) -> None:
        """Forget a deleted record."""
        for field, index in self._fields.items():
            if field in record:
                _drop(index, hkey, record[field])

    def clear(self) -> None:
        """Forget every record (the indexed fields stay)."""
        for index in self._fields.values():
            index.clear()


def _drop(index: dict[Any, dict[Any, None]], hkey: Any, value: Any) -> None:
    vkey = to_key(value)
    holders = index.get(vkey)
    if holders is not None:
        holders.pop(hkey, None)
        if not holders:
            del index[vkey]
