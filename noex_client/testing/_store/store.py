"""The store: buckets, query registry and admin operations (sans-I/O).

Writes publish change events ``(bucket, key)`` to the listeners registered
with :meth:`Store.add_listener`; the reactive layer consumes them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ._values import js_str, now_ms
from .buckets import Bucket, WriteHook
from .errors import (
    BucketAlreadyExistsError,
    BucketNotDefinedError,
    QueryAlreadyDefinedError,
    QueryNotDefinedError,
)
from .queries import QueryContext, QueryFunction, evaluate_declarative

__all__ = ["BucketStorage", "QueryDefinition", "Store"]

ChangeListener = Callable[[str, Any], None]


class BucketStorage(Protocol):
    """Where persistent buckets keep their records between runs."""

    def load(self, bucket: Bucket) -> None:
        """Restore the saved records of a bucket being defined (if there are any)."""

    def forget(self, name: str) -> None:
        """Delete the saved records of a dropped bucket."""


@dataclass
class QueryDefinition:
    """A defined query: programmatic (a function) or declarative (a config)."""

    name: str
    function: QueryFunction | None = None
    config: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        """``"declarative"`` or ``"programmatic"``."""
        return "declarative" if self.config is not None else "programmatic"

    def run(self, ctx: QueryContext, params: Any) -> Any:
        """Evaluate the query against ``ctx``."""
        if self.config is not None:
            return evaluate_declarative(ctx, self.config, params)
        assert self.function is not None
        return self.function(ctx, params)


class Store:
    """An in-memory noex store.

    Args:
        name: The store name reported by ``store.stats``.
        storage: Persistence: persistent buckets restore their records from
            it when defined (``persistent`` defaults to true, as in
            noex-store), and ``store.stats`` reports ``persistence.enabled``.
    """

    def __init__(self, name: str | None = None, storage: BucketStorage | None = None) -> None:
        self.name = name or f"py-test-{now_ms()}"
        self.storage = storage
        self.buckets: dict[str, Bucket] = {}
        self.queries: dict[str, QueryDefinition] = {}
        self._listeners: list[ChangeListener] = []
        self._write_hooks: dict[str, list[WriteHook]] = {"complete": [], "check": []}
        self.active_subscriptions: Callable[[str | None], int] = lambda _q: 0

    # -- events -------------------------------------------------------------
    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(bucket, key)`` on every record change."""
        self._listeners.append(listener)

    def reset_listeners(self) -> None:
        """Remove every change listener and write hook (their owners are being replaced)."""
        self._listeners.clear()
        for hooks in self._write_hooks.values():
            hooks.clear()

    def add_write_hook(self, hook: WriteHook, stage: Literal["complete", "check"]) -> None:
        """Call ``hook(bucket, existing, record)`` for every record about to be written.

        Args:
            hook: The hook; ``existing`` is ``None`` for an insert.
            stage: ``"complete"`` runs before schema validation and may change
                the record; ``"check"`` runs after it and may refuse the record
                by raising a ``StoreError``.
        """
        self._write_hooks[stage].append(hook)

    def complete(
        self, bucket: Bucket, existing: Mapping[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Run the ``complete`` write hooks (called by buckets)."""
        for hook in self._write_hooks["complete"]:
            hook(bucket, existing, record)

    def check(
        self, bucket: Bucket, existing: Mapping[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Run the ``check`` write hooks (called by buckets)."""
        for hook in self._write_hooks["check"]:
            hook(bucket, existing, record)

    def _publish(self, bucket: str, key: Any) -> None:
        for listener in list(self._listeners):
            listener(bucket, key)

    # -- buckets ------------------------------------------------------------
    def bucket(self, name: str) -> Bucket:
        """The bucket called ``name``.

        Raises:
            BucketNotDefinedError: No such bucket.
        """
        found = self.buckets.get(name)
        if found is None:
            raise BucketNotDefinedError(f'Bucket "{name}" is not defined')
        return found

    def define_bucket(self, name: str, definition: Mapping[str, Any]) -> Bucket:
        """Define a bucket (§3.2 ``defineBucket``).

        Raises:
            BucketAlreadyExistsError: The name is taken.
            StoreError: The definition is invalid.
        """
        if name in self.buckets:
            raise BucketAlreadyExistsError(f'Bucket "{name}" already exists')
        bucket = Bucket(name, copy.deepcopy(dict(definition)), self._publish, self)
        if self.storage is not None and bucket.persistent:
            self.storage.load(bucket)
        self.buckets[name] = bucket
        return bucket

    def drop_bucket(self, name: str) -> None:
        """Drop a bucket and its records.

        Raises:
            BucketNotDefinedError: ``Bucket "<n>" does not exist``.
        """
        if name not in self.buckets:
            raise BucketNotDefinedError(f'Bucket "{name}" does not exist')
        del self.buckets[name]
        if self.storage is not None:
            self.storage.forget(name)

    def update_bucket(self, name: str, updates: Mapping[str, Any]) -> None:
        """Apply ``addFields`` / ``addIndexes`` / ``ttl`` updates.

        Raises:
            BucketNotDefinedError: No such bucket.
            StoreError: A field exists already or an index field is unknown.
        """
        bucket = self.bucket(name)
        add_fields = updates.get("addFields")
        if isinstance(add_fields, dict):
            bucket.add_fields(add_fields)
        add_indexes = updates.get("addIndexes")
        if isinstance(add_indexes, list):
            bucket.add_indexes(add_indexes)
        if "ttl" in updates:
            bucket.set_ttl(updates["ttl"])

    def bucket_schema(self, name: str) -> dict[str, Any]:
        """The stored definition of a bucket.

        Raises:
            BucketNotDefinedError: ``Bucket "<n>" does not exist``.
        """
        if name not in self.buckets:
            raise BucketNotDefinedError(f'Bucket "{name}" does not exist')
        return copy.deepcopy(self.buckets[name].definition)

    def purge_expired(self) -> int:
        """Delete records whose TTL has passed; returns how many."""
        now = now_ms()
        purged = 0
        for bucket in list(self.buckets.values()):
            for key in bucket.expired_keys(now):
                purged += bucket.delete(key)
        return purged

    # -- queries ------------------------------------------------------------
    def define_query(
        self, name: str, config: dict[str, Any] | None = None, function: QueryFunction | None = None
    ) -> None:
        """Define a declarative (``config``) or programmatic (``function``) query.

        Raises:
            BucketNotDefinedError: The declarative config names an unknown bucket.
            QueryAlreadyDefinedError: The name is taken.
        """
        if config is not None:
            bucket = config.get("bucket")
            if not isinstance(bucket, str) or bucket not in self.buckets:
                raise BucketNotDefinedError(f'Bucket "{js_str(bucket)}" is not defined')
        if name in self.queries:
            raise QueryAlreadyDefinedError(f'Query "{name}" is already defined')
        self.queries[name] = QueryDefinition(name, function, copy.deepcopy(config))

    def undefine_query(self, name: str) -> None:
        """Remove a query.

        Raises:
            QueryNotDefinedError: No such query.
        """
        if name not in self.queries:
            raise QueryNotDefinedError(f'Query "{name}" is not defined')
        del self.queries[name]

    def query(self, name: str) -> QueryDefinition:
        """The query called ``name``.

        Raises:
            QueryNotDefinedError: No such query.
        """
        found = self.queries.get(name)
        if found is None:
            raise QueryNotDefinedError(f'Query "{name}" is not defined')
        return found

    def run_query(self, name: str, params: Any) -> tuple[Any, QueryContext]:
        """Evaluate a query; returns the result and the context with its dependencies."""
        ctx = QueryContext(self.bucket)
        return self.query(name).run(ctx, params), ctx

    def list_queries(self) -> list[dict[str, Any]]:
        """``store.listQueries`` entries."""
        out: list[dict[str, Any]] = []
        for q in self.queries.values():
            entry: dict[str, Any] = {
                "name": q.name,
                "type": q.kind,
                "activeSubscriptions": self.active_subscriptions(q.name),
            }
            if q.config is not None:
                entry["config"] = copy.deepcopy(q.config)
            out.append(entry)
        return out

    # -- introspection ------------------------------------------------------
    def bucket_names(self) -> dict[str, Any]:
        """``store.buckets``: ``{count, names}`` in definition order."""
        names = list(self.buckets)
        return {"count": len(names), "names": names}

    def stats(self) -> dict[str, Any]:
        """``store.stats`` (§3.1)."""
        per_bucket = {n: len(b) for n, b in self.buckets.items()}
        per_index = {n: b.index_count for n, b in self.buckets.items()}
        return {
            "name": self.name,
            "buckets": self.bucket_names(),
            "records": {"total": sum(per_bucket.values()), "perBucket": per_bucket},
            "indexes": {"total": sum(per_index.values()), "perBucket": per_index},
            "queries": {
                "defined": len(self.queries),
                "activeSubscriptions": self.active_subscriptions(None),
            },
            "persistence": {"enabled": self.storage is not None},
            "ttl": {"enabled": True, "checkIntervalMs": 1000},
        }
