"""Wire types of protocol 1.0.0 as msgspec Structs, one decoder, one encoder (sans-I/O).

Every server→client frame is one member of the tagged union :data:`ServerMessage`
(tag field ``type``). Absent ``data`` / ``details`` decode as ``None`` because
the server drops ``undefined`` keys. Anything that is not a valid server
message raises :class:`~noex_client.ProtocolError`, whatever was wrong with it.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ._errors import ProtocolError

__all__ = [
    "CLOSE_SESSION_REVOKED",
    "JSON_NULL",
    "Error",
    "Ping",
    "Pong",
    "Push",
    "Result",
    "ServerMessage",
    "System",
    "Welcome",
    "decode",
    "encode_pong",
    "encode_request",
]


#: The close code the server sends right after a ``session_revoked`` system message.
CLOSE_SESSION_REVOKED: Final = 4002

#: Sent as an explicit JSON ``null``: the request encoder omits ``None`` fields, but
#: some fields must be present even when null (``rules.setFact`` ``value``).
JSON_NULL: Final = msgspec.Raw(b"null")

# gc=False: wire messages never take part in reference cycles, so they need not be
# tracked by the cyclic GC (fewer collections on the hot path).


class Welcome(
    msgspec.Struct, tag="welcome", tag_field="type", rename="camel", frozen=True, gc=False
):
    """First frame on every connection."""

    version: str
    server_time: int | float
    requires_auth: bool


class Result(msgspec.Struct, tag="result", tag_field="type", frozen=True, gc=False):
    """Successful response to request ``id``."""

    id: int | float
    data: Any = None


class Error(msgspec.Struct, tag="error", tag_field="type", frozen=True, gc=False):
    """Error response; ``id == 0`` means a parse-stage error not tied to a request."""

    id: int | float
    code: str
    message: str
    details: Any = None


class Push(msgspec.Struct, tag="push", tag_field="type", rename="camel", frozen=True, gc=False):
    """Subscription push (``channel`` is ``"subscription"`` or ``"event"``)."""

    channel: str
    subscription_id: str
    data: Any = None


class Ping(msgspec.Struct, tag="ping", tag_field="type", frozen=True, gc=False):
    """Server heartbeat; must be answered by a :class:`Pong` echoing ``timestamp``."""

    timestamp: int | float


class System(msgspec.Struct, tag="system", tag_field="type", rename="camel", frozen=True, gc=False):
    """Server notice: ``event`` is ``"shutdown"`` (with a grace period) or
    ``"session_revoked"`` (with a reason); unknown events are kept as-is."""

    event: str
    grace_period_ms: int | float | None = None
    reason: str | None = None


class Pong(msgspec.Struct, tag="pong", tag_field="type", frozen=True, gc=False):
    """Client heartbeat answer."""

    timestamp: int | float


ServerMessage = Welcome | Result | Error | Push | Ping | System

_decoder: Final = msgspec.json.Decoder(ServerMessage)
_encoder: Final = msgspec.json.Encoder()


def decode(frame: str | bytes) -> ServerMessage:
    """Decode one server frame.

    Raises:
        ProtocolError: The frame is not JSON or not a protocol 1.0.0 server
            message; the message says what was wrong (with a JSON path).
    """
    try:
        message: ServerMessage = _decoder.decode(frame)
        return message
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ProtocolError(message=f"undecodable server frame: {exc}") from None


def encode_request(request_id: int, op: str, fields: dict[str, Any]) -> bytes:
    """Encode a request; ``None``-valued fields are omitted from the wire.

    Raises:
        TypeError: A field is named ``id``/``type`` or cannot be encoded as JSON.
    """
    if "id" in fields or "type" in fields:
        raise TypeError("request fields must not be named 'id' or 'type' (the frame uses them)")
    body: dict[str, Any] = {"id": request_id, "type": op, **fields}
    if None in fields.values():  # rare: only then pay for a filtered copy
        body = {key: value for key, value in body.items() if value is not None}
    return _encoder.encode(body)


def encode_pong(timestamp: int | float) -> bytes:
    """Encode the pong answering a ping with ``timestamp``."""
    return _encoder.encode(Pong(timestamp))
