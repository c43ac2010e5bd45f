"""noex records ``{key, doc, _version, _createdAt, _updatedAt}`` to ``Stored``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..._stored import Stored

__all__ = ["record_to_stored"]


def _datetime(ms: Any) -> datetime:
    return datetime.fromtimestamp(float(ms) / 1000.0, tz=UTC)


def record_to_stored(record: dict[str, Any]) -> Stored:
    """Turn a noex record into :class:`~adapters._stored.Stored` (ms epochs become UTC)."""
    doc = record.get("doc")
    return Stored(
        str(record.get("key")),
        doc if isinstance(doc, dict) else {},
        int(record.get("_version", 1)),
        _datetime(record.get("_createdAt", 0)),
        _datetime(record.get("_updatedAt", 0)),
    )
