"""Streaming moves of whole collections: ``export``, ``import`` and ``copy``.

Everything walks collections with ``Collection.page`` (stable key order) and
writes with ``insert_many`` batches, so memory stays bounded by the batch size
whatever the collection size.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

import adapters

from .._filters import json_equal
from ._common import EXIT_CONFLICT, EXIT_USAGE, dumps, fail, record_json

__all__ = ["CopyStats", "ImportStats", "copy_collection", "export_lines", "import_lines", "walk"]

OnConflict = Literal["fail", "skip", "replace"]
_ENVELOPE = frozenset({"key", "version", "created_at", "updated_at", "data"})


async def walk(
    coll: adapters.Collection[Any], batch: int, after: str | None = None
) -> AsyncIterator[list[adapters.Record[Any]]]:
    """Yield the records of ``coll`` page by page, in key order, after ``after``."""
    while True:
        page = await coll.page(batch, after=after)
        if page.records:
            yield list(page.records)
        if not page.has_more or page.next_cursor is None:
            return
        after = page.next_cursor


async def export_lines(coll: adapters.Collection[Any], out: IO[str], batch: int) -> int:
    """Write every record as one JSON line; return how many."""
    written = 0
    async for records in walk(coll, batch):
        out.writelines(dumps(record_json(r)) + "\n" for r in records)
        written += len(records)
    out.flush()
    return written


def _parse_line(line: str, number: int) -> tuple[str | None, dict[str, Any]]:
    """An export line ``{"key", "data", ...}`` or a plain JSON document."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        fail(f"input line {number}: invalid JSON: {exc.msg} at column {exc.colno}", EXIT_USAGE)
    if not isinstance(value, dict):
        fail(f"input line {number}: expected a JSON object", EXIT_USAGE)
    if "data" in value and set(value) <= _ENVELOPE and isinstance(value["data"], dict):
        key = value.get("key")
        if key is not None and not isinstance(key, str):
            fail(f'input line {number}: "key" must be a string', EXIT_USAGE)
        return key, value["data"]
    return None, value


def _lines(source: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(source, start=1):
        if line.strip():
            yield number, line


@dataclass
class ImportStats:
    """What ``import`` did."""

    inserted: int = 0
    skipped: int = 0
    replaced: int = 0


async def import_lines(
    coll: adapters.Collection[Any], source: IO[str], batch: int, on_conflict: OnConflict
) -> ImportStats:
    """Insert the documents of a JSON Lines stream in batches.

    A batch that hits an existing key is redone one document at a time,
    applying ``on_conflict`` to the clashing ones.
    """
    stats = ImportStats()
    pending: list[tuple[str | None, dict[str, Any]]] = []

    async def flush() -> None:
        if any("_key" in doc for _, doc in pending):
            # insert_many reads "_key" as the key: such documents go one by one.
            for key, doc in pending:
                await _insert_one(coll, key, doc, on_conflict, stats)
            pending.clear()
            return
        items = [doc if key is None else {**doc, "_key": key} for key, doc in pending]
        try:
            stats.inserted += len(await coll.insert_many(items))
        except adapters.AlreadyExists:
            for key, doc in pending:
                await _insert_one(coll, key, doc, on_conflict, stats)
        pending.clear()

    for number, line in _lines(source):
        pending.append(_parse_line(line, number))
        if len(pending) >= batch:
            await flush()
    if pending:
        await flush()
    return stats


async def _insert_one(
    coll: adapters.Collection[Any],
    key: str | None,
    doc: dict[str, Any],
    on_conflict: OnConflict,
    stats: ImportStats,
) -> None:
    try:
        await coll.insert(doc, key=key)
        stats.inserted += 1
    except adapters.AlreadyExists as exc:
        if on_conflict == "fail" or key is None or exc.field is not None:
            fail(
                f"{exc}; {stats.inserted} documents imported before it "
                "(use --on-conflict skip|replace)",
                EXIT_CONFLICT,
            )
        if on_conflict == "skip":
            stats.skipped += 1
        else:
            await coll.replace(key, doc)
            stats.replaced += 1


@dataclass
class CopyStats:
    """What ``copy`` did."""

    total: int
    copied: int = 0
    skipped: int = 0
    updated: int = 0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        """Source records handled so far."""
        return self.copied + self.skipped + self.updated


class _Destination:
    """The destination walked in key order alongside the source (a merge join)."""

    def __init__(self, coll: adapters.Collection[Any], batch: int) -> None:
        self._pages = walk(coll, batch)
        self._buffer: list[adapters.Record[Any]] = []
        self._done = False

    async def upto(self, last: str) -> dict[str, adapters.Record[Any]]:
        """The destination records with keys up to ``last`` not returned before."""
        out: dict[str, adapters.Record[Any]] = {}
        while True:
            while self._buffer and self._buffer[0].key <= last:
                record = self._buffer.pop(0)
                out[record.key] = record
            if self._buffer or self._done:
                return out
            try:
                self._buffer = await anext(self._pages)
            except StopAsyncIteration:
                self._done = True


async def copy_collection(
    source: adapters.Collection[Any],
    dest: adapters.Collection[Any],
    *,
    batch: int,
    resume: bool,
    progress: Callable[[CopyStats], None],
) -> CopyStats:
    """Copy every record of ``source`` into ``dest`` (keys and documents).

    Without ``resume`` every source key must be new in ``dest`` (else
    :class:`~adapters.AlreadyExists`). With ``resume`` the destination is read
    alongside in key order: records already there with equal data are skipped,
    differing ones are replaced, missing ones inserted, so re-running is
    idempotent and an interrupted copy finishes without duplicates.
    """
    started = time.monotonic()
    stats = CopyStats(total=await source.count())
    existing = _Destination(dest, batch) if resume else None
    progress(stats)
    async for records in walk(source, batch):
        there = {} if existing is None else await existing.upto(records[-1].key)
        fresh: list[dict[str, Any]] = []
        for record in records:
            current = there.get(record.key)
            if current is None and "_key" in record.data:
                # insert_many reads "_key" as the key: a document using that field goes alone.
                await dest.insert(record.data, key=record.key)
                stats.copied += 1
            elif current is None:
                fresh.append({**record.data, "_key": record.key})
            elif json_equal(current.data, record.data):
                stats.skipped += 1
            else:
                await dest.replace(record.key, record.data)
                stats.updated += 1
        if fresh:
            stats.copied += len(await dest.insert_many(fresh))
        stats.seconds = time.monotonic() - started
        progress(stats)
    stats.seconds = time.monotonic() - started
    return stats
