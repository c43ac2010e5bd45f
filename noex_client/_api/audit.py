"""``AuditAPI``: query the server's audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Requester, camel_keys, unwrap

__all__ = ["AuditAPI"]


class AuditAPI:
    """The audit log; access it as ``client.audit`` (admin tier)."""

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "AuditAPI()"

    async def query(self, filter: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Audit entries, newest first: ``[{"timestamp", "userId", "sessionId",
        "operation", "resource", "result", "error"?, "details"?, "remoteAddress"}]``.

        ``filter`` keys (all optional): ``userId``, ``operation``, ``result``
        (``"success"``/``"error"``), ``from`` and ``to`` (ms, inclusive),
        ``limit``. snake_case keys (``user_id``) are accepted too. Keys whose
        value is ``None`` are not sent (the server validates every key present).

        Raises:
            TypeError: ``filter`` is not a dict.
            ValidationError: A filter value has the wrong type.
            UnknownOperationError: The server has no audit log.
            ForbiddenError: Not an admin.
        """
        fields = camel_keys(filter, "audit filter")
        result = await self._client.request("audit.query", **fields)
        entries: list[dict[str, Any]] = unwrap(result, "entries", "audit.query")
        return entries
