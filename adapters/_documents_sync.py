"""The seed-compatible, synchronous document store: a thin layer over the async one.

The async core runs on a private event loop in a daemon thread owned by each
:class:`DocumentStore`; every method submits one coroutine there and waits for
it. That works from plain threads and also from inside another running event
loop's thread (the call then blocks that loop while it waits; prefer
:class:`~adapters.documents.AsyncDocumentStore` there).

A store that is never closed (the seed's quick start never calls ``close()``) is
closed for its owner when it is garbage-collected or when the interpreter exits,
while its loop thread still runs, so its backend shuts down in order (pools,
listeners) and nothing is left pending.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import concurrent.futures.thread
import logging
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from ._documents import AsyncDocumentStore, Document
from ._lock_sync import BlockingLock

__all__ = [
    "DEFAULT_CONNECTION_STRING",
    "DocumentStore",
    "PostgresDocumentStore",
    "get_document_store",
]

R = TypeVar("R")
logger = logging.getLogger("adapters")

DEFAULT_CONNECTION_STRING: Final = "postgresql://localhost/unhinged"


class _Rollback(Exception):
    """Ends a transaction worker without committing."""


class _LoopThread:
    """An event loop running forever in its own daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="adapters-documents", daemon=True
        )
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, R]) -> concurrent.futures.Future[R]:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError(
                "DocumentStore was called from its own event-loop thread; "
                "use adapters.documents.AsyncDocumentStore in async code"
            )
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    def finish(self, last: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``last()`` on the loop, then stop it; from any thread, errors logged.

        Called on the loop's own thread (a garbage collection there), it cannot
        wait, so it schedules ``last()`` and stops the loop once that is done.
        """
        if threading.current_thread() is self.thread:

            async def last_then_stop() -> None:
                try:
                    await last()
                finally:
                    self.loop.stop()

            self.loop.create_task(last_then_stop())
            return
        try:
            self.submit(last()).result()
        except Exception:
            logger.warning("closing an unclosed DocumentStore failed", exc_info=True)
        finally:
            self.stop()


class _Transaction:
    """Runs the operations of one thread's ``with store.transaction():`` block in one task."""

    def __init__(self, runner: _LoopThread, docs: AsyncDocumentStore) -> None:
        self._runner = runner
        self._docs = docs
        self._queue: asyncio.Queue[Any] | None = None
        self._started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._done: concurrent.futures.Future[None] | None = None

    async def _serve(self) -> None:
        self._queue = asyncio.Queue()
        try:
            async with self._docs.transaction():
                self._started.set_result(None)
                while True:
                    item = await self._queue.get()
                    if item == "commit":
                        return
                    if item == "rollback":
                        raise _Rollback
                    call, future = item
                    try:
                        future.set_result(await call())
                    except Exception as exc:
                        future.set_exception(exc)
        except _Rollback:
            return
        except BaseException as exc:
            if not self._started.done():
                self._started.set_exception(exc)
                return
            raise

    def begin(self) -> None:
        self._done = self._runner.submit(self._serve())
        self._started.result()

    def call(self, call: Callable[[], Awaitable[R]]) -> R:
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        assert self._queue is not None
        self._runner.loop.call_soon_threadsafe(self._queue.put_nowait, (call, future))
        return future.result()

    def end(self, commit: bool) -> None:
        assert self._queue is not None
        assert self._done is not None
        self._runner.loop.call_soon_threadsafe(
            self._queue.put_nowait, "commit" if commit else "rollback"
        )
        self._done.result()


class DocumentStore:
    """The seed's synchronous document-store API, over any backend URL.

    ``DocumentStore("sqlite:///docs.db")``, ``DocumentStore("memory://")``,
    ``DocumentStore("postgresql://...")``, ... Existing seed code keeps working:
    ``create/read/update/delete/query/list_collections/delete_collection``
    return :class:`Document` values. Beyond the seed: operators in ``query``,
    ``order_by``/``offset``, ``if_version`` on ``update`` and, on PostgreSQL,
    ``with store.transaction():``.

    Raises:
        BackendUnavailable: the backend cannot be reached (at construction).
    """

    def __init__(self, url: str | None = None, **options: Any) -> None:
        self._runner = _LoopThread()
        self._local = threading.local()
        try:
            self._async = self._runner.submit(AsyncDocumentStore.open(url, **options)).result()
        except BaseException:
            self._runner.stop()
            raise
        self._closed = False
        # Closes the store if its owner never does: on garbage collection, or at
        # interpreter exit (see _close_unclosed_at_exit).
        self._finalizer = weakref.finalize(self, self._runner.finish, self._async.close)
        self._finalizer.atexit = False
        _unclosed.add(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._async.store.url}>"

    def _call(self, call: Callable[[], Awaitable[R]]) -> R:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        tx: _Transaction | None = getattr(self._local, "transaction", None)
        if tx is not None:
            return tx.call(call)

        async def run() -> R:
            return await call()

        return self._runner.submit(run()).result()

    def create(
        self, collection: str, data: Mapping[str, Any], *, doc_id: str | None = None
    ) -> Document:
        """Create a document in ``collection`` (see ``AsyncDocumentStore.create``)."""
        return self._call(lambda: self._async.create(collection, data, doc_id=doc_id))

    def read(self, collection: str, doc_id: str) -> Document | None:
        """Read a document by id; ``None`` when missing."""
        return self._call(lambda: self._async.read(collection, doc_id))

    def update(
        self,
        collection: str,
        doc_id: str,
        data: Mapping[str, Any],
        *,
        if_version: int | None = None,
    ) -> Document | None:
        """Merge ``data`` into a document; ``None`` when missing; ``Conflict`` on a CAS miss."""
        return self._call(
            lambda: self._async.update(collection, doc_id, data, if_version=if_version)
        )

    def delete(self, collection: str, doc_id: str) -> bool:
        """Delete a document; ``True`` if it existed."""
        return self._call(lambda: self._async.delete(collection, doc_id))

    def query(
        self,
        collection: str,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = 100,
        *,
        order_by: str | Sequence[str] | None = None,
        offset: int = 0,
    ) -> list[Document]:
        """Query with the filter language (``FilterError`` when malformed)."""
        return self._call(
            lambda: self._async.query(collection, filters, limit, order_by=order_by, offset=offset)
        )

    def list_collections(self) -> list[str]:
        """Names of the collections holding documents."""
        return self._call(self._async.list_collections)

    def delete_collection(self, collection: str) -> bool:
        """Delete a collection and its documents; ``True`` if it held any."""
        return self._call(lambda: self._async.delete_collection(collection))

    @contextmanager
    def transaction(self) -> Iterator[DocumentStore]:
        """Run this thread's operations inside the block in one transaction.

        Commits on normal exit, rolls back on an exception.

        Raises:
            NotImplementedError: the backend has no multi-document transactions.
            RuntimeError: a transaction is already open in this thread.
        """
        if getattr(self._local, "transaction", None) is not None:
            raise RuntimeError("a transaction is already open in this thread")
        tx = _Transaction(self._runner, self._async)
        tx.begin()
        self._local.transaction = tx
        try:
            yield self
        except BaseException:
            self._local.transaction = None
            tx.end(commit=False)
            raise
        self._local.transaction = None
        tx.end(commit=True)

    def lock(self, name: str, *, timeout: float | None = None, ttl: float = 60.0) -> BlockingLock:
        """An inter-process lock: ``with docs.lock("name", timeout=10):``.

        As :meth:`Store.lock <adapters.Store.lock>`; the store's event-loop thread
        renews it. A lost lock cannot interrupt the calling thread: ``held`` turns
        false and the block's exit raises :class:`~adapters.LockLost`.

        Raises:
            NotImplementedError: the backend cannot guarantee exclusion (noex, BeaverDB).
            RuntimeError: the store is closed.
        """
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        lock = self._async.lock(name, timeout=timeout, ttl=ttl)
        return BlockingLock(lock, self._runner.submit, self._runner.loop)

    def close(self) -> None:
        """Close the store and stop its event-loop thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        try:
            self._runner.submit(self._async.close()).result()
        finally:
            self._runner.stop()

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PostgresDocumentStore(DocumentStore):
    """A :class:`DocumentStore` on PostgreSQL, as in the seed: ``PostgresDocumentStore(conn)``."""

    def __init__(self, conn_string: str, **options: Any) -> None:
        super().__init__(conn_string, **options)


_unclosed: weakref.WeakSet[DocumentStore] = weakref.WeakSet()


def _close_unclosed_at_exit() -> None:
    """Close the stores still open at interpreter exit, while their backends can.

    It must run before the thread pools stop taking work (the SQLite backend and
    others run their I/O on them), so it is registered like those pools' own exit
    hook, after it, to run before it; plain ``atexit`` is the fallback.
    """
    for store in list(_unclosed):
        store._finalizer()


getattr(threading, "_register_atexit", atexit.register)(_close_unclosed_at_exit)

_default: dict[str, DocumentStore] = {}
_default_lock = threading.Lock()


def get_document_store() -> DocumentStore:
    """Return the shared store for ``POSTGRES_CONNECTION_STRING``.

    The variable defaults to ``postgresql://localhost/unhinged``, as in the seed.
    One store is kept per connection string.
    """
    conn_string = os.environ.get("POSTGRES_CONNECTION_STRING", DEFAULT_CONNECTION_STRING)
    with _default_lock:
        store = _default.get(conn_string)
        if store is None or store._closed:
            store = _default[conn_string] = PostgresDocumentStore(conn_string)
        return store
