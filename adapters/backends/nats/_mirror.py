"""The in-memory mirror of one collection, fed by its buckets' KV feeds.

A record is visible when its config row exists; its state and app-local parts
come from their own buckets and are joined in whenever either side changes. Each
part only moves forward: an entry older than the one held (by KV revision) is
ignored, which makes our own write echoes and replays after a reconnect no-ops.
Secondary indexes map ``field -> value -> keys`` for declared fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from typing import Any

import msgspec

from ..._engine import copy_doc
from ..._filters import MISSING, And, Cond, FilterNode, get_path
from ..._stored import Stored, from_seconds
from ._layout import Layout
from ._wire import ConfigValue, Meta

__all__ = ["Entry", "Listener", "Mirror", "index_value"]

logger = logging.getLogger("adapters")

Listener = Callable[[str, "Entry | None", "Entry | None", bool], None]
"""``(key, old, new, local)``: ``old``/``new`` are ``None`` for inserts/deletes."""


def index_value(value: Any) -> Any:
    """A hashable stand-in for a JSON value with JSON equality (``True`` is not ``1``)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z", None)
    return ("j", msgspec.json.encode(value, order="sorted"))


class Entry(msgspec.Struct, gc=False):
    """One visible record: its document, KV revision and version.

    Not tracked by the cyclic GC (it holds decoded JSON only), like the other
    long-lived mirror objects: a large mirror would otherwise make every full
    collection walk all of it.
    """

    key: str
    revision: int
    meta: Meta
    writer: str
    doc: dict[str, Any]
    record: Any = None  # the Record built from it once, for ``NatsCollection.lookup``

    @property
    def data(self) -> dict[str, Any]:
        """The document, as the row engine's queries read rows."""
        return self.doc

    @property
    def version(self) -> int:
        """Our write counter, or the KV revision for rows written by brainlessdb."""
        return self.meta.v if self.meta.v else self.revision

    def stored(self) -> Stored:
        """A fresh :class:`Stored` (its data is a private copy)."""
        created = from_seconds(self.meta.created_at)
        updated = created if self.meta.updated_at == self.meta.created_at else None
        updated = updated or from_seconds(self.meta.updated_at)
        return Stored(self.key, copy_doc(self.doc), self.version, created, updated)


