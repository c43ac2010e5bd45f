"""Cross-process uniqueness for our writers: claims in a ``<Bucket>-Unique`` bucket.

Each unique value is a key (a hash of field and value) whose value is the key of
the record holding it. A writer creates the claim with compare-and-set before it
writes the record, so two of our processes cannot both take a value. A claim left
behind by a crash, or whose holder no longer has the value (e.g. a brainlessdb
peer changed it, which does not know about claims), is taken over with CAS.
brainlessdb peers never write claims; their duplicates are resolved by ranking
(see ``Mirror.hidden``).
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import msgspec

from ..._errors import AlreadyExists
from ..._filters import MISSING, get_path, json_equal
from ._core import CollectionCore
from ._kv import WrongRevision, read_last
from ._layout import encode_key

__all__ = ["Claims", "check_free", "unique_values"]

_RACES = 20


def unique_values(core: CollectionCore, doc: dict[str, Any] | None) -> dict[str, Any]:
    """The non-null values of the collection's unique fields in ``doc``."""
    if doc is None:
        return {}
    out: dict[str, Any] = {}
    for name in core.layout.unique_fields:
        value = get_path(doc, tuple(name.split(".")))
        if value is not MISSING and value is not None:
            out[name] = value
    return out


def check_free(core: CollectionCore, collection: str, key: str, doc: dict[str, Any]) -> None:
    """Raise ``AlreadyExists`` if another visible record of the mirror holds a unique value of ``doc``."""
    mirror = core.mirror
    for name, value in unique_values(core, doc).items():
        for other in mirror.holders(name, value):
            if other != key and mirror.get(other) is not None:
                raise AlreadyExists(collection, key, field=name, value=value)


def _claim_key(field: str, value: Any) -> str:
    canonical = msgspec.json.encode([field, value], order="sorted")
    return hashlib.sha256(canonical).hexdigest()[:48]


class Claims:
    """Acquire and release unique-value claims of one collection."""

    def __init__(self, core: CollectionCore, collection: str) -> None:
        self._core = core
        self._collection = collection

    @property
    def bucket(self) -> str:
        """The claims bucket."""
        return self._core.claims_bucket

    @staticmethod
    def changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Any], list[Any]]:
        """(values to claim, values to release) when a record goes from ``old`` to ``new``."""
        take = [(f, v) for f, v in new.items() if f not in old or not json_equal(old[f], v)]
        drop = [(f, v) for f, v in old.items() if f not in new or not json_equal(new[f], v)]
        return take, drop

    async def _still_holds(self, holder: str, field: str, value: Any) -> bool:
        await self._core.refresh(holder)
        entry = self._core.mirror.entries.get(holder)
        if entry is None:
            return False
        return json_equal(get_path(entry.doc, tuple(field.split("."))), value)

    def claim_write(
        self, owner: str, field: str, value: Any
    ) -> tuple[str, str, bytes, int | None, None]:
        """The create-only write of a new claim (for ``Publisher.write_many``).

        A ``WrongRevision`` outcome means the value is claimed already (maybe by a
        stale claim): :meth:`acquire` then sorts it out.
        """
        return (self.bucket, _claim_key(field, value), encode_key(owner).encode(), 0, None)

    async def acquire(self, owner: str, values: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """Claim every value for ``owner``; on a clash release what was taken.

        Raises:
            AlreadyExists: another live record holds one of the values.
        """
        taken: list[tuple[str, Any]] = []
        try:
            for field, value in values:
                await self._acquire_one(owner, field, value)
                taken.append((field, value))
        except BaseException:
            await self.release(owner, taken)
            raise
        return taken

    async def _acquire_one(self, owner: str, field: str, value: Any) -> None:
        pub = self._core.conn.publisher
        key = _claim_key(field, value)
        expected = 0
        for _ in range(_RACES):
            try:
                await pub.write(self.bucket, key, encode_key(owner).encode(), expected=expected)
                return
            except WrongRevision:
                pass
            last = await read_last(self._core.conn.js, self.bucket, key)
            expected = 0 if last is None else last.revision
            if last is None or last.deleted:
                continue
            holder = last.value.decode(errors="replace")
            if holder == encode_key(owner):
                return
            if await self._still_holds(holder, field, value):
                raise AlreadyExists(self._collection, owner, field=field, value=value)
            # Stale claim (crashed writer, or the holder changed the value): take it over.
        raise AlreadyExists(self._collection, owner, field=field, value=value)

    async def release(self, owner: str, values: list[tuple[str, Any]]) -> None:
        """Delete ``owner``'s claims on ``values`` (best effort, CAS on the claim)."""
        pub = self._core.conn.publisher
        js = self._core.conn.js
        for field, value in values:
            key = _claim_key(field, value)
            last = await read_last(js, self.bucket, key)
            if last is None or last.deleted or last.value.decode() != encode_key(owner):
                continue
            # WrongRevision: someone took it over meanwhile, it is theirs now.
            with contextlib.suppress(WrongRevision):
                await pub.write(self.bucket, key, b"", expected=last.revision, op="DEL")
