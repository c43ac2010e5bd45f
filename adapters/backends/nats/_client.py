"""The nats-py client with a shortcut on the receive path of bulk writes.

A bulk insert receives one acknowledgement per write plus the feed's copy of
each row; nats-py turns every one of them into a ``Msg``, parses its headers,
queues it and hands it to a callback task. A subscription registered with
:meth:`Client.direct` (the write-acknowledgement inbox, the bucket feeds)
instead gets ``(subject, reply, data, headers)`` straight from the protocol
parser, synchronously: no ``Msg``, no queue, no task switch. The handlers read
the few headers they need with :func:`header_value` / :func:`header_block`.

This hooks nats-py's ``_process_msg``. When the installed nats-py does not have
it with the expected parameters, :data:`SUPPORTED` is false and the client
behaves exactly like nats-py's (direct subscriptions then fall back to their
callback).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NATS

__all__ = ["SUPPORTED", "Client", "DirectHandler", "header_block", "header_value"]

logger = logging.getLogger("adapters")

DirectHandler = Callable[[bytes, bytes, bytes, bytes], None]
"""Receives ``(subject, reply, data, raw header block or b"")`` of one message."""


def _params(name: str) -> list[str]:
    method = getattr(NATS, name, None)
    if method is None:
        return []
    return list(inspect.signature(method).parameters)


SUPPORTED = _params("_process_msg") == ["self", "sid", "subject", "reply", "data", "headers"]


class Client(NATS):
    """nats-py's client, plus :meth:`direct`."""

    def __init__(self) -> None:
        super().__init__()
        self._direct_handlers: dict[int, DirectHandler] = {}

    def direct(self, subscription: Any, handler: DirectHandler) -> bool:
        """Deliver ``subscription``'s messages to ``handler`` from the parser.

        Returns ``False`` (and changes nothing) when this nats-py version is not
        supported: the subscription's own callback keeps receiving them.
        """
        sid = getattr(subscription, "_id", None)
        if not SUPPORTED or not isinstance(sid, int):
            return False
        self._direct_handlers[sid] = handler
        return True

    def undirect(self, subscription: Any) -> None:
        """Stop delivering ``subscription``'s messages directly."""
        self._direct_handlers.pop(getattr(subscription, "_id", -1), None)

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes
    ) -> None:
        handler = self._direct_handlers.get(sid)
        if handler is None:
            await super()._process_msg(sid, subject, reply, data, headers)
            return
        stats = self.stats
        stats["in_msgs"] += 1
        stats["in_bytes"] += len(data)
        try:
            handler(subject, reply, data, headers or b"")
        except Exception:
            # Never let a handler's bug reach nats-py's read loop (it would
            # treat it as a protocol error and reconnect).
            logger.exception("nats: handling a message on %r failed", subject)


def header_block(raw: bytes) -> tuple[str, str, dict[str, str]]:
    """``(status, description, fields)`` of any header block, leniently.

    ``NATS/1.0 100 Idle Heartbeat`` gives status ``"100"`` and description
    ``"Idle Heartbeat"``; a block without a status line gives ``""`` for both.
    Lines without a colon are skipped; values are decoded as UTF-8 with
    replacement characters.
    """
    first, _, rest = raw.partition(b"\r\n")
    _, _, status_line = first.decode("ascii", "replace").partition(" ")
    status, _, description = status_line.strip().partition(" ")
    fields: dict[str, str] = {}
    for line in rest.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        name = name.strip()
        if sep and name:
            fields[name.decode("ascii", "replace")] = value.strip().decode("utf-8", "replace")
    return status, description.strip(), fields


def header_value(raw: bytes, name: str) -> str | None:
    """The value of header ``name`` in a raw block (the first one), or ``None``.

    One substring search instead of parsing every line: the bucket feeds read two
    headers of each delivery. Names match exactly, at the start of a line.
    """
    marker = b"\r\n" + name.encode() + b":"
    start = raw.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = raw.find(b"\r\n", start)
    return raw[start : end if end >= 0 else len(raw)].strip().decode("utf-8", "replace")
