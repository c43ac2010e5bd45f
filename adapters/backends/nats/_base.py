"""``NatsBase``: what a NATS store's collections share — the connection and one core per collection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from ..._store import Store
from ._conn import Connection, Options
from ._core import CollectionCore
from ._layout import Layout, collection_bucket

__all__ = ["NatsBase"]

logger = logging.getLogger("adapters")


class NatsBase(Store):
    """The connection services of a NATS store (see the package docstring)."""

    def __init__(self, url: str, conn: Connection) -> None:
        super().__init__(url)
        self._conn = conn
        self._cores: dict[tuple[Any, ...], CollectionCore] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._ops: set[asyncio.Future[None]] = set()

    @property
    def options(self) -> Options:
        """The options this store was opened with."""
        return self._conn.options

    def core_for(
        self,
        name: str,
        model: type[Any] | None,
        indexes: tuple[str, ...],
        unique: tuple[str, ...],
    ) -> CollectionCore:
        """The mirror, feeds and writer of a collection (one per name, model and fields)."""
        bucket = self._conn.bucket(collection_bucket(name))
        layout = Layout.build(bucket, self._conn.options.namespace, model, indexes, unique)
        ident = (name, model, layout.index_fields, layout.unique_fields)
        core = self._cores.get(ident)
        if core is None:
            core = self._cores[ident] = CollectionCore(self._conn, name, layout)
        return core

    def _track(self, task: asyncio.Future[Any]) -> None:
        """Keep a callback's task until it ends; log what it raised."""

        def done(fut: asyncio.Future[Any]) -> None:
            self._tasks.discard(fut)
            if not fut.cancelled() and fut.exception() is not None:
                logger.error("nats: async callback failed (isolated): %r", fut.exception())

        self._tasks.add(task)
        task.add_done_callback(done)

    @contextlib.contextmanager
    def _op(self) -> Iterator[None]:
        """Track one write operation for ``flush``."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ops.add(fut)
        try:
            yield
        finally:
            self._ops.discard(fut)
            fut.set_result(None)
