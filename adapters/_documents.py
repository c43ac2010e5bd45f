"""The seed-compatible document-store facade, async flavour, over any backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._connect import connect
from ._lock import Lock
from ._records import Record
from ._store import Store

__all__ = ["AsyncDocumentStore", "Document"]


@dataclass
class Document:
    """A document as the seed API returns it.

    Attributes:
        id: The document id (the record key; a UUID4 string when generated).
        collection: The collection name.
        data: The document content.
        created_at: Creation time (timezone-aware UTC).
        updated_at: Last update time (timezone-aware UTC).
        version: Starts at 1, +1 on every update.
    """

    id: str
    collection: str
    data: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1


def _document(collection: str, record: Record[dict[str, Any]]) -> Document:
    return Document(
        record.key, collection, record.data, record.created_at, record.updated_at, record.version
    )


class AsyncDocumentStore:
    """The seed's document-store API as coroutines, over any ``Collection`` backend.

    Create it with :meth:`open` (``await AsyncDocumentStore.open(url)``) or wrap
    an open :class:`~adapters.Store`. Beyond the seed: ``query`` takes the whole
    filter language plus ``order_by``/``offset``, ``update`` takes ``if_version``,
    and :meth:`transaction` groups operations where the backend supports it.
    """

    def __init__(self, store: Store, *, owned: bool = False) -> None:
        self._store = store
        self._owned = owned

    @classmethod
    async def open(cls, url: str | None = None, **options: Any) -> AsyncDocumentStore:
        """Connect to ``url`` (see :func:`adapters.connect`) and wrap the store."""
        return cls(await connect(url, **options), owned=True)

    @property
    def store(self) -> Store:
        """The underlying store."""
        return self._store

    def __repr__(self) -> str:
        return f"<AsyncDocumentStore {self._store.url}>"

    async def create(
        self, collection: str, data: Mapping[str, Any], *, doc_id: str | None = None
    ) -> Document:
        """Create a document (id generated unless ``doc_id`` is given).

        Raises:
            AlreadyExists: ``doc_id`` (or a unique field value) is taken.
        """
        record = await self._store.collection(collection).insert(data, key=doc_id)
        return _document(collection, record)

    async def read(self, collection: str, doc_id: str) -> Document | None:
        """Read a document by id; ``None`` when it does not exist."""
        record = await self._store.collection(collection).get(doc_id)
        return None if record is None else _document(collection, record)

    async def update(
        self,
        collection: str,
        doc_id: str,
        data: Mapping[str, Any],
        *,
        if_version: int | None = None,
    ) -> Document | None:
        """Merge ``data`` into the document; ``None`` when it does not exist.

        Raises:
            Conflict: ``if_version`` is given and the document is at another version.
        """
        from ._errors import NotFound

        try:
            record = await self._store.collection(collection).update(
                doc_id, data, if_version=if_version
            )
        except NotFound:
            return None
        return _document(collection, record)

    async def delete(self, collection: str, doc_id: str) -> bool:
        """Delete a document; ``True`` if it existed."""
        return await self._store.collection(collection).delete(doc_id)

    async def query(
        self,
        collection: str,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = 100,
        *,
        order_by: str | Sequence[str] | None = None,
        offset: int = 0,
    ) -> list[Document]:
        """Query documents with the filter language (equality, ``$gt``, ``$in``, ``$or``, ...).

        Raises:
            FilterError: ``filters`` is malformed.
        """
        records = await self._store.collection(collection).find(
            filters, order_by=order_by, limit=limit, offset=offset
        )
        return [_document(collection, r) for r in records]

    async def list_collections(self) -> list[str]:
        """Names of the collections holding documents."""
        return await self._store.collections()

    async def delete_collection(self, collection: str) -> bool:
        """Delete a collection and its documents; ``True`` if it held any."""
        return await self._store.drop(collection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncDocumentStore]:
        """Run the operations awaited inside the block in one transaction.

        Raises:
            NotImplementedError: the backend has no multi-document transactions.
        """
        async with self._store.transaction():
            yield self

    def lock(self, name: str, *, timeout: float | None = None, ttl: float = 60.0) -> Lock:
        """An inter-process lock, as :meth:`Store.lock <adapters.Store.lock>`.

        Use ``async with docs.lock("name", timeout=10):``; see :class:`~adapters.Lock`.

        Raises:
            NotImplementedError: the backend cannot guarantee exclusion (noex, BeaverDB).
        """
        return self._store.lock(name, timeout=timeout, ttl=ttl)

    async def close(self) -> None:
        """Close the underlying store if this object opened it."""
        if self._owned:
            await self._store.close()

    async def __aenter__(self) -> AsyncDocumentStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
