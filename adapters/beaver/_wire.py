"""Sans-I/O wire layer: requests as values, responses turned into results or errors.

Nothing here performs I/O. An operation is a :class:`Call`: the :class:`Request` to
send plus how to turn a ``(status, body)`` reply into a value. The sync and async
clients only move bytes; every rule about paths, JSON encoding and error mapping
lives here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import msgspec

from adapters.beaver._errors import (
    AuthError,
    BadRequest,
    BeaverError,
    IndexOutOfRange,
    InvalidName,
    RemoteTimeout,
    ServerError,
    UnsupportedValue,
)

__all__ = [
    "Call",
    "ErrorHook",
    "Method",
    "Request",
    "check_name",
    "encode_body",
    "encode_json",
    "error_for",
    "path_segment",
    "query_value",
    "result_of",
    "target",
    "undo_of",
]

T = TypeVar("T")
Method = Literal["GET", "PUT", "POST", "DELETE"]
ErrorHook = Callable[[str, str], BeaverError | None]
"""Maps ``(server error name, server message)`` to an operation-specific error."""

_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, fully encoded.

    Attributes:
        method: The HTTP method.
        target: Path and query string, percent-encoded, relative to the base URL.
        body: The JSON body, or ``None`` for no body.
    """

    method: Method
    target: str
    body: bytes | None = None

    @property
    def idempotent(self) -> bool:
        """Whether sending the request twice has the effect of sending it once."""
        return self.method != "POST"


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """A request and the way to read its reply.

    Attributes:
        request: What to send.
        decode: Turns the decoded JSON body of a success reply into the result.
        on_error: Optional operation-specific error mapping, tried before the generic one.
        undo: For calls that take a value out of the server (``queue.get``, ``pop``):
            given the decoded JSON body of their success reply, the request that puts
            the value back, or ``None`` when nothing was taken. Used when the caller
            was cancelled while the call was on the wire, so the value is not lost.
    """

    request: Request
    decode: Callable[[Any], T]
    on_error: ErrorHook | None = None
    undo: Callable[[Any], Request | None] | None = None


def check_name(kind: str, name: str) -> str:
    """Validate a structure name, which travels as one path segment.

    Raises:
        InvalidName: The name is empty, ``.``/``..``, or contains ``/`` (the server
            cannot route those, even percent-encoded).
        UnsupportedValue: The name is not a ``str``.
    """
    if not isinstance(name, str):
        raise UnsupportedValue(f"{kind} names must be str, not {type(name).__name__}")
    if name in ("", ".", "..") or "/" in name:
        raise InvalidName(f"{kind} name {name!r} cannot be addressed over REST")
    return name


def path_segment(value: str) -> str | None:
    """Percent-encode one path segment; ``None`` when no encoding can carry it.

    ``/`` is refused by the server even as ``%2F``, and ``.``/``..`` are removed by
    URL normalisation, so those (and the empty string) have no path form.
    """
    if value in ("", ".", "..") or "/" in value:
        return None
    return quote(value, safe="")


def query_value(value: Any) -> str:
    """Encode a GET parameter the way the server reads it: JSON, then percent-encoded."""
    return quote(encode_json(value), safe="")


def encode_json(value: Any) -> bytes:
    """Encode ``value`` as JSON.

    Raises:
        UnsupportedValue: The value has no JSON form.
    """
    try:
        return _json_encoder.encode(value)
    except (TypeError, msgspec.EncodeError) as exc:
        raise UnsupportedValue(f"value cannot be sent as JSON: {exc}") from exc


def encode_body(fields: dict[str, Any]) -> bytes:
    """Encode a request body; its keys are the server method's keyword arguments."""
    return encode_json(fields)


def target(*segments: str, query: Sequence[tuple[str, Any]] = ()) -> str:
    """Join already-encoded path segments and JSON-encode the query parameters."""
    path = "/" + "/".join(segments)
    if not query:
        return path
    return path + "?" + "&".join(f"{key}={query_value(value)}" for key, value in query)


def result_of(call: Call[T], status: int, body: bytes) -> T:
    """Return the result of ``call`` for a ``(status, body)`` reply.

    Raises:
        BeaverError: The matching subclass for an error reply.
    """
    if status < 300:
        return call.decode(_success_body(status, body))
    raise error_for(status, body, call.on_error)


def undo_of(call: Call[Any], status: int, body: bytes) -> Request | None:
    """The request that puts back what ``call``'s reply took, or ``None``."""
    if call.undo is None or status >= 300:
        return None
    try:
        return call.undo(_success_body(status, body))
    except ServerError:
        return None


def _success_body(status: int, body: bytes) -> Any:
    try:
        return _json_decoder.decode(body) if body else None
    except msgspec.DecodeError as exc:
        raise ServerError("the server sent a body that is not JSON", status=status) from exc


def error_for(status: int, body: bytes, on_error: ErrorHook | None = None) -> BeaverError:
    """Turn an error reply into the matching exception (returned, not raised)."""
    name, message = _envelope(body)
    if status == 401:
        return AuthError("the server refused the request: missing or wrong API key")
    if on_error is not None and name:
        specific = on_error(name, message)
        if specific is not None:
            return specific
    if not name:
        # FastAPI's own replies ({"detail": ...}): no such route or method.
        return ServerError(
            f"HTTP {status} with no error envelope; is this a BeaverDB 2.4 REST server?",
            status=status,
        )
    if status == 409 or name.endswith("TimeoutError"):
        return RemoteTimeout(message)
    if status == 400:
        return BadRequest(f"{name}: {message}", error=name)
    if name == "IndexError":
        return IndexOutOfRange(message)
    return ServerError(f"{name}: {message}", status=status, error=name)


def _envelope(body: bytes) -> tuple[str, str]:
    try:
        data = _json_decoder.decode(body)
    except msgspec.DecodeError:
        return "", ""
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"], str(data.get("message", ""))
    return "", ""
