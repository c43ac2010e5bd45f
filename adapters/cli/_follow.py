"""``noex-store watch``: follow a collection's changes as JSON lines, resumable by cursor."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import adapters

from ._common import EXIT_USAGE, Output, fail, record_json

__all__ = ["follow"]


async def follow(
    opening: AbstractAsyncContextManager[adapters.Store],
    shown: str,
    collection: str,
    where: dict[str, Any] | None,
    since: str | None,
) -> None:
    """Print one JSON line per change (``kind``, ``key``, ``cursor``, ``record``) until stopped.

    Raises:
        typer.Exit: ``since`` is not a cursor of this backend, or the backend
            cannot resume (usage error).
    """
    out = Output(True)
    async with opening as store:
        try:
            stream = store.collection(collection).watch(where, since=since)
        except (ValueError, NotImplementedError) as exc:
            fail(f"--since: {exc}", EXIT_USAGE)
        async with stream as changes:
            out.note(f"watching {collection} on {shown} (Ctrl-C to stop)")
            async for change in changes:
                record = None if change.record is None else record_json(change.record)
                out.line(
                    {
                        "kind": change.kind,
                        "key": change.key,
                        "cursor": change.cursor,
                        "record": record,
                    }
                )
