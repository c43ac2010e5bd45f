"""Unique-field checks for the backends that evaluate in Python (memory, SQLite)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._errors import AlreadyExists
from ._filters import MISSING, get_path, json_equal

__all__ = ["check_unique"]


def check_unique(
    collection: str,
    unique: tuple[str, ...],
    writes: list[tuple[str, dict[str, Any]]],
    others: Iterable[tuple[str, dict[str, Any]]],
) -> None:
    """Raise ``AlreadyExists`` if ``writes`` clash on a unique field with each other or ``others``.

    Missing and ``null`` values never clash. ``others`` must exclude the keys being written.

    Raises:
        AlreadyExists: naming the field and the value.
    """
    if not unique:
        return
    paths = [(field, tuple(field.split("."))) for field in unique]
    seen: dict[str, list[Any]] = {field: [] for field in unique}
    for _, doc in others:
        for field, path in paths:
            value = get_path(doc, path)
            if value is not MISSING and value is not None:
                seen[field].append(value)
    for key, doc in writes:
        for field, path in paths:
            value = get_path(doc, path)
            if value is MISSING or value is None:
                continue
            if any(json_equal(value, taken) for taken in seen[field]):
                raise AlreadyExists(collection, key, field=field, value=value)
            seen[field].append(value)
