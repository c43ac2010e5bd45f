"""Local-API features the REST server does not expose, as explicit methods.

Each raises :class:`~adapters.beaver._errors.NotSupportedRemotely` naming the
feature, so code ported from the local API fails with a clear message instead of
an ``AttributeError``. The sync and async surfaces inherit the same mixins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from adapters.beaver._errors import NotSupportedRemotely

__all__ = ["ClientGaps", "DictGaps", "ListGaps", "LogGaps", "QueueGaps", "refuse_secret"]


def _gap(feature: str, hint: str = "") -> Callable[..., NoReturn]:
    def method(self: object, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotSupportedRemotely(feature, hint)

    method.__doc__ = f"Not available remotely: raises ``NotSupportedRemotely`` ({feature})."
    return method


_NO_LOCK = "the server exposes no lock routes"
_NO_EVENTS = "REST writes never emit change events"


def refuse_secret(secret: object) -> None:
    """Refuse ``db.dict(name, secret=...)``: encrypted dicts are local-only.

    Raises:
        NotSupportedRemotely: ``secret`` is not ``None``.
    """
    if secret is not None:
        raise NotSupportedRemotely(
            "encrypted dicts (secret=)",
            "the server cannot take a secret: it would store plaintext and fail to read",
        )


class ClientGaps:
    """Factories of the local ``BeaverDB`` that have no REST routes."""

    docs = _gap("db.docs() (documents and full-text search)")
    collection = _gap("db.collection() (documents and vector search)")
    vectors = _gap("db.vectors() (vector search)")
    graph = _gap("db.graph()")
    graphs = _gap("db.graphs()")
    channel = _gap("db.channel() (pub/sub)")
    blob = _gap("db.blob() (binary blobs)")
    lock = _gap("db.lock()", _NO_LOCK)
    sketch = _gap("db.sketch()")
    events = _gap("db.events()", _NO_EVENTS)
    transaction = _gap("db.transaction()")
    indexes = _gap("db.indexes()")
    cache = _gap("db.cache()")


class _ManagerGaps:
    """Per-structure features shared by every manager of the local API."""

    # ``with d:`` / ``async with d:`` take the structure's lock in the local API.
    __enter__ = _gap("with manager: (per-structure lock)", _NO_LOCK)
    __exit__ = _gap("with manager: (per-structure lock)", _NO_LOCK)
    __aenter__ = _gap("async with manager: (per-structure lock)", _NO_LOCK)
    __aexit__ = _gap("async with manager: (per-structure lock)", _NO_LOCK)

    @property
    def locked(self) -> bool:
        """Not available remotely: raises ``NotSupportedRemotely``."""
        raise NotSupportedRemotely("manager.locked", _NO_LOCK)

    @property
    def events(self) -> object:
        """Not available remotely: raises ``NotSupportedRemotely``."""
        raise NotSupportedRemotely("manager.events", _NO_EVENTS)

    acquire = _gap("manager.acquire() (per-structure lock)", _NO_LOCK)
    release = _gap("manager.release() (per-structure lock)", _NO_LOCK)
    renew = _gap("manager.renew() (per-structure lock)", _NO_LOCK)
    on = _gap("manager.on() (change events)", _NO_EVENTS)
    off = _gap("manager.off() (change events)", _NO_EVENTS)
    dump = _gap("dump()")
    load = _gap("load()")


class DictGaps(_ManagerGaps):
    """Dict features with no REST route."""

    keys = _gap("dict.keys()", "the server cannot list keys")
    values = _gap("dict.values()", "the server cannot list keys")
    items = _gap("dict.items()", "the server cannot list keys")
    __iter__ = _gap("iterating a dict", "the server cannot list keys")
    __aiter__ = _gap("iterating a dict", "the server cannot list keys")
    batched = _gap("dict.batched()")


class ListGaps(_ManagerGaps):
    """List features with no REST route."""

    __iter__ = _gap("iterating a list", "read items by index with len()")
    __aiter__ = _gap("iterating a list", "read items by index with count()")
    batched = _gap("list.batched()")


class QueueGaps(_ManagerGaps):
    """Queue features with no REST route."""

    __iter__ = _gap("iterating a queue", "use peek() or get()")
    __aiter__ = _gap("iterating a queue", "use peek() or get()")


class LogGaps(_ManagerGaps):
    """Log features with no REST route."""

    live = _gap("log.live()", "poll range(start=...) instead")
    explain = _gap("log.explain()")
    reindex = _gap("log.reindex()")
    batched = _gap("log.batched()")
    __iter__ = _gap("iterating a log", "use range()")
    __aiter__ = _gap("iterating a log", "use range()")
