"""Inserts: one record (:func:`insert_one`), and many in three pipelined rounds.

A bulk insert sends claims, then state/local rows, then config rows.

Each record travels through the rounds as one :class:`_Item`, a struct the
cyclic garbage collector does not track, and each round's writes go out as one
:class:`Writes` batch (parallel lists). A 10,000-record insert therefore
allocates few objects the collector has to walk, which kept it from running
several full collections per insert.

Large inserts are cut into chunks that overlap (:func:`insert_chunked`): while
NATS stores one chunk's rows, this process prepares the next chunk and handles
the acknowledgements of the previous one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from ..._errors import AlreadyExists, Conflict
from ._core import CollectionCore
from ._kv import WrongRevision
from ._layout import encode_key
from ._mirror import Entry
from ._unique import Claims, check_free, unique_values
from ._wire import ConfigValue, encode
from ._writes import Writes

__all__ = ["MAX_RACES", "insert_batch", "insert_chunked", "insert_one"]

CHUNK = 4096  # records per chunk of a large insert
IN_FLIGHT = 3  # chunks on their way at once
MAX_RACES = 50  # compare-and-set attempts of one write before it reports contention


async def insert_one(core: CollectionCore, collection: str, key: str, doc: dict[str, Any]) -> Entry:
    """Insert one record (its key locked by the caller), retrying lost compare-and-set races.

    Raises:
        AlreadyExists: the key or a unique value is taken.
        Conflict: other writers kept winning the race for this key.
    """
    for _ in range(MAX_RACES):
        if core.mirror.get(key) is not None:
            raise AlreadyExists(collection, key)
        check_free(core, collection, key, doc)
        claims = Claims(core, collection)
        taken = await claims.acquire(key, list(unique_values(core, doc).items()))
        try:
            return await core.write(key, doc, core.mirror.revision_of(key), None)
        except WrongRevision:
            await claims.release(key, taken)
            await core.refresh(key)
        except BaseException:
            await claims.release(key, taken)
            raise
    raise Conflict(collection, key, None, None, reason=f"insert lost {MAX_RACES} races")


class _Item(msgspec.Struct, gc=False):
    """One record of a bulk insert on its way through the rounds."""

    slot: int  # position in the caller's list
    key: str
    kv_key: str
    doc: dict[str, Any]
    claims: tuple[tuple[str, Any], ...]  # unique (field, value) pairs to claim
    held: tuple[tuple[str, Any], ...] = ()  # the claims taken so far
    config: ConfigValue | None = None
    parts: tuple[tuple[str, str, Any], ...] = ()  # (which, bucket, value) rows
    written: tuple[tuple[str, int, Any], ...] = ()  # (which, revision, value) rows
    error: Exception | None = None  # the first failure of this record


async def insert_chunked(
    core: CollectionCore, collection: str, docs: list[tuple[str, dict[str, Any]]]
) -> list[Entry | BaseException]:
    """:func:`insert_batch` over overlapping chunks of at most :data:`CHUNK` records.

    Results come back in input order. A chunk that fails as a whole reports its
    error for each of its records, so the caller undoes what the other chunks
    wrote, exactly as for a failed record.
    """
    if len(docs) <= CHUNK:
        return await insert_batch(core, collection, docs)
    count = -(-len(docs) // CHUNK)
    size = -(-len(docs) // count)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def run(part: list[tuple[str, dict[str, Any]]]) -> list[Entry | BaseException]:
        async with gate:
            return await insert_batch(core, collection, part)

    chunks = [docs[i : i + size] for i in range(0, len(docs), size)]
    outcomes = await asyncio.gather(*(run(part) for part in chunks), return_exceptions=True)
    results: list[Entry | BaseException] = []
    for part, outcome in zip(chunks, outcomes, strict=True):
        results.extend([outcome] * len(part) if isinstance(outcome, BaseException) else outcome)
    return results


async def insert_batch(
    core: CollectionCore, collection: str, docs: list[tuple[str, dict[str, Any]]]
) -> list[Entry | BaseException]:
    """Insert many records (keys locked by the caller) in three pipelined rounds.

    Claims, then state/local rows, then config rows: each round goes out as one
    batch and is fully acknowledged before the next starts, so every record
    keeps the one-by-one write order (claim before rows, rows before config).
    A record that loses a compare-and-set race is retried one by one.
    """
    pub = core.conn.publisher
    mirror = core.mirror
    claims = Claims(core, collection)
    results: list[Entry | BaseException | None] = [None] * len(docs)
    retry: list[int] = []
    items: list[_Item] = []
    for slot, (key, doc) in enumerate(docs):
        if mirror.get(key) is not None:
            results[slot] = AlreadyExists(collection, key)
            continue
        try:
            check_free(core, collection, key, doc)
        except AlreadyExists as exc:
            results[slot] = exc
            continue
        uniques = tuple(unique_values(core, doc).items())
        items.append(_Item(slot, key, encode_key(key), doc, uniques))

    async def drop_failed(items: list[_Item]) -> list[_Item]:
        # Release what each failed record took; a lost race is retried one by one.
        live: list[_Item] = []
        for item in items:
            if item.error is None:
                live.append(item)
                continue
            await claims.release(item.key, list(item.held))
            if isinstance(item.error, WrongRevision):
                await core.refresh(item.key)
                retry.append(item.slot)
            else:
                results[item.slot] = item.error
        return live

    async def send(writes: Writes, owners: list[_Item]) -> list[int | Exception]:
        outcomes = await pub.write_many(writes)
        for item, outcome in zip(owners, outcomes, strict=True):
            if isinstance(outcome, Exception) and item.error is None:
                item.error = outcome
        return outcomes

    # Round 1: claims of unique values (create-only).
    writes = Writes()
    owners: list[_Item] = []
    for item in items:
        for field, value in item.claims:
            writes.add(*claims.claim_write(item.key, field, value))
            owners.append(item)
    if owners:
        outcomes = await send(writes, owners)
        claimed = iter(outcomes)
        for item in items:
            for pair in item.claims:
                if not isinstance(next(claimed), Exception):
                    item.held += (pair,)
        items = await drop_failed(items)

    # Round 2: state/local rows, created with CAS.
    writes = Writes()
    owners = []
    for item in items:
        item.config, item.parts = core.prepare(item.key, item.doc, None)
        for which, bucket, value in item.parts:
            writes.add(bucket, item.kv_key, encode(value), mirror.part_revision(which, item.key))
            owners.append(item)
    if owners:
        outcomes = await send(writes, owners)
        rows = iter(outcomes)
        for item in items:
            for which, _bucket, value in item.parts:
                outcome = next(rows)
                if isinstance(outcome, int):
                    item.written += ((which, outcome, value),)
        items = await drop_failed(items)

    # Round 3: config rows, the compare-and-set point of each record. Each record
    # is committed to the mirror as soon as its acknowledgement arrives, so the
    # feed's echo of the row finds it applied already (nothing to decode).
    if items:
        bucket = core.layout.bucket
        writes = Writes()
        for item in items:
            assert item.config is not None
            writes.add(bucket, item.kv_key, encode(item.config), mirror.revision_of(item.key))

        def on_config(n: int, outcome: int | Exception) -> None:
            item = items[n]
            if isinstance(outcome, Exception):
                item.error = outcome
                return
            assert item.config is not None
            try:
                results[item.slot] = core.commit(item.key, item.config, outcome, item.written)
            except Exception as exc:  # pragma: no cover - commit is defensive
                results[item.slot] = exc

        await pub.write_many(writes, on_config)
        await drop_failed(items)

    if retry:
        again = await asyncio.gather(
            *(insert_one(core, collection, *docs[i]) for i in retry), return_exceptions=True
        )
        for i, result in zip(retry, again, strict=True):
            results[i] = result
    return [r if r is not None else RuntimeError("insert not attempted") for r in results]
