"""``ProceduresAPI``: server-side procedures (register, call, administer)."""

from __future__ import annotations

from typing import Any

from ._base import Requester

__all__ = ["ProceduresAPI"]


class ProceduresAPI:
    """Server-side procedures; access it as ``client.procedures``.

    Registering, updating, unregistering and listing need the admin tier,
    ``call`` the write tier and ``get`` the read tier when the server uses auth.
    """

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "ProceduresAPI()"

    async def register(self, procedure: dict[str, Any]) -> dict[str, Any]:
        """Register ``procedure`` (``{"name", "steps", "input"?, ...}``);
        returns ``{"name", "registered": True}``.

        Raises:
            ValidationError: Invalid procedure (``details["issues"]`` lists why).
            AlreadyExistsError: The name is taken.
        """
        result: dict[str, Any] = await self._client.request(
            "procedures.register", procedure=procedure
        )
        return result

    async def call(self, name: str, input: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run procedure ``name`` with ``input`` (``{}`` when omitted); returns
        ``{"success", "result"?, "results"}``.

        Raises:
            NotFoundError: No such procedure.
            ValidationError: ``input`` does not fit the procedure's input schema.
            InternalServerError: A step failed (the message says which).
        """
        result: dict[str, Any] = await self._client.request(
            "procedures.call", name=name, input={} if input is None else input
        )
        return result

    async def get(self, name: str) -> dict[str, Any]:
        """The stored procedure ``name``, as registered.

        Raises:
            NotFoundError: No such procedure.
        """
        result: dict[str, Any] = await self._client.request("procedures.get", name=name)
        return result

    async def list(self) -> dict[str, Any]:
        """``{"procedures": [{"name", "description"?, "stepsCount"}]}``."""
        result: dict[str, Any] = await self._client.request("procedures.list")
        return result

    async def update(self, name: str, updates: dict[str, Any]) -> dict[str, Any]:
        """Shallow-merge ``updates`` into procedure ``name``; returns
        ``{"name", "updated": True}``.

        Raises:
            NotFoundError: No such procedure.
            ValidationError: The merged procedure is invalid.
        """
        result: dict[str, Any] = await self._client.request(
            "procedures.update", name=name, updates=updates
        )
        return result

    async def unregister(self, name: str) -> dict[str, Any]:
        """Remove procedure ``name``; returns ``{"name", "unregistered": True}``.

        Raises:
            NotFoundError: No such procedure.
        """
        result: dict[str, Any] = await self._client.request("procedures.unregister", name=name)
        return result
