"""A drop-in remote for BeaverDB: the local API, over BeaverDB's REST server.

``BeaverClient`` mirrors the local ``BeaverDB`` (sync); ``AsyncBeaverClient``
mirrors ``AsyncBeaverDB``. Every structure also has ``.as_async()``::

    from adapters.beaver import BeaverClient

    with BeaverClient("http://127.0.0.1:8000", api_key="KEY") as db:
        users = db.dict("users")
        users["alice"] = {"age": 30}
        assert "alice" in users and len(users) >= 1

Needs the ``beaver`` extra (httpx). Errors form one tree under :class:`BeaverError`.
"""

from adapters.beaver._async import (
    AsyncBeaverClient,
    AsyncBeaverDict,
    AsyncBeaverList,
    AsyncBeaverLog,
    AsyncBeaverQueue,
)
from adapters.beaver._errors import (
    AuthError,
    BadRequest,
    BeaverError,
    ClientClosed,
    ConnectionFailed,
    DecodeError,
    IndexOutOfRange,
    InvalidName,
    InvalidValue,
    KeyNotFound,
    NotSupportedRemotely,
    QueueEmpty,
    RemoteTimeout,
    ServerError,
    UnsupportedValue,
)
from adapters.beaver._models import Codec, FieldIndex, LogEntry, QueueItem
from adapters.beaver._sync import BeaverClient, BeaverDict, BeaverList, BeaverLog, BeaverQueue

__all__ = [
    "AsyncBeaverClient",
    "AsyncBeaverDict",
    "AsyncBeaverList",
    "AsyncBeaverLog",
    "AsyncBeaverQueue",
    "AuthError",
    "BadRequest",
    "BeaverClient",
    "BeaverDict",
    "BeaverError",
    "BeaverList",
    "BeaverLog",
    "BeaverQueue",
    "ClientClosed",
    "Codec",
    "ConnectionFailed",
    "DecodeError",
    "FieldIndex",
    "IndexOutOfRange",
    "InvalidName",
    "InvalidValue",
    "KeyNotFound",
    "LogEntry",
    "NotSupportedRemotely",
    "QueueEmpty",
    "QueueItem",
    "RemoteTimeout",
    "ServerError",
    "UnsupportedValue",
]
