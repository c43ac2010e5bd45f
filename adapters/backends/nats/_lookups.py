"""Synchronous index lookups served from a collection's in-memory mirror."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._errors import AdapterError, FilterError
from ..._records import Record
from ..._stored import Stored
from ._base import NatsBase
from ._core import CollectionCore
from ._mirror import Entry, index_value

__all__ = ["MirrorLookups"]


class MirrorLookups:
    """``lookup``/``lookup_one`` for :class:`NatsCollection` (mixed in)."""

    _core: CollectionCore
    _store: NatsBase
    _name: str

    if TYPE_CHECKING:

        def _record(self, stored: Stored) -> Record[Any]: ...  # provided by Collection

    def _index_of(self, field: str) -> dict[Any, set[str]]:
        self._store._check_open()
        core = self._core
        if not core.loaded:
            raise AdapterError(
                f"collection {self._name!r} is not loaded; await load() (or any operation) first"
            )
        table = core.mirror.indexed(field)
        if table is None:
            raise FilterError(f"{field!r} is not an indexed field of {self._name!r}", path=field)
        return table

    def _cached(self, entry: Entry) -> Record[Any]:
        record = entry.record
        if record is None:
            record = entry.record = self._record(entry.stored())
        return record  # type: ignore[no-any-return]

    def lookup(self, field: str, value: Any) -> list[Record[Any]]:
        """Records whose indexed ``field`` equals ``value``, in key order, without I/O.

        The synchronous counterpart of ``find({field: value})`` for INDEX/UNIQUE
        (and declared) fields, served from the in-memory mirror like brainlessdb's
        ``find()``: it reads what the mirror holds now (``reads=local`` semantics,
        whatever the store's ``reads`` option). Each Record is built once per record
        version and then shared by every lookup that returns it: treat its
        ``data`` as read-only (a change to the record replaces the Record, it is
        never modified in place); ``get``/``find`` return private copies.

        Raises:
            FilterError: ``field`` has no index (names it).
            AdapterError: the collection is not loaded yet (``await coll.load()``).
            BackendUnavailable: the store is closed.
            ValidationError: a stored document no longer fits the model.
        """
        keys = self._index_of(field).get(index_value(value))
        if not keys:
            return []
        get = self._core.mirror.get
        found = []
        for key in sorted(keys):
            entry = get(key)
            if entry is not None:
                found.append(self._cached(entry))
        return found

    def lookup_one(self, field: str, value: Any) -> Record[Any] | None:
        """One record whose indexed ``field`` equals ``value``, or ``None``, without I/O.

        For a UNIQUE field that is *the* record; for a plain index it is any one of
        the matches (no ordering work: use :meth:`lookup` or ``find_one`` when the
        choice matters). Same semantics and errors as :meth:`lookup`.
        """
        keys = self._index_of(field).get(index_value(value))
        if not keys:
            return None
        mirror = self._core.mirror
        if not mirror.duplicates:
            for key in keys:
                return self._cached(mirror.entries[key])
        for key in keys:
            entry = mirror.get(key)
            if entry is not None:
                return self._cached(entry)
        return None
