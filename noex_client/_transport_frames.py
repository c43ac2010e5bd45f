"""Sans-I/O checks of the WebSocket frames the picows transport receives.

picows parses frames and bounds each one by ``max_size``; whole messages are
this module's job: :class:`FrameAssembler` joins fragments, bounds their sum
and rejects frames that break RFC 6455, and :func:`close_frame` reads a close
frame's code and reason. No I/O: tests feed frames directly.
"""

from __future__ import annotations

from picows import WSMsgType

from ._transport import TransportClosed

__all__ = ["FrameAssembler", "close_frame", "too_big"]

_CONT = WSMsgType.CONTINUATION


def too_big(limit: int) -> str:
    """The close reason for a message above ``max_payload_bytes``."""
    return f"message exceeds limit of {limit} bytes"


class FrameAssembler:
    """Sans-I/O: data frames in, whole messages or a close decision out.

    :meth:`feed` takes one data frame (text, binary or continuation) and
    returns the finished message, or ``None`` while a fragmented message is
    incomplete. A frame that breaks the protocol raises
    :class:`TransportClosed` with the code to close with.
    """

    __slots__ = ("_limit", "_parts", "_size")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] | None = None
        self._size = 0

    @property
    def idle(self) -> bool:
        """No fragmented message is in progress."""
        return self._parts is None

    def feed(
        self, opcode: WSMsgType, fin: bool, payload: bytes, reserved: bool = False
    ) -> bytes | None:
        """Add one data frame.

        Raises:
            TransportClosed: 1002 (reserved bits, a continuation without a
                start, a new message inside a fragmented one) or 1009 (the
                message is above the limit).
        """
        if reserved:
            raise TransportClosed(1002, "reserved bits must be 0")
        if opcode == _CONT:
            if self._parts is None:
                raise TransportClosed(1002, "unexpected continuation frame")
            self._size += len(payload)
            if self._size > self._limit:
                raise TransportClosed(1009, too_big(self._limit))
            self._parts.append(payload)
            if not fin:
                return None
            payload, self._parts = b"".join(self._parts), None
            return payload
        if self._parts is not None:
            raise TransportClosed(1002, "expected a continuation frame")
        if len(payload) > self._limit:
            raise TransportClosed(1009, too_big(self._limit))
        if not fin:
            self._parts, self._size = [payload], len(payload)
            return None
        return payload


def close_frame(payload: bytes) -> tuple[int, str]:
    """Code and reason of a received close frame (1005 when it has no code)."""
    if len(payload) < 2:
        return 1005, ""
    return int.from_bytes(payload[:2], "big"), payload[2:].decode(errors="replace")
