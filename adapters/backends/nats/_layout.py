"""How one collection's records map onto brainlessdb's buckets and values.

A typed model declares brainlessdb field flags in msgspec metadata::

    serial: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.UNIQUE})]

``STATE`` fields live in ``<Bucket>-State``, the field named ``_`` (a union of
app-local structs) lives in ``<Bucket>-<LocalClass>`` for the namespace whose name
the local class starts with, everything else lives in the config value's ``d``.
This module is pure: it turns records into bucket payloads and back.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "Flag",
    "Layout",
    "bucket_collection",
    "bucket_name_error",
    "collection_bucket",
    "decode_key",
    "encode_key",
]

_FLAGS_KEY = "brainlessdb_flags"
_UUID_FIELD = "_uuid"
_LOCAL_FIELD = "_"
_TAG_FIELD = "TYPE"
_BUCKET_RE = re.compile(r"\A[a-zA-Z0-9_-]+\Z")
_SAFE_KEY_RE = re.compile(r"\A[-/_a-zA-Z0-9][-/_=.a-zA-Z0-9]*\Z")


class Flag(enum.IntFlag):
    """brainlessdb's field flags (same numeric values, so one model serves both)."""

    INDEX = 1
    STATE = 2
    UNIQUE = 4


def bucket_name_error(name: str) -> str | None:
    """Return why ``name`` cannot be a KV bucket name, or ``None`` if it can."""
    if not _BUCKET_RE.match(name):
        return "bucket names may only hold letters, digits, '_' and '-'"
    return None


_MAX_BUCKET = 200
_ENCODED = "h-"


def collection_bucket(name: str) -> str:
    """The bucket of collection ``name``.

    Names that are valid bucket names (brainlessdb's ``DeviceV1``) are used as they
    are; others become ``h-`` plus their UTF-8 bytes in hex (so do names that
    start with ``h-``, which keeps the mapping reversible).

    Raises:
        ValueError: the resulting bucket name would be too long.
    """
    bucket = name
    if bucket_name_error(name) or name.startswith(_ENCODED):
        bucket = _ENCODED + name.encode().hex()
    if len(bucket) > _MAX_BUCKET:
        raise ValueError(f"collection name {name[:40]!r}... is too long for a NATS bucket")
    return bucket


def bucket_collection(bucket: str) -> str | None:
    """Invert :func:`collection_bucket` (``None`` if ``bucket`` is not such a name)."""
    if not bucket.startswith(_ENCODED):
        return bucket
    try:
        return bytes.fromhex(bucket[len(_ENCODED) :]).decode()
    except ValueError:
        return None


def encode_key(key: str) -> str:
    """Map a record key to a KV key.

    UUIDs and other KV-safe keys are stored as they are (brainlessdb's keys are
    lower-case hyphenated UUIDs); anything else is stored as ``=`` followed by its
    UTF-8 bytes in hex, which KV accepts and which no safe key starts with.
    """
    if key.endswith(".") or ".." in key or not _SAFE_KEY_RE.match(key):
        return "=" + key.encode().hex()
    return key


def decode_key(kv_key: str) -> str:
    """Invert :func:`encode_key`; raises ``ValueError`` on a malformed encoding."""
    if kv_key.startswith("="):
        return bytes.fromhex(kv_key[1:]).decode()
    return kv_key


def _flags_of(annotation: Any) -> int:
    """Flags from the first ``Meta`` of an ``Annotated`` (first non-None arm of a union)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        for extra in annotation.__metadata__:
            if isinstance(extra, msgspec.Meta):
                return int((extra.extra or {}).get(_FLAGS_KEY, 0))
        return 0
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(annotation):
            if arm is not type(None):
                return _flags_of(arm)
    return 0


def _union_members(annotation: Any) -> list[type[msgspec.Struct]]:
    """The struct classes of an app-local ``_`` annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _union_members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found: list[type[msgspec.Struct]] = []
        for arm in typing.get_args(annotation):
            found.extend(_union_members(arm))
        return found
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return [annotation]
    return []


