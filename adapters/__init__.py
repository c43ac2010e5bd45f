"""One ``Collection`` interface over many storage backends.

Pick a backend by URL and write the same code against it::

    import adapters

    async with adapters.connect("memory://") as store:
        users = store.collection("users")
        rec = await users.insert({"name": "Alice"})
        rec = await users.update(rec.key, {"role": "admin"}, if_version=rec.version)

Errors form one tree under :class:`AdapterError`.
"""

from ._changes import ChangeStream
from ._collection import Collection
from ._connect import connect
from ._errors import (
    AdapterError,
    AlreadyExists,
    BackendError,
    BackendUnavailable,
    Conflict,
    CursorExpired,
    FilterError,
    InvalidValue,
    LockLost,
    LockTimeout,
    MissingExtra,
    NotFound,
    ValidationError,
)
from ._lock import Lock
from ._records import Change, ChangeKind, Page, Record
from ._store import Store
from ._urls import redact_url

__all__ = [
    "AdapterError",
    "AlreadyExists",
    "BackendError",
    "BackendUnavailable",
    "Change",
    "ChangeKind",
    "ChangeStream",
    "Collection",
    "Conflict",
    "CursorExpired",
    "FilterError",
    "InvalidValue",
    "Lock",
    "LockLost",
    "LockTimeout",
    "MissingExtra",
    "NotFound",
    "Page",
    "Record",
    "Store",
    "ValidationError",
    "connect",
    "redact_url",
]
