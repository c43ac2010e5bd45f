"""NOTIFY payloads of writes, and turning notifications back into raw changes.

Payloads stay under PostgreSQL's 8000-byte limit: a row write carries kind,
collection, key, version, timestamps and the document when it fits; a batch
carries whole records while they fit and keys otherwise; the listener reads
records back when a payload has no document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ..._records import ChangeKind
from ..._stored import RawChange, Stored, from_micros

__all__ = [
    "COLUMNS",
    "Fetch",
    "changes_from",
    "copy_text",
    "insert_payloads",
    "key_batches",
    "row_payload",
    "stored",
]

Fetch = Callable[[str, list[str]], Awaitable[list[Stored]]]
"""Reads records back: ``(collection, keys)`` to the rows still there, in key order."""

COLUMNS = "key, data, version, created_at, updated_at"
# NOTIFY payloads must stay under 8000 bytes; leave room for the envelope.
_PAYLOAD_LIMIT = 7900
_KIND: dict[str, ChangeKind] = {"i": "inserted", "u": "updated", "d": "deleted"}


def row_payload(kind: str, with_old: bool = False) -> str:
    """SQL for the NOTIFY payload of the row ``w``.

    The documents travel only when they fit: the old document (``with_old``:
    columns ``w.old_data``/``w.old_updated``) is dropped first, then the new one.
    """
    old = (
        ", 'od', w.old_data, 'ou', (extract(epoch FROM w.old_updated) * 1000000)::bigint"
        if with_old
        else ""
    )
    return (
        "(SELECT CASE WHEN octet_length(j::text) <= 7900 THEN j::text"
        " WHEN octet_length((j - 'od')::text) <= 7900 THEN (j - 'od')::text"
        " ELSE (j - 'od' - 'd')::text END"
        f" FROM (SELECT jsonb_build_object('o', '{kind}', 'c', w.collection, 'k', w.key,"
        " 'v', w.version,"
        " 't', (extract(epoch FROM w.created_at) * 1000000)::bigint,"
        " 'u', (extract(epoch FROM w.updated_at) * 1000000)::bigint,"
        f" 'd', w.data{old}) AS j) AS x)"
    )


def stored(row: tuple[Any, ...]) -> Stored:
    key, data, version, created_at, updated_at = row
    return Stored(key, data, version, created_at, updated_at)


def key_batches(keys: list[str]) -> list[str]:
    """Split keys into JSON arrays that each fit a NOTIFY payload."""
    batches: list[str] = []
    current: list[bytes] = []
    size = 0
    for key in keys:
        item = msgspec.json.encode(key)
        if current and size + len(item) + 1 > _PAYLOAD_LIMIT - 300:
            batches.append("[" + b",".join(current).decode() + "]")
            current, size = [], 0
        current.append(item)
        size += len(item) + 1
    if current:
        batches.append("[" + b",".join(current).decode() + "]")
    return batches


def insert_payloads(collection: str, docs: list[tuple[str, bytes]], us: int) -> list[str]:
    """NOTIFY payloads for a batch insert: whole records while they fit, else keys only.

    ``docs`` holds each key with its document already encoded as JSON.
    """
    head = msgspec.json.encode({"o": "i", "c": collection, "t": us})[:-1]
    budget = _PAYLOAD_LIMIT - len(head) - 20
    payloads: list[str] = []
    records: list[bytes] = []
    size = 0
    big: list[str] = []

    def flush() -> None:
        nonlocal records, size
        if records:
            payloads.append((head + b',"rs":[' + b",".join(records) + b"]}").decode())
            records, size = [], 0

    for key, doc in docs:
        item = b"[" + msgspec.json.encode(key) + b"," + doc + b"]"
        if len(item) > budget:
            big.append(key)
            continue
        if size + len(item) + 1 > budget:
            flush()
        records.append(item)
        size += len(item) + 1
    flush()
    head_ks = msgspec.json.encode({"o": "i", "c": collection})[:-1]
    payloads += [
        (head_ks + b',"ks":' + batch.encode() + b"}").decode() for batch in key_batches(big)
    ]
    return payloads


def copy_text(value: str) -> str:
    """Escape one field for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


async def changes_from(message: dict[str, Any], fetch: Fetch) -> list[RawChange]:
    """The raw changes one notification announces (reading records back where needed)."""
    collection = message.get("c")
    if not isinstance(collection, str):
        return []
    records = message.get("rs")
    if isinstance(records, list):
        when = from_micros(message["t"])
        return [
            RawChange(collection, "inserted", k, Stored(k, d, 1, when, when), None)
            for k, d in records
        ]
    keys = message.get("ks")
    if isinstance(keys, list):
        if message.get("o") == "d":
            return [RawChange(collection, "deleted", k, None, None) for k in keys]
        rows = await fetch(collection, keys)
        return [RawChange(collection, "inserted", s.key, s, None) for s in rows]
    change = await _row_change(collection, message, fetch)
    return [] if change is None else [change]


async def _row_change(collection: str, message: dict[str, Any], fetch: Fetch) -> RawChange | None:
    """Turn one row notification into a raw change (reading the record back if needed)."""
    kind = _KIND.get(message.get("o", ""))
    key = message.get("k")
    if kind is None or not isinstance(key, str):
        return None
    data = message.get("d")
    if isinstance(data, dict):
        record: Stored | None = Stored(
            key, data, int(message["v"]), from_micros(message["t"]), from_micros(message["u"])
        )
    elif kind == "deleted":
        record = None
    else:
        rows = await fetch(collection, [key])
        if not rows:
            return None  # already deleted again; its deletion follows
        record = rows[0]
    if kind == "deleted":
        return RawChange(collection, "deleted", key, None, record)
    old_data = message.get("od")
    old = None
    if isinstance(old_data, dict):
        version = int(message["v"]) - 1
        old = Stored(key, old_data, version, from_micros(message["t"]), from_micros(message["ou"]))
    return RawChange(collection, kind, key, record, old)
