"""Model encode/decode with msgspec: user values <-> plain JSON documents."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast

import msgspec

from ._errors import InvalidValue, ValidationError

__all__ = ["Codec"]

T = TypeVar("T")

_AT = re.compile(r"at `\$(?P<path>[^`]*)`")
_MISSING_FIELD = re.compile(r"missing required field `(?P<field>[^`]*)`")


def _field_of(error: msgspec.ValidationError) -> str:
    """Turn msgspec's ``... - at `$.a.b[0]``` into the dotted path ``a.b[0]``."""
    message = str(error)
    path = ""
    at = _AT.search(message)
    if at:
        path = at.group("path").lstrip(".")
    missing = _MISSING_FIELD.search(message)
    if missing:
        path = f"{path}.{missing.group('field')}" if path else missing.group("field")
    return path


_pack = msgspec.msgpack.Encoder().encode
# A MessagePack float64 (0xcb) whose exponent bits are all ones: NaN or +-Infinity.
# Inside a UTF-8 string 0xcb is always followed by a continuation byte
# (0x80-0xbf), so a match there is impossible; any other false match (bytes of an
# integer) only costs the exact walk below.
_NON_FINITE = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")


def _walk(value: Any, path: str) -> tuple[str, float] | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, dict):
        for name, item in value.items():
            found = _walk(item, f"{path}.{name}" if path else str(name))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _walk(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def non_finite(doc: Any) -> tuple[str, float] | None:
    """The first NaN or Infinity in a JSON document: ``(dotted path, value)``, else ``None``.

    One MessagePack encoding scanned by a regular expression rules out almost
    every document in C; only a possible hit is walked in Python.
    """
    try:
        if _NON_FINITE.search(_pack(doc)) is None:
            return None
    except (OverflowError, TypeError):
        pass  # an integer beyond 64 bits: walk
    return _walk(doc, "")


class Codec(Generic[T]):
    """Converts between user values (dicts or a msgspec model) and JSON documents.

    Untyped collections (``model=None``) store any mapping with string keys whose
    values msgspec can turn into JSON builtins (datetimes become ISO strings).
    Typed collections validate against ``model`` on the way in and out.
    """

    def __init__(self, collection: str, model: type[T] | None) -> None:
        self.collection = collection
        self.model = model

    def encode(self, value: Any, key: str | None = None) -> dict[str, Any]:
        """Return a fresh JSON document for ``value``.

        Raises:
            ValidationError: typed mode and ``value`` does not fit the model.
            InvalidValue: a value is NaN or Infinity (JSON cannot hold it).
            TypeError: ``value`` is not a mapping (or model instance) or holds non-JSON values.
        """
        model = self.model
        if model is not None and isinstance(value, model):
            doc = msgspec.to_builtins(value, str_keys=True)
        elif isinstance(value, Mapping):
            if model is not None:
                try:
                    value = msgspec.convert(dict(value), model)
                except msgspec.ValidationError as exc:
                    raise ValidationError(self.collection, key, _field_of(exc), str(exc)) from exc
            try:
                doc = msgspec.to_builtins(value, str_keys=True)
            except TypeError as exc:
                raise TypeError(f"document for collection {self.collection!r}: {exc}") from exc
        else:
            expected = "a mapping" if model is None else f"a mapping or {model.__name__}"
            raise TypeError(
                f"document for collection {self.collection!r} must be {expected}, "
                f"got {type(value).__name__}"
            )
        if not isinstance(doc, dict):
            raise TypeError(
                f"document for collection {self.collection!r} must encode to a JSON object"
            )
        self._check_finite(doc, key)
        return cast(dict[str, Any], doc)

    def _check_finite(self, doc: Any, key: str | None) -> None:
        found = non_finite(doc)
        if found is not None:
            raise InvalidValue(self.collection, key, *found)

    def encode_batch(self, values: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Untyped mode: fresh JSON documents for plain ``dict`` values, in one msgspec call.

        Returns ``None`` when any value cannot be encoded; the caller then goes
        through :meth:`encode` item by item, which raises the exact error for
        the first bad value. One call over the list saves the per-document call
        overhead that dominates for small documents.
        """
        try:
            docs = msgspec.to_builtins(values, str_keys=True)
        except Exception:  # any failure: the per-item path reports it precisely
            return None
        if non_finite(docs) is not None:
            return None  # the per-item path names the record and field
        return cast(list[dict[str, Any]], docs)

    def encode_changes(self, changes: Any, key: str | None = None) -> dict[str, Any]:
        """Return the JSON form of a shallow-merge ``changes`` mapping (not validated).

        Raises:
            TypeError: ``changes`` is not a mapping or holds non-JSON values.
            InvalidValue: a value is NaN or Infinity.
        """
        if not isinstance(changes, Mapping):
            raise TypeError(
                f"changes for collection {self.collection!r} must be a mapping, "
                f"got {type(changes).__name__}"
            )
        try:
            doc = msgspec.to_builtins(dict(changes), str_keys=True)
        except TypeError as exc:
            raise TypeError(f"changes for collection {self.collection!r}: {exc}") from exc
        self._check_finite(doc, key)
        return cast(dict[str, Any], doc)

    def decode(self, doc: dict[str, Any], key: str) -> T:
        """Return the user value of a stored document.

        Raises:
            ValidationError: typed mode and the stored document no longer fits the model.
        """
        if self.model is None:
            return cast(T, doc)
        try:
            return msgspec.convert(doc, self.model)
        except msgspec.ValidationError as exc:
            raise ValidationError(self.collection, key, _field_of(exc), str(exc)) from exc
