"""Operation builders: every BeaverDB REST operation as a pure function returning a Call.

The sync and async proxies both call these and only differ in how they send the
resulting :class:`~adapters.beaver._wire.Call`. Argument checks happen here, before
any I/O, so both surfaces reject bad input the same way.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from adapters.beaver._errors import (
    BadRequest,
    BeaverError,
    IndexOutOfRange,
    KeyNotFound,
    NotSupportedRemotely,
    UnsupportedValue,
)
from adapters.beaver._models import Codec
from adapters.beaver._values import Key, json_value, key_text
from adapters.beaver._wire import (
    Call,
    ErrorHook,
    Request,
    check_name,
    encode_body,
    path_segment,
    target,
)

__all__ = ["UNSET", "DictOps", "ListOps", "epoch", "none", "number"]

T = TypeVar("T")

# Returned by the server's fetch/pop in place of a missing key. It is a JSON object
# with a per-process random token, so no stored value can be mistaken for it; this
# tells "missing" from "stored null" in one request.
_MISSING_TOKEN = uuid.uuid4().hex
_MISSING = {"__beaver_client_missing__": _MISSING_TOKEN}
UNSET: Any = object()
"""Default of optional arguments for which ``None`` is a real value."""
# Path placeholder for keys that only the body/query override can carry: the server
# lets body fields (PUT/POST) and query parameters (GET) replace path parameters.
_PLACEHOLDER = "_"


def _is_missing(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__beaver_client_missing__") == _MISSING_TOKEN


def none(_: Any) -> None:
    """Decoder for operations that return nothing."""
    return None


def _index(index: Any) -> str:
    if isinstance(index, slice):
        raise NotSupportedRemotely("list slicing", "read items by index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise UnsupportedValue(f"list indexes must be int, not {type(index).__name__}")
    return str(index)


def number(label: str, value: Any) -> float:
    """Check a finite, non-bool number argument. Raises :class:`BadRequest`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"{label} must be a finite number, got {value!r}")
    return float(value)