@dataclass(frozen=True)
class Layout:
    """Where each part of a record of one collection is stored.

    Attributes:
        bucket: config bucket name (also the collection's base name).
        namespace: this application's namespace (``l`` and ``m.created_by``).
        model: the typed model, or ``None`` for dict records.
        state_fields: encoded names of ``STATE`` fields.
        index_fields: fields with a secondary index (INDEX, UNIQUE or declared).
        unique_fields: fields that must be unique.
        local_class: this namespace's app-local struct, if the model declares one.
    """

    bucket: str
    namespace: str
    model: type[Any] | None = None
    state_fields: frozenset[str] = frozenset()
    index_fields: frozenset[str] = frozenset()
    unique_fields: frozenset[str] = frozenset()
    local_class: type[msgspec.Struct] | None = None
    has_uuid_field: bool = False

    @classmethod
    def build(
        cls,
        bucket: str,
        namespace: str,
        model: type[Any] | None = None,
        indexes: typing.Iterable[str] = (),
        unique: typing.Iterable[str] = (),
    ) -> Layout:
        """Introspect ``model`` (if any) and merge declared indexes/unique fields."""
        state: set[str] = set()
        index = set(indexes)
        uniq = set(unique)
        local: type[msgspec.Struct] | None = None
        has_uuid = False
        if model is not None:
            hints = typing.get_type_hints(model, include_extras=True)
            for info in msgspec.structs.fields(model):
                if info.name == _UUID_FIELD:
                    has_uuid = True
                    continue
                annotation = hints.get(info.name)
                if info.name == _LOCAL_FIELD:
                    for member in _union_members(annotation):
                        if member.__name__.lower().startswith(namespace.lower()):
                            local = member
                            break
                    continue
                flags = _flags_of(annotation)
                if flags & Flag.STATE:
                    state.add(info.encode_name)
                if flags & Flag.UNIQUE:
                    uniq.add(info.encode_name)
                if flags & (Flag.INDEX | Flag.UNIQUE):
                    index.add(info.encode_name)
        index |= uniq
        return cls(
            bucket=bucket,
            namespace=namespace,
            model=model,
            state_fields=frozenset(state),
            index_fields=frozenset(index),
            unique_fields=frozenset(uniq),
            local_class=local,
            has_uuid_field=has_uuid,
        )

    @property
    def state_bucket(self) -> str | None:
        """``<Bucket>-State`` when the model has STATE fields."""
        return f"{self.bucket}-State" if self.state_fields else None

    @property
    def local_bucket(self) -> str | None:
        """``<Bucket>-<LocalClass>`` when this namespace has app-local data."""
        return f"{self.bucket}-{self.local_class.__name__}" if self.local_class else None

    def split(self, doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
        """Split a JSON document into (config ``d``, state object, local value).

        ``_uuid`` (carried by the key), the model's own ``TYPE`` tag, STATE fields and
        the app-local ``_`` never go into ``d``, as brainlessdb expects.
        """
        if self.model is None:
            return dict(doc), None, None
        skip = self.state_fields | {_LOCAL_FIELD, _UUID_FIELD, _TAG_FIELD}
        d = {k: v for k, v in doc.items() if k not in skip}
        state = {k: doc.get(k) for k in self.state_fields} if self.state_fields else None
        local = doc.get(_LOCAL_FIELD) if self.local_class is not None else None
        return d, state, local

    def join(
        self, key: str, d: dict[str, Any], state: dict[str, Any] | None, local: Any
    ) -> dict[str, Any]:
        """Build the JSON document from stored parts (not validated, see :meth:`check`).

        The state and local parts override same-named keys of ``d`` (a foreign
        writer may have left a stale copy there).
        """
        if self.model is None:
            return d
        doc = {k: v for k, v in d.items() if k not in self.state_fields and k != _LOCAL_FIELD}
        doc.pop(_TAG_FIELD, None)
        if state:
            doc.update({k: v for k, v in state.items() if k in self.state_fields})
        if local is not None and self.local_class is not None:
            doc[_LOCAL_FIELD] = local
        if self.has_uuid_field:
            doc[_UUID_FIELD] = key
        return doc

    def check(self, doc: dict[str, Any]) -> None:
        """Validate a joined document against the model.

        Raises:
            msgspec.ValidationError: the document does not fit this reader's model.
        """
        if self.model is not None:
            msgspec.convert(doc, self.model)
