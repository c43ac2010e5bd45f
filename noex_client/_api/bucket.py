"""``BucketAPI``: record operations on one bucket (results are the server's JSON)."""

from __future__ import annotations

from typing import Any

from ._base import Requester

__all__ = ["BucketAPI"]


class BucketAPI:
    """Operations on the bucket ``name``; get it with ``client.store.bucket(name)``.

    Records are dicts including the metadata fields ``_version``,
    ``_createdAt`` and ``_updatedAt`` (and ``_expiresAt`` in TTL buckets).

    Every method may be called while connected and raises
    :class:`~noex_client.DisconnectedError` when not connected,
    :class:`~noex_client.RequestTimeoutError` on timeout, and the server's
    error otherwise (e.g. :class:`~noex_client.BucketNotDefinedError`,
    :class:`~noex_client.ValidationError` with the schema issues in ``details``).
    """

    __slots__ = ("_client", "name")

    def __init__(self, client: Requester, name: str) -> None:
        self._client = client
        self.name = name

    def __repr__(self) -> str:
        return f"BucketAPI(name={self.name!r})"

    # -- CRUD ------------------------------------------------------------------------------

    async def insert(self, data: dict[str, Any]) -> dict[str, Any]:
        """Insert a record; returns it with generated fields and metadata.

        Outside a transaction an existing primary key is overwritten.

        Raises:
            ValidationError: The record fails the bucket schema.
            AlreadyExistsError: A unique field clashes.
        """
        result: dict[str, Any] = await self._client.request(
            "store.insert", bucket=self.name, data=data
        )
        return result

    async def get(self, key: Any) -> dict[str, Any] | None:
        """The record stored under ``key``, or ``None``."""
        result: dict[str, Any] | None = await self._client.request(
            "store.get", bucket=self.name, key=key
        )
        return result

    async def update(self, key: Any, data: dict[str, Any]) -> dict[str, Any]:
        """Merge ``data`` into the record ``key``; returns the updated record.

        Raises:
            InternalServerError: No record ``key`` (the server reports it so).
            ValidationError: The merged record fails the bucket schema.
        """
        result: dict[str, Any] = await self._client.request(
            "store.update", bucket=self.name, key=key, data=data
        )
        return result

    async def delete(self, key: Any) -> None:
        """Delete the record ``key`` (no error when it does not exist)."""
        await self._client.request("store.delete", bucket=self.name, key=key)

    # -- queries ---------------------------------------------------------------------------

    async def all(self) -> list[dict[str, Any]]:
        """Every record, in table (insertion) order."""
        result: list[dict[str, Any]] = await self._client.request("store.all", bucket=self.name)
        return result

    async def where(self, filter: dict[str, Any]) -> list[dict[str, Any]]:
        """Records matching ``filter`` (``{field: value}`` or operators like ``$gt``)."""
        result: list[dict[str, Any]] = await self._client.request(
            "store.where", bucket=self.name, filter=filter
        )
        return result

    async def find_one(self, filter: dict[str, Any]) -> dict[str, Any] | None:
        """The first record matching ``filter``, or ``None``."""
        result: dict[str, Any] | None = await self._client.request(
            "store.findOne", bucket=self.name, filter=filter
        )
        return result

    async def count(self, filter: dict[str, Any] | None = None) -> int:
        """Number of records (matching ``filter`` when given)."""
        result = await self._client.request("store.count", bucket=self.name, filter=filter)
        return int(result)

    async def first(self, n: int) -> list[dict[str, Any]]:
        """The first ``n`` records (sorted by key in ``ordered_set`` buckets)."""
        result: list[dict[str, Any]] = await self._client.request(
            "store.first", bucket=self.name, n=n
        )
        return result

    async def last(self, n: int) -> list[dict[str, Any]]:
        """The last ``n`` records, in forward order."""
        result: list[dict[str, Any]] = await self._client.request(
            "store.last", bucket=self.name, n=n
        )
        return result

    async def paginate(self, limit: int, after: Any = None) -> dict[str, Any]:
        """One page: ``{"records": [...], "hasMore": bool, "nextCursor": key}``.

        Pass the previous page's ``nextCursor`` as ``after``. ``after=None``
        (the first page) omits the field: the server treats an explicit
        ``null`` cursor as a key and would return an empty page.
        """
        result: dict[str, Any] = await self._client.request(
            "store.paginate", bucket=self.name, limit=limit, after=after
        )
        return result

    # -- aggregation -----------------------------------------------------------------------

    async def sum(self, field: str, filter: dict[str, Any] | None = None) -> float:
        """Sum of the numeric values of ``field`` (``0`` when there are none).

        The number is returned as the server sent it (an ``int`` when integral).
        """
        result: float = await self._aggregate("store.sum", field, filter)
        return result

    async def avg(self, field: str, filter: dict[str, Any] | None = None) -> float:
        """Average of the numeric values of ``field`` (``0`` when there are none)."""
        result: float = await self._aggregate("store.avg", field, filter)
        return result

    async def min(self, field: str, filter: dict[str, Any] | None = None) -> float | None:
        """Smallest numeric value of ``field``, or ``None`` when there is none."""
        result: float | None = await self._aggregate("store.min", field, filter)
        return result

    async def max(self, field: str, filter: dict[str, Any] | None = None) -> float | None:
        """Largest numeric value of ``field``, or ``None`` when there is none."""
        result: float | None = await self._aggregate("store.max", field, filter)
        return result

    # -- bulk ------------------------------------------------------------------------------

    async def clear(self) -> None:
        """Remove every record.

        The server sends no change pushes for a clear: subscribers keep their
        last result until the next write.
        """
        await self._client.request("store.clear", bucket=self.name)

    async def _aggregate(self, op: str, field: str, filter: dict[str, Any] | None) -> Any:
        return await self._client.request(op, bucket=self.name, field=field, filter=filter)
