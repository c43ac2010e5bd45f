"""``Collection[T]``: the shared front half of every backend.

A backend subclasses :class:`Collection` and implements only the storage
primitives (the ``_``-prefixed abstract methods below), working on plain JSON
documents (:class:`~adapters._stored.Stored`). This class does everything
else: argument checks, filter validation before any I/O, model encoding and
decoding, typed-mode validation of merged updates, ``find_one``/``exists``,
and ``watch`` filtering.

Backends that evaluate in Python subclass
:class:`~adapters._engine.EngineCollection` instead, which implements these
primitives with the row engine; PostgreSQL and NATS implement them directly.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._changes import ChangeStream
from ._codec import Codec
from ._errors import Conflict, NotFound
from ._filters import FilterNode, SortKey, compile_filter, parse_order
from ._keys import check_key, uuid4_strings
from ._records import Page, Record, make_record
from ._stored import Stored, Subscription

if TYPE_CHECKING:
    from ._store import Store

__all__ = ["Collection", "check_key", "uuid4_strings"]

T = TypeVar("T")


def _check_version(if_version: Any) -> int | None:
    if if_version is None:
        return None
    if isinstance(if_version, bool) or not isinstance(if_version, int) or if_version < 1:
        raise ValueError(f"if_version must be a positive int, got {if_version!r}")
    return if_version


class Collection(abc.ABC, Generic[T]):
    """A named set of records in a :class:`~adapters.Store`. Obtain it with ``store.collection()``.

    Every operation is async and may raise :class:`~adapters.BackendUnavailable`
    when the backend cannot be reached, or when the store is closed.
    """

    def __init__(
        self,
        store: Store,
        name: str,
        model: type[T] | None,
        indexes: Sequence[str],
        unique: Sequence[str],
    ) -> None:
        self._store = store
        self._name = name
        self._codec: Codec[T] = Codec(name, model)
        self._indexes = tuple(indexes)
        self._unique = tuple(unique)
        self._unique_paths = tuple(tuple(field.split(".")) for field in self._unique)

    @property
    def name(self) -> str:
        """The collection name."""
        return self._name

    @property
    def model(self) -> type[T] | None:
        """The msgspec model of a typed collection, ``None`` when untyped."""
        return self._codec.model

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} of {self._store!r}>"

    # -- storage primitives (implemented by each backend) -------------------

    @abc.abstractmethod
    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        """Insert all ``docs`` atomically; ``AlreadyExists`` on a key or unique clash."""

    @abc.abstractmethod
    async def _get(self, key: str) -> Stored | None:
        """Return the stored document or ``None``."""

    @abc.abstractmethod
    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        """Shallow-merge ``changes``; ``NotFound``/``Conflict``/``AlreadyExists`` (unique)."""

    @abc.abstractmethod
    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        """Overwrite the document; ``NotFound``/``Conflict``/``AlreadyExists`` (unique)."""

    @abc.abstractmethod
    async def _delete(self, key: str, if_version: int | None) -> bool:
        """Delete; ``False`` when absent, ``Conflict`` on a version mismatch."""

    @abc.abstractmethod
    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        """Return the matching documents, ordered (ties by key), sliced."""

    @abc.abstractmethod
    async def _count(self, where: FilterNode | None) -> int:
        """Count the matching documents."""

    @abc.abstractmethod
    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        """Return up to ``limit`` documents with key > ``after``, in key order."""

    @abc.abstractmethod
    async def _clear(self) -> int:
        """Remove every document; return how many there were."""

    @abc.abstractmethod
    async def _subscribe(self, since: str | None) -> Subscription:
        """Open a change feed starting now, or right after the change at cursor ``since``.

        Raises:
            CursorExpired: changes after ``since`` are no longer retained.
        """

    def _check_since(self, since: str) -> None:
        """Validate a cursor without I/O (its format is the backend's).

        Raises:
            TypeError, ValueError: not a cursor of this backend.
            NotImplementedError: the backend cannot resume feeds.
        """

    # -- the public operations ---------------------------------------------

    def _record(self, stored: Stored) -> Record[T]:
        return make_record(
            stored.key,
            self._codec.decode(stored.data, stored.key),
            stored.version,
            stored.created_at,
            stored.updated_at,
        )

    def _records(self, rows: list[Stored]) -> list[Record[T]]:
        """``[self._record(s) for s in rows]``, without a decode call per row when untyped."""
        if self.model is not None:
            return [self._record(s) for s in rows]
        # Untyped decode hands back the stored document itself.
        return [
            make_record(s.key, cast(T, s.data), s.version, s.created_at, s.updated_at) for s in rows
        ]

    def _new_key(self, key: str | None) -> str:
        return str(uuid.uuid4()) if key is None else check_key(key)

    async def insert(self, data: T | Mapping[str, Any], *, key: str | None = None) -> Record[T]:
        """Insert a new record.

        Args:
            data: The document (a mapping, or the model instance in typed mode).
            key: The key; a UUID4 string is generated when omitted.

        Raises:
            AlreadyExists: the key exists, or a unique field value is taken.
            ValidationError: typed mode and ``data`` does not fit the model.
        """
        self._store._check_open()
        key = self._new_key(key)
        doc = self._codec.encode(data, key)
        (stored,) = await self._insert([(key, doc)])
        return self._record(stored)

    async def insert_many(self, items: Iterable[T | Mapping[str, Any]]) -> list[Record[T]]:
        """Insert several new records as one batch (atomic where the backend allows).

        Keys are generated, unless an item is a mapping with a string ``"_key"``
        entry (untyped mode), which is used and removed from the document.

        Raises:
            AlreadyExists: a key or unique value clashes (nothing is written).
        """
        self._store._check_open()
        values = list(items)
        if not values:
            return []
        keys = uuid4_strings(len(values))
        docs = self._encode_fast(values, keys)
        if docs is None:
            docs = self._encode_each(values, keys)
        return self._records(await self._insert(list(zip(keys, docs, strict=True))))

    def _encode_fast(self, values: list[Any], keys: list[str]) -> list[dict[str, Any]] | None:
        """Untyped batches of plain dicts: encode all in one go, or ``None`` if anything is off.

        Only on success are ``"_key"`` entries taken into ``keys``; on ``None``
        the caller runs :meth:`_encode_each`, which raises the first error in
        item order exactly as a one-by-one encode would.
        """
        if self.model is not None or set(map(type, values)) != {dict}:
            return None
        taken: dict[int, str] = {}
        if any(map(dict.__contains__, values, repeat("_key"))):
            values = values.copy()
            for i, item in enumerate(values):
                if "_key" in item:
                    item = dict(item)
                    try:
                        taken[i] = check_key(item.pop("_key"))
                    except (TypeError, ValueError):
                        return None
                    values[i] = item
        docs = self._codec.encode_batch(values)
        if docs is None:
            return None
        for i, key in taken.items():
            keys[i] = key
        return docs

    def _encode_each(self, values: list[Any], keys: list[str]) -> list[dict[str, Any]]:
        """Encode ``values`` one by one, taking ``"_key"`` entries into ``keys`` in place.

        Raises the error of the first bad item, key or document, in item order.
        """
        docs: list[dict[str, Any]] = []
        untyped = self.model is None
        for i, item in enumerate(values):
            if untyped and isinstance(item, Mapping) and "_key" in item:
                item = dict(item)
                keys[i] = check_key(item.pop("_key"))
            docs.append(self._codec.encode(item, keys[i]))
        return docs

    async def get(self, key: str) -> Record[T] | None:
        """Return the record with ``key``, or ``None``.

        Raises:
            ValidationError: typed mode and the stored document no longer fits the model.
        """
        self._store._check_open()
        stored = await self._get(check_key(key))
        return None if stored is None else self._record(stored)

    async def update(
        self, key: str, changes: Mapping[str, Any], *, if_version: int | None = None
    ) -> Record[T]:
        """Shallow-merge ``changes`` into the record.

        Raises:
            NotFound: no record with ``key``.
            Conflict: ``if_version`` is given and differs from the stored version.
            AlreadyExists: the merged document clashes on a unique field.
            ValidationError: typed mode and the merged document does not fit the model.
        """
        self._store._check_open()
        check_key(key)
        expected = _check_version(if_version)
        patch = self._codec.encode_changes(changes, key)
        if self.model is None:
            return self._record(await self._update(key, patch, expected))
        # Typed mode validates the merged document before it is written:
        # read, merge, validate, then compare-and-set on the version read.
        while True:
            current = await self._get(key)
            if current is None:
                raise NotFound(self._name, key)
            if expected is not None and current.version != expected:
                raise Conflict(self._name, key, expected, current.version)
            merged = self._codec.encode({**current.data, **patch}, key)
            try:
                return self._record(await self._replace(key, merged, current.version))
            except Conflict:
                if expected is not None:
                    raise
                # Someone else wrote in between; without if_version, retry on the new state.

    async def replace(
        self, key: str, data: T | Mapping[str, Any], *, if_version: int | None = None
    ) -> Record[T]:
        """Overwrite the whole document of an existing record.

        Raises:
            NotFound: no record with ``key``.
            Conflict: ``if_version`` is given and differs from the stored version.
            AlreadyExists: the document clashes on a unique field.
            ValidationError: typed mode and ``data`` does not fit the model.
        """
        self._store._check_open()
        check_key(key)
        expected = _check_version(if_version)
        doc = self._codec.encode(data, key)
        return self._record(await self._replace(key, doc, expected))

    async def delete(self, key: str, *, if_version: int | None = None) -> bool:
        """Delete the record; ``True`` if it existed.

        Raises:
            Conflict: ``if_version`` is given and differs from the stored version.
        """
        self._store._check_open()
        return await self._delete(check_key(key), _check_version(if_version))

    async def find(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Record[T]]:
        """Return the records matching ``where``.

        Args:
            where: A filter (see the filter language), ``None`` for all records.
            order_by: ``"field"``, ``"-field"`` (descending) or a list of them;
                ties and the default order are by key.
            limit: At most this many records (``None``: no limit).
            offset: Skip this many records first.

        Raises:
            FilterError: ``where`` or ``order_by`` is malformed (before any I/O).
        """
        self._store._check_open()
        node = compile_filter(where)
        order = parse_order(order_by)
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValueError(f"limit must be a non-negative int or None, got {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a non-negative int, got {offset!r}")
        if limit == 0:
            return []
        return self._records(await self._find(node, order, limit, offset))

    async def find_one(
        self, where: Mapping[str, Any] | None = None, *, order_by: str | Sequence[str] | None = None
    ) -> Record[T] | None:
        """Return the first record matching ``where`` (by ``order_by``, then key), or ``None``."""
        found = await self.find(where, order_by=order_by, limit=1)
        return found[0] if found else None

    async def count(self, where: Mapping[str, Any] | None = None) -> int:
        """Count the records matching ``where``.

        Raises:
            FilterError: ``where`` is malformed (before any I/O).
        """
        self._store._check_open()
        return await self._count(compile_filter(where))

    async def exists(self, key: str) -> bool:
        """Whether a record with ``key`` exists."""
        self._store._check_open()
        return await self._get(check_key(key)) is not None

    async def page(self, limit: int, after: str | None = None) -> Page[T]:
        """Return one page of records in stable key order.

        Args:
            limit: Page size (>= 1).
            after: The ``next_cursor`` of the previous page, ``None`` for the first page.
        """
        self._store._check_open()
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"page limit must be a positive int, got {limit!r}")
        if after is not None:
            check_key(after)
        rows = await self._page(limit + 1, after)
        has_more = len(rows) > limit
        rows = rows[:limit]
        records = self._records(rows)
        cursor = rows[-1].key if has_more else None
        return Page(records, cursor, has_more)

    async def clear(self) -> int:
        """Remove every record; return how many were removed."""
        self._store._check_open()
        return await self._clear()

    def watch(
        self, where: Mapping[str, Any] | None = None, *, since: str | None = None
    ) -> ChangeStream[T]:
        """Stream the changes of this collection, from now on or from a cursor.

        Use ``async with coll.watch() as changes: async for change in changes: ...``
        to be sure the feed is established before writing; a bare ``async for``
        starts the feed at its first iteration. Deletions are filtered on the
        old record when the backend knows it, and always delivered otherwise.

        Every :class:`~adapters.Change` carries a ``cursor``. Keep the cursor of
        the last change you handled; ``watch(since=cursor)`` first delivers, in
        order, every change after it, then continues live, with no gap and no
        duplicate in between.

        Args:
            where: Deliver only changes whose record (the old one for
                deletions) matches this filter.
            since: A ``Change.cursor`` of this collection; ``None`` starts from now.

        Raises:
            FilterError: ``where`` is malformed (raised here, before any I/O).
            TypeError, ValueError: ``since`` is not a cursor of this backend (raised here).
            NotImplementedError: ``since`` was given and the backend keeps no
                change history (noex-server; raised here).
            CursorExpired: when the feed starts (entering ``async with`` or the
                first iteration), if changes after ``since`` are no longer
                retained; also later, if a feed falls so far behind that the
                changes it has yet to deliver get pruned.
        """
        self._store._check_open()
        node = compile_filter(where)
        if since is not None:
            if not isinstance(since, str):
                raise TypeError(f"since must be a cursor string, got {type(since).__name__}")
            self._check_since(since)
        return ChangeStream(self, node, since)
