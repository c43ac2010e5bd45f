"""``store.transaction``: buffered writes, read-your-own-writes, commit (§3.4).

Operations are validated by the dispatcher; this module runs them. Writes are
buffered per bucket and applied at commit, all or nothing. Reads see the
buffer. The commit fails with ``CONFLICT`` when a buffered insert meets an
existing key or when a record's version moved since the transaction read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._values import UNDEFINED, js_str, to_key
from .buckets import Bucket
from .errors import StoreError, TransactionConflictError
from .filters import matches
from .store import Store

__all__ = ["Transaction", "run_transaction"]

_DELETED: Any = object()


class _Overlay:
    """Buffered writes of one bucket."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self.writes: dict[Any, Any] = {}  # hkey -> record or _DELETED
        self.ops: dict[Any, tuple[str, Any, Any]] = {}  # hkey -> (op, expected version, key)

    def read(self, key: Any) -> dict[str, Any] | None:
        hkey = to_key(key)
        if hkey in self.writes:
            found = self.writes[hkey]
            return None if found is _DELETED else dict(found)
        return self.bucket.get(key)

    def view(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for record in self.bucket.records():
            hkey = to_key(record.get(self.bucket.key_field, UNDEFINED))
            if hkey in self.writes:
                if self.writes[hkey] is not _DELETED:
                    out.append(self.writes[hkey])
            else:
                out.append(record)
        out.extend(
            r
            for hkey, r in self.writes.items()
            if r is not _DELETED and self.bucket.get(r.get(self.bucket.key_field)) is None
        )
        return out


class Transaction:
    """A running transaction: reads see its buffered writes, :meth:`commit` applies them.

    Args:
        store: The store the transaction reads from and commits to.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._overlays: dict[str, _Overlay] = {}

    def run(self, op: Mapping[str, Any]) -> Any:
        """Run one validated operation ``{op, bucket, key?, data?, filter?}``.

        Returns:
            The operation's result (§3.4).

        Raises:
            StoreError: An unknown bucket or a missing record (INTERNAL_ERROR).
            ValidationFailedError: A schema failure.
        """
        name = str(op["bucket"])
        overlay = self._overlays.get(name)
        if overlay is None:
            bucket = self._store.buckets.get(name)
            if bucket is None:
                raise StoreError(f'Bucket "{name}" is not defined')
            overlay = self._overlays[name] = _Overlay(bucket)
        return _run_op(overlay, op)

    def commit(self) -> None:
        """Apply the buffered writes, all or nothing.

        Raises:
            TransactionConflictError: A commit conflict.
            UniqueConstraintError: A unique clash.
        """
        _commit(list(self._overlays.values()))


def run_transaction(store: Store, operations: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Run validated transaction operations and commit them.

    Returns:
        ``[{"index", "data"}]``, one entry per operation.

    Raises:
        StoreError: An unknown bucket or a missing record (INTERNAL_ERROR).
        ValidationFailedError: A schema failure.
        TransactionConflictError: A commit conflict.
        UniqueConstraintError: A unique clash at commit.
    """
    transaction = Transaction(store)
    results = [{"index": i, "data": transaction.run(op)} for i, op in enumerate(operations)]
    transaction.commit()
    return results


def _run_op(overlay: _Overlay, op: Mapping[str, Any]) -> Any:
    kind = op["op"]
    bucket = overlay.bucket
    if kind == "get":
        return overlay.read(op["key"])
    if kind == "insert":
        record = bucket.build(op["data"])
        key = record.get(bucket.key_field, UNDEFINED)
        hkey = to_key(key)
        overlay.writes[hkey] = record
        overlay.ops.setdefault(hkey, ("insert", None, key))
        return record
    if kind == "update":
        key = op["key"]
        existing = overlay.read(key)
        if existing is None:
            raise StoreError(f'Record with key "{js_str(key)}" not found in bucket "{bucket.name}"')
        record = bucket.build_update(existing, op["data"])
        hkey = to_key(key)
        overlay.writes[hkey] = record
        overlay.ops.setdefault(hkey, ("update", existing.get("_version"), key))
        return record
    if kind == "delete":
        key = op["key"]
        existing = overlay.read(key)
        hkey = to_key(key)
        if existing is not None:
            previous = overlay.ops.get(hkey)
            if previous is not None and previous[0] == "insert":
                del overlay.ops[hkey]
                del overlay.writes[hkey]
            else:
                # The store checks a delete against the version it last saw,
                # so an update followed by a delete always conflicts.
                overlay.ops[hkey] = ("delete", existing.get("_version"), key)
                overlay.writes[hkey] = _DELETED
        return {"deleted": True}
    flt = op.get("filter")
    rows = [r for r in overlay.view() if not isinstance(flt, dict) or matches(r, flt)]
    if kind == "where":
        return rows
    if kind == "findOne":
        return rows[0] if rows else None
    return len(rows)  # count


def _conflict(bucket: str, key: Any, reason: str) -> TransactionConflictError:
    return TransactionConflictError(
        f'Transaction conflict in bucket "{bucket}" for key "{js_str(key)}": {reason}',
        {"bucket": bucket, "key": key},
    )


def _commit(overlays: list[_Overlay]) -> None:
    for overlay in overlays:
        bucket = overlay.bucket
        for _hkey, (kind, expected, key) in overlay.ops.items():
            current = bucket.get(key)
            if kind == "insert":
                if current is not None:
                    raise _conflict(
                        bucket.name, key, f'Record with key "{js_str(key)}" already exists'
                    )
                continue
            actual = None if current is None else current.get("_version")
            if actual != expected:
                raise _conflict(
                    bucket.name,
                    key,
                    f"Version mismatch: expected {js_str(expected)}, got {js_str(actual)}",
                )
        for hkey, record in overlay.writes.items():
            if record is not _DELETED and hkey in overlay.ops:
                bucket.check_unique(record)
    for overlay in overlays:
        for hkey, record in overlay.writes.items():
            if hkey not in overlay.ops:
                continue
            if record is _DELETED:
                overlay.bucket.delete(overlay.ops[hkey][2])
            else:
                overlay.bucket.put(record)
