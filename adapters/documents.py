"""Seed-compatible document-store facades over any ``Collection`` backend.

``DocumentStore`` (synchronous, as in the seed) and ``AsyncDocumentStore``::

    from adapters.documents import get_document_store

    store = get_document_store()          # POSTGRES_CONNECTION_STRING
    user = store.create("users", {"name": "Alice", "status": "active"})
    store.update("users", user.id, {"status": "inactive"})
    active = store.query("users", {"status": "active", "age": {"$gte": 18}})
"""

from ._documents import AsyncDocumentStore, Document
from ._documents_sync import (
    DEFAULT_CONNECTION_STRING,
    DocumentStore,
    PostgresDocumentStore,
    get_document_store,
)

__all__ = [
    "DEFAULT_CONNECTION_STRING",
    "AsyncDocumentStore",
    "Document",
    "DocumentStore",
    "PostgresDocumentStore",
    "get_document_store",
]
