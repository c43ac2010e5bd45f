"""Bulk inserts: many records in three pipelined rounds (claims, rows, configs)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..._errors import AlreadyExists
from ._core import CollectionCore
from ._kv import WrongRevision
from ._layout import encode_key
from ._mirror import Entry
from ._unique import Claims, unique_values
from ._wire import encode

if TYPE_CHECKING:
    from ._collection import NatsCollection

__all__ = ["insert_batch"]


async def insert_batch(
    coll: NatsCollection, core: CollectionCore, docs: list[tuple[str, dict[str, Any]]]
) -> list[Entry | BaseException]:
    """Insert many records (keys locked by the caller) in three pipelined rounds.

    Claims, then state/local rows, then config rows: each round goes out as one
    batch and is fully acknowledged before the next starts, so every record
    keeps the one-by-one write order (claim before rows, rows before config).
    A record that loses a compare-and-set race is retried one by one.
    """
    pub = core.conn.publisher
    mirror = core.mirror
    claims = Claims(core, coll.name)
    results: list[Entry | BaseException | None] = [None] * len(docs)
    held: dict[int, list[tuple[str, Any]]] = {}
    retry: list[int] = []
    live: list[int] = []
    for i, (key, doc) in enumerate(docs):
        if mirror.get(key) is not None:
            results[i] = AlreadyExists(coll.name, key)
            continue
        try:
            coll._check_unique(key, doc)
        except AlreadyExists as exc:
            results[i] = exc
            continue
        live.append(i)

    async def give_up(i: int, outcome: Exception) -> None:
        # Release what this record took; a lost race is retried one by one.
        key = docs[i][0]
        await claims.release(key, held.pop(i, []))
        if isinstance(outcome, WrongRevision):
            await core.refresh(key)
            retry.append(i)
        else:
            results[i] = outcome

    # Round 1: claims of unique values (create-only).
    owners: list[tuple[int, tuple[str, Any]]] = []
    for i in live:
        key, doc = docs[i]
        for item in unique_values(core, doc).items():
            owners.append((i, item))
    if owners:
        outcomes = await pub.write_many(
            [claims.claim_write(docs[i][0], *item) for i, item in owners]
        )
        lost: dict[int, Exception] = {}
        for (i, item), outcome in zip(owners, outcomes, strict=True):
            if isinstance(outcome, Exception):
                lost.setdefault(i, outcome)
            else:
                held.setdefault(i, []).append(item)
        for i, error in lost.items():
            await give_up(i, error)
        live = [i for i in live if i not in lost]

    # Round 2: state/local rows, created with CAS.
    prepared = {i: core.prepare(docs[i][0], docs[i][1], None) for i in live}
    rows: list[tuple[int, str, Any]] = []
    writes: list[tuple[str, str, bytes, int | None, None]] = []
    for i in live:
        key = docs[i][0]
        for which, bucket, value in prepared[i][1]:
            rows.append((i, which, value))
            expected = mirror.part_revision(which, key)
            writes.append((bucket, encode_key(key), encode(value), expected, None))
    written: dict[int, list[tuple[str, int, Any]]] = {i: [] for i in live}
    if writes:
        outcomes = await pub.write_many(writes)
        lost = {}
        for (i, which, value), outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, Exception):
                lost.setdefault(i, outcome)
            else:
                written[i].append((which, outcome, value))
        for i, error in lost.items():
            await give_up(i, error)
        live = [i for i in live if i not in lost]

    # Round 3: config rows, the compare-and-set point of each record.
    if live:
        bucket = core.layout.bucket
        outcomes = await pub.write_many(
            [
                (
                    bucket,
                    encode_key(docs[i][0]),
                    encode(prepared[i][0]),
                    mirror.revision_of(docs[i][0]),
                    None,
                )
                for i in live
            ]
        )
        for i, outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, Exception):
                await give_up(i, outcome)
            else:
                results[i] = core.commit(docs[i][0], prepared[i][0], outcome, written[i])

    if retry:
        again = await asyncio.gather(
            *(coll._insert_unlocked(core, *docs[i]) for i in retry), return_exceptions=True
        )
        for i, result in zip(retry, again, strict=True):
            results[i] = result
    return [r if r is not None else RuntimeError("insert not attempted") for r in results]
