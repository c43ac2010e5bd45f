"""Result types and the ``model=`` hook that makes values typed.

A structure opened with ``model=M`` encodes every value it writes and decodes every
value it reads through a :class:`Codec`, chosen from ``M`` in this order:

1. ``M`` defines ``__beaver_encode__(self) -> JSON`` and a classmethod
   ``__beaver_decode__(cls, value: JSON) -> M``: those two hooks are used as-is.
2. ``M`` looks like a pydantic v2 model (``model_validate`` and ``model_dump``):
   ``model_dump(mode="json")`` / ``model_validate(value)``. No pydantic import.
3. Anything msgspec can convert (``msgspec.Struct``, dataclasses, ``TypedDict``,
   ``int``, ...): ``msgspec.to_builtins`` / ``msgspec.convert``.
"""

from __future__ import annotations

from typing import Any, Generic, NamedTuple, TypeVar, cast, overload

import msgspec

from adapters.beaver._errors import DecodeError, UnsupportedValue

__all__ = ["Codec", "FieldIndex", "LogEntry", "QueueItem", "codec_for"]

T = TypeVar("T")


class QueueItem(NamedTuple, Generic[T]):
    """An item taken from (or peeked at in) a queue, as BeaverDB's local API returns it."""

    priority: float
    """Smaller numbers come out first."""
    timestamp: float
    """When the item was put, in epoch seconds (server clock)."""
    data: T
    """The payload, decoded through the queue's ``model=`` if any."""


class LogEntry(NamedTuple, Generic[T]):
    """One entry of a log."""

    timestamp: float
    """Epoch seconds; unique within the log."""
    data: T
    """The payload, decoded through the log's ``model=`` if any."""


class FieldIndex(NamedTuple):
    """A field index declared on a log (declared in-process; read-only over REST)."""

    field: str
    declared: bool
    complete: bool
    rows: int


class Codec(Generic[T]):
    """Turns values of one type into JSON-compatible builtins and back.

    Args:
        model: The value type, or ``None`` for plain JSON values.
    """

    __slots__ = ("_decode", "_encode", "model")

    def __init__(self, model: type[T] | None) -> None:
        self.model = model
        if model is None:
            self._encode = None
            self._decode = None
        elif hasattr(model, "__beaver_decode__") and hasattr(model, "__beaver_encode__"):
            self._encode = lambda value: value.__beaver_encode__()
            self._decode = getattr(model, "__beaver_decode__")  # noqa: B009 -- untyped hook
        elif hasattr(model, "model_validate") and hasattr(model, "model_dump"):
            self._encode = lambda value: value.model_dump(mode="json")
            self._decode = getattr(model, "model_validate")  # noqa: B009 -- duck-typed pydantic
        else:
            self._encode = msgspec.to_builtins
            self._decode = lambda raw: msgspec.convert(raw, type=model)

    def encode(self, value: T) -> Any:
        """Return ``value`` as JSON-compatible builtins.

        Raises:
            UnsupportedValue: The value is not of a JSON-encodable shape.
        """
        if self._encode is None:
            return value
        try:
            return self._encode(value)
        except (TypeError, ValueError, msgspec.EncodeError) as exc:
            raise UnsupportedValue(f"cannot encode {type(value).__name__}: {exc}") from exc

    def decode(self, raw: Any) -> T:
        """Return the builtins read from the server as the model type.

        Raises:
            DecodeError: The value does not fit the model; the message names the field.
        """
        if self._decode is None:
            return cast(T, raw)
        try:
            return cast(T, self._decode(raw))
        except Exception as exc:  # any hook failure: msgspec, pydantic or user code
            name = getattr(self.model, "__name__", repr(self.model))
            raise DecodeError(f"stored value does not fit {name}: {exc}") from exc


PLAIN: Codec[Any] = Codec(None)


@overload
def codec_for(model: None) -> Codec[Any]: ...
@overload
def codec_for(model: type[T]) -> Codec[T]: ...
def codec_for(model: type[Any] | None) -> Codec[Any]:
    """Return the codec for ``model`` (a shared one for plain JSON values)."""
    return PLAIN if model is None else Codec(model)
