"""noex records ``{key, doc, _version, _createdAt, _updatedAt}`` to ``Stored``."""

from __future__ import annotations

from typing import Any

from ..._stored import Stored, from_millis

__all__ = ["record_to_stored"]


def record_to_stored(record: dict[str, Any]) -> Stored:
    """Turn a noex record into :class:`~adapters._stored.Stored` (ms epochs become UTC)."""
    doc = record.get("doc")
    return Stored(
        str(record.get("key")),
        doc if isinstance(doc, dict) else {},
        int(record.get("_version", 1)),
        from_millis(record.get("_createdAt", 0)),
        from_millis(record.get("_updatedAt", 0)),
    )