def epoch(label: str, value: float | datetime) -> float:
    """Epoch seconds from a number or an aware datetime. Raises :class:`BadRequest`."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise BadRequest(f"{label} must be timezone-aware, got a naive datetime")
        return value.timestamp()
    return number(label, value)


class DictOps(Generic[T]):
    """Calls for ``/dicts/{name}``.

    Keys travel percent-encoded in the path. Keys that no path can carry (empty,
    ``.``/``..``, or containing ``/``) go through the server's body/query override,
    and reads of the key ``count`` (whose ``GET`` is shadowed by the size route) go
    through ``/fetch``, so every ``str`` key works. Other key types are first turned
    into the text local BeaverDB stores (:func:`~adapters.beaver._values.key_text`).
    """

    __slots__ = ("base", "codec", "name")

    def __init__(self, name: str, codec: Codec[T]) -> None:
        self.name = check_name("dict", name)
        self.base = "dicts/" + path_segment(name)  # type: ignore[operator]  # checked above
        self.codec = codec

    def _key(self, key: Key) -> tuple[str | None, str]:
        text = key_text(key)
        return path_segment(text), text

    def _put_back(self, key: str) -> Callable[[Any], Request | None]:
        def undo(raw: Any) -> Request | None:
            if _is_missing(raw):
                return None
            return self._write(key, raw)

        return undo

    def _write(self, key: str, encoded: Any, ttl_seconds: float | None = None) -> Request:
        segment = path_segment(key)
        fields: dict[str, Any] = {"value": encoded}
        if ttl_seconds is not None:
            fields["ttl_seconds"] = ttl_seconds
        if segment is None:
            fields["key"] = key
        return Request("PUT", target(self.base, segment or _PLACEHOLDER), encode_body(fields))

    def _missing(self, key: str) -> ErrorHook:
        def hook(error: str, _message: str) -> BeaverError | None:
            return KeyNotFound(key, self.name) if error == "KeyError" else None

        return hook

    def set(self, key: Key, value: T, ttl_seconds: float | None = None) -> Call[None]:
        """``set(key, value, ttl_seconds)``: write or overwrite a key."""
        _, text = self._key(key)
        if ttl_seconds is not None and number("ttl_seconds", ttl_seconds) <= 0:
            raise BadRequest(f"ttl_seconds must be greater than 0, got {ttl_seconds!r}")
        return Call(self._write(text, json_value(self.codec.encode(value)), ttl_seconds), none)

    def get(self, key: Key) -> Call[T]:
        """``get(key)``: the value; :class:`KeyNotFound` when missing or expired."""
        segment, key = self._key(key)
        if segment is not None and key != "count":
            return Call(
                Request("GET", target(self.base, segment)), self.codec.decode, self._missing(key)
            )

        def decode(raw: Any) -> T:
            if _is_missing(raw):
                raise KeyNotFound(key, self.name)
            return self.codec.decode(raw)

        return Call(Request("GET", self._fetch_target(segment, key)), decode)

    def fetch(self, key: Key, default: Any = None) -> Call[Any]:
        """``fetch(key, default)``: the value, or ``default`` when missing or expired."""
        segment, key = self._key(key)

        def decode(raw: Any) -> Any:
            return default if _is_missing(raw) else self.codec.decode(raw)

        return Call(Request("GET", self._fetch_target(segment, key)), decode)

    def _fetch_target(self, segment: str | None, key: str) -> str:
        query: list[tuple[str, Any]] = [("default", _MISSING)]
        if segment is None:
            query.append(("key", key))
        return target(self.base, segment or _PLACEHOLDER, "fetch", query=query)

    def contains(self, key: Key) -> Call[bool]:
        """``contains(key)``: whether the key is stored (the server ignores TTL here)."""
        segment, key = self._key(key)
        query = [("key", key)] if segment is None else []
        return Call(
            Request("GET", target(self.base, segment or _PLACEHOLDER, "contains", query=query)),
            bool,
        )

    def delete(self, key: Key) -> Call[None]:
        """``delete(key)``: remove a key; :class:`KeyNotFound` when missing."""
        segment, key = self._key(key)
        if segment is not None:
            return Call(Request("DELETE", target(self.base, segment)), none, self._missing(key))

        def decode(raw: Any) -> None:
            if _is_missing(raw):
                raise KeyNotFound(key, self.name)

        # DELETE ignores overrides; pop with a sentinel default deletes and reports a miss.
        body = encode_body({"key": key, "default": _MISSING})
        return Call(Request("POST", target(self.base, _PLACEHOLDER, "pop"), body), decode)

    def pop(self, key: Key, default: Any = None) -> Call[Any]:
        """``pop(key, default)``: remove and return the value, or ``default``."""
        segment, key = self._key(key)
        fields: dict[str, Any] = {"default": _MISSING}
        if segment is None:
            fields["key"] = key

        def decode(raw: Any) -> Any:
            return default if _is_missing(raw) else self.codec.decode(raw)

        return Call(
            Request("POST", target(self.base, segment or _PLACEHOLDER, "pop"), encode_body(fields)),
            decode,
            undo=self._put_back(key),
        )

    def count(self) -> Call[int]:
        """``count()``: number of stored keys (the server counts expired ones too)."""
        return Call(Request("GET", target(self.base, "count")), int)

    def clear(self) -> Call[None]:
        """``clear()``: remove every key."""
        return Call(Request("POST", target(self.base, "clear")), none)


class ListOps(Generic[T]):
    """Calls for ``/lists/{name}``."""

    __slots__ = ("base", "codec", "name")

    def __init__(self, name: str, codec: Codec[T]) -> None:
        self.name = check_name("list", name)
        self.base = "lists/" + path_segment(name)  # type: ignore[operator]  # checked above
        self.codec = codec

    def _range_hook(self, index: str) -> ErrorHook:
        def hook(error: str, _message: str) -> BeaverError | None:
            if error == "IndexError":
                return IndexOutOfRange(f"index {index} out of range for list {self.name!r}")
            return None

        return hook

    def _value(self, value: T) -> bytes:
        return encode_body({"value": json_value(self.codec.encode(value))})

    def _put_back(self, op: str) -> Callable[[Any], Request | None]:
        # An empty list also answers null, so a popped null cannot be told from
        # "nothing taken": it is not put back.
        def undo(raw: Any) -> Request | None:
            if raw is None:
                return None
            return Request("POST", target(self.base, op), encode_body({"value": raw}))

        return undo

    def get(self, index: int) -> Call[T]:
        """``get(index)``: the item; negative indexes count from the end."""
        i = _index(index)
        return Call(
            Request("GET", target(self.base, "item", i)), self.codec.decode, self._range_hook(i)
        )

    def set(self, index: int, value: T) -> Call[None]:
        """``set(index, value)``: replace an item."""
        i = _index(index)
        return Call(
            Request("PUT", target(self.base, "item", i), self._value(value)),
            none,
            self._range_hook(i),
        )

    def delete(self, index: int) -> Call[None]:
        """``delete(index)``: remove an item."""
        i = _index(index)
        return Call(Request("DELETE", target(self.base, "item", i)), none, self._range_hook(i))

    def contains(self, value: T) -> Call[bool]:
        """``contains(value)``: exact match on the JSON form (object key order matters)."""
        query = [("value", json_value(self.codec.encode(value)))]
        return Call(Request("GET", target(self.base, "contains", query=query)), bool)

    def push(self, value: T) -> Call[None]:
        """``push(value)``: append."""
        return Call(Request("POST", target(self.base, "push"), self._value(value)), none)

    def prepend(self, value: T) -> Call[None]:
        """``prepend(value)``: insert at the front."""
        return Call(Request("POST", target(self.base, "prepend"), self._value(value)), none)

    def insert(self, index: int, value: T) -> Call[None]:
        """``insert(index, value)``: ``index <= 0`` prepends, ``index >= len`` appends."""
        path = target(self.base, "insert", _index(index))
        return Call(Request("POST", path, self._value(value)), none)

    def pop(self) -> Call[T | None]:
        """``pop()``: remove and return the last item, ``None`` when empty."""
        return Call(
            Request("POST", target(self.base, "pop")), self._optional, undo=self._put_back("push")
        )

    def deque(self) -> Call[T | None]:
        """``deque()``: remove and return the first item, ``None`` when empty."""
        return Call(
            Request("POST", target(self.base, "deque")),
            self._optional,
            undo=self._put_back("prepend"),
        )

    def _optional(self, raw: Any) -> T | None:
        return None if raw is None else self.codec.decode(raw)

    def count(self) -> Call[int]:
        """``count()``: number of items."""
        return Call(Request("GET", target(self.base, "count")), int)

    def clear(self) -> Call[None]:
        """``clear()``: remove every item."""
        return Call(Request("POST", target(self.base, "clear")), none)
