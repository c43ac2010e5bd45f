"""``TypedBucketAPI``: a bucket whose records are ``msgspec.Struct`` instances."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from .._models import Page, decode_as, encode_record
from .bucket import BucketAPI

__all__ = ["TypedBucketAPI"]

S = TypeVar("S", bound=msgspec.Struct)


class TypedBucketAPI(Generic[S]):
    """The operations of :class:`BucketAPI`, returning and accepting ``model`` instances.

    Get it with ``client.store.bucket(name, model=Model)``. Writes accept a
    model instance or a plain dict; every record returned is converted to
    ``model`` (inherit :class:`~noex_client.RecordMeta` to receive the metadata
    fields).

    Raises (every method): what :class:`BucketAPI` raises, plus
    :class:`~noex_client.ModelDecodeError` naming the field when a record does
    not fit the model.
    """

    __slots__ = ("_list", "_page", "model", "raw")

    def __init__(self, bucket: BucketAPI, model: type[S]) -> None:
        self.raw = bucket
        self.model = model
        self._list: type[list[S]] = list[model]  # type: ignore[valid-type]
        self._page: type[Page[S]] = Page[model]  # type: ignore[valid-type]

    @property
    def name(self) -> str:
        """The bucket name."""
        return self.raw.name

    def __repr__(self) -> str:
        return f"TypedBucketAPI(name={self.name!r}, model={self.model.__name__})"

    def _one(self, data: Any) -> S:
        return decode_as(data, self.model)

    def _many(self, data: Any) -> list[S]:
        return decode_as(data, self._list, name=f"list[{self.model.__name__}]")

    async def insert(self, data: S | Mapping[str, Any]) -> S:
        """Insert a record (``None`` fields of a model are left to the server)."""
        return self._one(await self.raw.insert(encode_record(data, drop_none=True)))

    async def get(self, key: Any) -> S | None:
        """The record ``key`` as a model, or ``None``."""
        data = await self.raw.get(key)
        return None if data is None else self._one(data)

    async def update(self, key: Any, data: S | Mapping[str, Any]) -> S:
        """Merge ``data`` into record ``key`` (a model sends all its fields)."""
        return self._one(await self.raw.update(key, encode_record(data, drop_none=False)))

    async def delete(self, key: Any) -> None:
        """Delete the record ``key``."""
        await self.raw.delete(key)

    async def all(self) -> list[S]:
        """Every record."""
        return self._many(await self.raw.all())

    async def where(self, filter: dict[str, Any]) -> list[S]:
        """Records matching ``filter``."""
        return self._many(await self.raw.where(filter))

    async def find_one(self, filter: dict[str, Any]) -> S | None:
        """The first record matching ``filter``, or ``None``."""
        data = await self.raw.find_one(filter)
        return None if data is None else self._one(data)

    async def count(self, filter: dict[str, Any] | None = None) -> int:
        """Number of records (matching ``filter`` when given)."""
        return await self.raw.count(filter)

    async def first(self, n: int) -> list[S]:
        """The first ``n`` records."""
        return self._many(await self.raw.first(n))

    async def last(self, n: int) -> list[S]:
        """The last ``n`` records, in forward order."""
        return self._many(await self.raw.last(n))

    async def paginate(self, limit: int, after: Any = None) -> Page[S]:
        """One :class:`~noex_client.Page` of records; ``after`` as in :meth:`BucketAPI.paginate`."""
        data = await self.raw.paginate(limit=limit, after=after)
        return decode_as(data, self._page, name=f"Page[{self.model.__name__}]")

    async def sum(self, field: str, filter: dict[str, Any] | None = None) -> float:
        """Sum of ``field``."""
        return await self.raw.sum(field, filter)

    async def avg(self, field: str, filter: dict[str, Any] | None = None) -> float:
        """Average of ``field``."""
        return await self.raw.avg(field, filter)

    async def min(self, field: str, filter: dict[str, Any] | None = None) -> float | None:
        """Minimum of ``field``, or ``None``."""
        return await self.raw.min(field, filter)

    async def max(self, field: str, filter: dict[str, Any] | None = None) -> float | None:
        """Maximum of ``field``, or ``None``."""
        return await self.raw.max(field, filter)

    async def clear(self) -> None:
        """Remove every record."""
        await self.raw.clear()