class _Part(msgspec.Struct, gc=False):
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
        self.gone: dict[str, int] = {}
        self.entries: dict[str, Entry] = {}
        self._paths = {name: tuple(name.split(".")) for name in layout.index_fields}
        self._index: dict[str, dict[Any, set[str]]] = {name: {} for name in self._paths}
        self._unique = frozenset(layout.unique_fields)
        # Unique values held by more than one record (brainlessdb peers' duplicates);
        # while there are none, no record is hidden and reads skip the ranking.
        self.duplicates = 0
        self.listeners: list[Listener] = []
        # While loading, nobody is told about the records found: they are not changes.
        self.silent = True
        self._dirty: dict[str, bytes | None] = {}
        self._loading_build = False
        self.quarantined: set[str] = set()

    def reset(self) -> None:
        """Forget everything (the buckets were dropped)."""
        self._configs.clear()
        self._states.clear()
        self._locals.clear()
        self.gone.clear()
        self.entries.clear()
        for table in self._index.values():
            table.clear()
        self.duplicates = 0
        self.quarantined.clear()
        self._dirty.clear()

    # -- applying KV entries -------------------------------------------------

    def apply_config(
        self, key: str, raw: bytes | None, value: ConfigValue | None, revision: int, local: bool
    ) -> None:
        """Apply a config row (``value``) or its deletion (``value is None``)."""
        held = self._configs.get(key)
        if (held is not None and held.revision >= revision) or self.gone.get(key, 0) >= revision:
            return
        if value is None:
            self._configs.pop(key, None)
            self.gone[key] = revision
            self.quarantined.discard(key)
        else:
            self._configs[key] = _Part(revision, value)
        self._rebuild(key, raw, local)

    def seen(self, which: str, key: str, revision: int) -> bool:
        """Whether ``key``'s ``"config"``/``"state"``/``"local"`` row is at ``revision`` or later.

        Lets the feeds skip decoding the echo of a write already applied (our own
        acknowledged writes reach the mirror before their echo, mostly).
        """
        if which == "config":
            held = self._configs.get(key)
            if self.gone.get(key, 0) >= revision:
                return True
        else:
            held = (self._states if which == "state" else self._locals).get(key)
        return held is not None and held.revision >= revision

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
        parts[key] = _Part(revision, value)
        if key in self._configs:
            self._rebuild(key, None, local)

    def apply_own(
        self,
        key: str,
        config: ConfigValue,
        revision: int,
        state: tuple[int, dict[str, Any]] | None,
        local_part: tuple[int, Any] | None,
    ) -> None:
        """Apply one of our acknowledged writes, all parts at once (one change event)."""
        if state is not None:
            held = self._states.get(key)
            if held is None or held.revision < state[0]:
                self._states[key] = _Part(*state)
        if local_part is not None:
            held = self._locals.get(key)
            if held is None or held.revision < local_part[0]:
                self._locals[key] = _Part(*local_part)
        self.apply_config(key, None, config, revision, local=True)

    def finish_load(self) -> None:
        """Build the records found while loading (each once), then go live."""
        dirty, self._dirty = self._dirty, {}
        self.silent = False
        self._loading_build = True
        try:
            for key, raw in dirty.items():
                self._rebuild(key, raw, False)
        finally:
            self._loading_build = False

    def _rebuild(self, key: str, raw: bytes | None, local: bool) -> None:
        if self.silent:
            # Loading: config, state and local rows of a key arrive separately;
            # build (and validate) the record once, when everything is in.
            if raw is not None or key not in self._dirty:
                self._dirty[key] = raw
            return
        old = self.entries.get(key)
        config = self._configs.get(key)
        new: Entry | None = None
        if config is not None:
            cv: ConfigValue = config.value
            state = self._states.get(key)
            part = self._locals.get(key)
            doc = self.layout.join(
                key, cv.d, state.value if state else None, part.value if part else None
            )
            try:
                self.layout.check(doc)
            except msgspec.ValidationError as exc:
                # Quarantine, don't destroy: copy it to the DLQ once and keep it; reading
                # it raises ValidationError naming the field (our model may be the
                # stricter one).
                if key not in self.quarantined:
                    self.quarantined.add(key)
                    self._on_invalid(self.layout.bucket, key, raw or b"", str(exc))
            else:
                self.quarantined.discard(key)
            new = Entry(key, config.revision, cv.m, cv.l, doc)
        if old is None and new is None:
            return
        if old is not None:
            self._unindex(old)
            del self.entries[key]
        if new is not None:
            self.entries[key] = new
            self._reindex(new)
        if self._loading_build:
            return
        same = old is not None and new is not None and old.revision == new.revision
        if same and old is not None and new is not None and old.doc == new.doc:
            return  # a part rewritten with the same content (e.g. our state row)
        if old is None and self.layout.unique_fields and self.hidden(key):
            return  # a duplicate that lost the unique ranking never shows up
        for listener in self.listeners:
            listener(key, old, new, local)

    # -- indexes and reads ----------------------------------------------------

    def _reindex(self, entry: Entry) -> None:
        for name, path in self._paths.items():
            value = get_path(entry.doc, path)
            if value is not MISSING:
                keys = self._index[name].setdefault(index_value(value), set())
                if entry.key not in keys:
                    keys.add(entry.key)
                    if len(keys) == 2 and value is not None and name in self._unique:
                        self.duplicates += 1

    def _unindex(self, entry: Entry) -> None:
        for name, path in self._paths.items():
            value = get_path(entry.doc, path)
            if value is MISSING:
                continue
            hv = index_value(value)
            keys = self._index[name].get(hv)
            if keys is not None and entry.key in keys:
                if len(keys) == 2 and value is not None and name in self._unique:
                    self.duplicates -= 1
                keys.discard(entry.key)
                if not keys:
                    del self._index[name][hv]

    def holders(self, name: str, value: Any) -> set[str]:
        """Keys whose indexed field ``name`` equals ``value``."""
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
        if not self.duplicates:
            return False
        entry = self.entries.get(key)
        if entry is None:
            return False
        for name in self.layout.unique_fields:
            value = get_path(entry.doc, self._paths[name])
            if value is MISSING or value is None:
                continue
            group = self.holders(name, value)
            if len(group) > 1 and max(group, key=self._rank) != key:
                return True
        return False

    def get(self, key: str) -> Entry | None:
        """The visible entry for ``key``."""
        entry = self.entries.get(key)
        if entry is None or (self.duplicates and self.hidden(key)):
            return None
        return entry

    def indexed(self, name: str) -> dict[Any, set[str]] | None:
        """The index of field ``name`` (``index_value(value) -> keys``), if it has one."""
        return self._index.get(name)

    def candidate_keys(self, where: FilterNode | None) -> Collection[str]:
        """Keys that may match ``where``: an index hit set, or every key."""
        conds = where.items if isinstance(where, And) else (where,)
        for cond in conds:
            if isinstance(cond, Cond) and cond.op == "$eq":
                name = ".".join(cond.path)
                if name in self._index:
                    return self.holders(name, cond.value)
        return self.entries.keys()

    def candidates(self, where: FilterNode | None) -> list[Entry]:
        """Visible entries that may match ``where``."""
        keys = self.candidate_keys(where)
        if not self.duplicates:
            return [self.entries[k] for k in keys]
        return [self.entries[k] for k in keys if not self.hidden(k)]

    def in_key_order(self, where: FilterNode | None) -> Iterator[Entry]:
        """Visible entries that may match ``where``, in key order, read lazily."""
        get = self.get
        for key in sorted(self.candidate_keys(where)):
            entry = get(key)
            if entry is not None:
                yield entry

    def revision_of(self, key: str) -> int:
        """The revision to compare-and-set against when creating ``key``."""
        part = self._configs.get(key)
        return part.revision if part is not None else self.gone.get(key, 0)

    def part_revision(self, which: str, key: str) -> int:
        """Last known revision of ``key``'s state (``"state"``) or local row, 0 if none."""
        part = (self._states if which == "state" else self._locals).get(key)
        return part.revision if part is not None else 0

    def parts(self, key: str) -> tuple[Any, Any]:
        """The current state and app-local values of ``key`` (``None`` when absent)."""
        state = self._states.get(key)
        local = self._locals.get(key)
        return (
            None if state is None else state.value,
            None if local is None else local.value,
        )

    def has_part(self, which: str, key: str) -> bool:
        """Whether a live state (``"state"``) or local row is known for ``key``."""
        part = (self._states if which == "state" else self._locals).get(key)
        return part is not None and part.value is not None
