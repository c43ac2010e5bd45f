"""Typed records: ``msgspec.Struct`` models for ``client.store.bucket(name, model=...)``.

A model is any ``msgspec.Struct``. Records are converted with
:func:`msgspec.convert`, so unknown record fields are ignored and wire names
follow the struct's own ``rename``/``field(name=...)`` settings. Record
metadata is available on the struct when it declares it; the simplest way is
to inherit :class:`RecordMeta`::

    class User(RecordMeta, kw_only=True):
        name: str
        id: str | None = None

    users = client.store.bucket("users", model=User)
    alice = await users.insert(User(name="Alice"))
    alice.version, alice.created_at          # from _version, _createdAt

A record that does not fit the model raises :class:`ModelDecodeError`,
which names the model and the field (``$.age``, ``$.records[2].name``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Generic, TypeVar

import msgspec

from ._errors import NoexClientError

__all__ = [
    "META_FIELDS",
    "ModelDecodeError",
    "Page",
    "RecordMeta",
    "decode_as",
    "encode_record",
]

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")

#: Metadata fields the server maintains itself; never sent from a model.
META_FIELDS: Final = frozenset({"_version", "_createdAt", "_updatedAt"})

_PATH: Final = re.compile(r" - at `([^`]*)`$")


class RecordMeta(msgspec.Struct, kw_only=True):
    """Mixin with the server-maintained record metadata.

    Attributes:
        version: ``_version``; 1 after insert, +1 on every update.
        created_at: ``_createdAt`` in ms since the epoch.
        updated_at: ``_updatedAt`` in ms since the epoch.
        expires_at: ``_expiresAt`` (TTL buckets only), else ``None``.
    """

    version: int | None = msgspec.field(default=None, name="_version")
    created_at: int | None = msgspec.field(default=None, name="_createdAt")
    updated_at: int | None = msgspec.field(default=None, name="_updatedAt")
    expires_at: int | None = msgspec.field(default=None, name="_expiresAt")


class Page(msgspec.Struct, Generic[T], rename="camel", frozen=True):
    """One page of :meth:`TypedBucketAPI.paginate`.

    Attributes:
        records: The records of this page.
        has_more: Whether another page follows.
        next_cursor: Pass as ``after`` for the next page; ``None`` when the
            page is empty.
    """

    records: list[T]
    has_more: bool
    next_cursor: Any = None


class ModelDecodeError(NoexClientError):
    """A server result does not fit the requested model.

    Attributes:
        model: Name of the model type.
        path: Where it failed, e.g. ``$.age`` or ``$.records[1].name``.
        field: The failing field's name (last path element), or ``None``
            when the whole value had the wrong type.
    """

    default_code = "DECODE_ERROR"

    def __init__(self, model: str, path: str, reason: str) -> None:
        self.model = model
        self.path = path
        tail = path.rsplit(".", 1)[-1] if "." in path else ""
        self.field: str | None = tail.split("[", 1)[0] or None
        where = f" field {self.field!r}" if self.field else ""
        super().__init__(
            "DECODE_ERROR", f"cannot decode {model}:{where} at {path}: {reason}", {"path": path}
        )


def decode_as(data: Any, model: type[T], *, name: str | None = None) -> T:
    """Convert server JSON ``data`` to ``model``.

    Raises:
        ModelDecodeError: ``data`` does not fit; the error names the field.
    """
    try:
        return msgspec.convert(data, type=model)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _PATH.search(text)
        path = match.group(1) if match else "$"
        reason = text[: match.start()] if match else text
        raise ModelDecodeError(name or _type_name(model), path, reason) from None


def encode_record(value: msgspec.Struct | Mapping[str, Any], *, drop_none: bool) -> dict[str, Any]:
    """Wire dict for a model instance (or a plain mapping, passed through).

    From a Struct, server-maintained metadata is removed, and ``drop_none``
    removes ``None`` fields so that an insert lets the server generate keys
    and apply defaults. A mapping is sent as it is.

    Raises:
        TypeError: ``value`` is neither a Struct nor a mapping.
    """
    if isinstance(value, msgspec.Struct):
        data = msgspec.to_builtins(value)
        if not isinstance(data, dict):  # array_like structs
            raise TypeError(f"{type(value).__name__} must encode as an object, not an array")
        fields = {k: v for k, v in data.items() if k not in META_FIELDS}
        if fields.get("_expiresAt", 0) is None:
            del fields["_expiresAt"]
        if drop_none:
            fields = {k: v for k, v in fields.items() if v is not None}
        return fields
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"expected a msgspec.Struct or a dict, got {type(value).__name__}")


def _type_name(model: Any) -> str:
    return getattr(model, "__name__", None) or repr(model)
