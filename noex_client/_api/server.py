"""``ServerAPI``: server introspection."""

from __future__ import annotations

from typing import Any

from ._base import Requester

__all__ = ["ServerAPI"]


class ServerAPI:
    """Server introspection; access it as ``client.server`` (admin tier)."""

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "ServerAPI()"

    async def stats(self) -> dict[str, Any]:
        """``{"name", "connectionCount", "authEnabled", "rateLimitEnabled",
        "rulesEnabled", "connections": {...}, "store": {...}, "rules": {...} | None}``.

        Raises:
            ForbiddenError: Not an admin.
        """
        result: dict[str, Any] = await self._client.request("server.stats")
        return result

    async def connections(self) -> list[dict[str, Any]]:
        """One entry per open connection: ``{"connectionId", "remoteAddress",
        "connectedAt", "authenticated", "userId", "roles", ...}``.

        Raises:
            ForbiddenError: Not an admin.
        """
        result: list[dict[str, Any]] = await self._client.request("server.connections")
        return result
