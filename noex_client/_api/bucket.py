"""``BucketAPI``: record operations on one bucket."""

from __future__ import annotations

from typing import Any

from ._base import Requester

__all__ = ["BucketAPI"]


class BucketAPI:
    """Operations on the bucket ``name``; get it with ``client.store.bucket(name)``.

    Every method raises :class:`~noex_client.DisconnectedError` when not
    connected, :class:`~noex_client.RequestTimeoutError` on timeout, and the
    server's error otherwise (e.g. :class:`~noex_client.BucketNotDefinedError`).
    """

    __slots__ = ("_client", "name")

    def __init__(self, client: Requester, name: str) -> None:
        self._client = client
        self.name = name

    def __repr__(self) -> str:
        return f"BucketAPI(name={self.name!r})"

    async def insert(self, data: dict[str, Any]) -> dict[str, Any]:
        """Insert a record; returns it with generated fields and metadata."""
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
        """Merge ``data`` into the record ``key``; returns the updated record."""
        result: dict[str, Any] = await self._client.request(
            "store.update", bucket=self.name, key=key, data=data
        )
        return result

    async def delete(self, key: Any) -> None:
        """Delete the record ``key`` (no error when it does not exist)."""
        await self._client.request("store.delete", bucket=self.name, key=key)

    async def all(self) -> list[dict[str, Any]]:
        """Every record, in table order."""
        result: list[dict[str, Any]] = await self._client.request("store.all", bucket=self.name)
        return result

    async def where(self, filter: dict[str, Any]) -> list[dict[str, Any]]:
        """Records matching ``filter``."""
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
        result: int = await self._client.request("store.count", bucket=self.name, filter=filter)
        return result
