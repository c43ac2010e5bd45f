"""The in-memory mirror of one collection, fed by its buckets' KV feeds.

A record is visible when its config row exists; its state and app-local parts
come from their own buckets and are joined in whenever either side changes. Each
part only moves forward: an entry older than the one held (by KV revision) is
ignored, which makes our own write echoes and replays after a reconnect no-ops.
Secondary indexes map ``field -> value -> keys`` for declared fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ._layout import Layout
from ._wire import ConfigValue, Meta

__all__ = ["Entry", "Listener", "Mirror", "index_value"]

logger = logging.getLogger("adapters")

Listener = Callable[[str, "Entry | None", "Entry | None", bool], None]
"""``(key, old, new, local)``: ``old``/``new`` are ``None`` for inserts/deletes."""


def index_value(value: Any) -> Any:
    """A hashable stand-in for a JSON value; ``True`` and ``1`` stay distinct."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z", None)
    return ("j", msgspec.json.encode(value))


@dataclass
class Entry:
    """One visible record with the revisions of its parts."""

    key: str
    revision: int
    meta: Meta
    writer: str
    data: Any
    doc: dict[str, Any]
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Part:
    revision: int
    value: Any


class Mirror:
    """Records of one collection, kept current from KV events."""

    def __init__(self, layout: Layout, on_invalid: Callable[[str, str, bytes, str], None]) -> None:
        self.layout = layout
        self._on_invalid = on_invalid
        self._configs: dict[str, _Part] = {}
        self._states: dict[str, _Part] = {}
        self._locals: dict[str, _Part] = {}
        self._gone: dict[str, int] = {}
        self.entries: dict[str, Entry] = {}
        self._index: dict[str, dict[Any, set[str]]] = {f: {} for f in layout.index_fields}
        self.listeners: list[Listener] = []
        self.quarantined: set[str] = set()

    # -- applying KV entries -------------------------------------------------

    def apply_config(
        self, key: str, raw: bytes | None, value: ConfigValue | None, revision: int, local: bool
    ) -> None:
        """Apply a config row (``value``) or its deletion (``value is None``)."""
        held = self._configs.get(key)
        if (held is not None and held.revision >= revision) or self._gone.get(key, 0) >= revision:
            return
        if value is None:
            self._configs.pop(key, None)
            self._gone[key] = revision
            self.quarantined.discard(key)
        else:
            self._configs[key] = _Part(revision, value)
        self._rebuild(key, raw, local)

    def apply_state(
        self, key: str, value: dict[str, Any] | None, revision: int, local: bool
    ) -> None:
        """Apply a ``-State`` row; ``None`` drops the part."""
        self._apply_part(self._states, key, value, revision, local)

    def apply_local(self, key: str, value: Any, revision: int, local: bool) -> None:
        """Apply this namespace's app-local row; ``None`` drops the part."""
        self._apply_part(self._locals, key, value, revision, local)

    def _apply_part(
        self, parts: dict[str, _Part], key: str, value: Any, revision: int, local: bool
    ) -> None:
        held = parts.get(key)
        if held is not None and held.revision >= revision:
            return
        if value is None:
            parts[key] = _Part(revision, None)
        else:
            parts[key] = _Part(revision, value)
        if key in self._configs:
            self._rebuild(key, None, local)

    def _rebuild(self, key: str, raw: bytes | None, local: bool) -> None:
        old = self.entries.get(key)
        config = self._configs.get(key)
        new: Entry | None = None
        if config is not None:
            cv: ConfigValue = config.value
            state = self._states.get(key)
            part = self._locals.get(key)
            try:
                data, doc = self.layout.join(
                    key,
                    cv.d,
                    state.value if state else None,
                    part.value if part else None,
                )
            except (msgspec.ValidationError, TypeError, ValueError) as exc:
                if key not in self.quarantined:
                    self.quarantined.add(key)
                    self._on_invalid(self.layout.bucket, key, raw or b"", str(exc))
                data = None
            if data is not None:
                self.quarantined.discard(key)
                new = Entry(key, config.revision, cv.m, cv.l, data, doc)
        if old is None and new is None:
            return
        if old is not None:
            self._unindex(old)
            del self.entries[key]
        if new is not None:
            self.entries[key] = new
            self._reindex(new)
        if old is None and self.hidden(key):
            return  # a duplicate that lost the unique ranking never shows up
        for listener in self.listeners:
            listener(key, old, new, local)

    # -- indexes and reads ----------------------------------------------------

    def _reindex(self, entry: Entry) -> None:
        for name, table in self._index.items():
            table.setdefault(index_value(entry.doc.get(name)), set()).add(entry.key)

    def _unindex(self, entry: Entry) -> None:
        for name, table in self._index.items():
            hv = index_value(entry.doc.get(name))
            keys = table.get(hv)
            if keys is not None:
                keys.discard(entry.key)
                if not keys:
                    del table[hv]

    def holders(self, name: str, value: Any) -> set[str]:
        """Keys whose indexed ``name`` equals ``value`` (empty if not indexed)."""
        return self._index.get(name, {}).get(index_value(value), set())

    def _rank(self, key: str) -> tuple[float, float, str]:
        entry = self.entries[key]
        return (entry.meta.updated_at, entry.meta.created_at, key)

    def hidden(self, key: str) -> bool:
        """Whether a duplicate of a unique value outranks this record.

        brainlessdb peers do not enforce uniqueness across processes; like them we
        let the highest ``(updated_at, created_at, key)`` win, but we only hide the
        losers instead of deleting them.
        """
        entry = self.entries.get(key)
        if entry is None:
            return False
        for name in self.layout.unique_fields:
            value = entry.doc.get(name)
            if value is None:
                continue
            group = self.holders(name, value)
            if len(group) > 1 and max(group, key=self._rank) != key:
                return True
        return False

    def get(self, key: str) -> Entry | None:
        """The visible entry for ``key``."""
        entry = self.entries.get(key)
        if entry is None or (self.layout.unique_fields and self.hidden(key)):
            return None
        return entry

    def candidates(self, where: dict[str, Any] | None) -> Iterable[Entry]:
        """Entries that may match ``where``: an index hit set, or every entry."""
        if where:
            for name, cond in where.items():
                if name not in self._index:
                    continue
                if isinstance(cond, dict):
                    if set(cond) != {"$eq"}:
                        continue
                    cond = cond["$eq"]
                keys = self.holders(name, cond)
                return [self.entries[k] for k in sorted(keys) if k in self.entries]
        return list(self.entries.values())

    def visible(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        """Filter out duplicates that lost the unique ranking."""
        if not self.layout.unique_fields:
            yield from entries
            return
        for entry in entries:
            if not self.hidden(entry.key):
                yield entry

    def revision_of(self, key: str) -> int:
        """Current config revision of ``key`` (0 if absent or deleted)."""
        part = self._configs.get(key)
        return part.revision if part is not None else 0

    def part_revision(self, bucket: str, key: str) -> int:
        """Last seen revision of a state/local row (0 if never seen)."""
        parts = self._states if bucket == "state" else self._locals
        part = parts.get(key)
        return part.revision if part is not None else 0
