"""The nats-py client with a shortcut on the receive path of bulk writes.

A bulk insert receives one acknowledgement per write plus the feed's copy of
each row; nats-py turns every one of them into a ``Msg``, parses its headers,
queues it and hands it to a callback task. A subscription registered with
:meth:`Client.direct` (the write-acknowledgement inbox, the bucket feeds)
instead gets ``(subject, reply, data, headers)`` straight from the protocol
parser, synchronously: no ``Msg``, no queue, no task switch. The handlers read
the few headers they need with :func:`header_value` / :func:`header_block`.

This relies on private nats-py members, listed in :data:`INTERNALS`:
``_process_msg`` is hooked on the receive path, ``_send_command``,
``_flush_pending`` and ``_flush_queue`` queue ready-made frames on the send
path (``_publisher``), a subscription's ``_id`` is its sid, and
``_server_info`` (the server's ``INFO``) tells whether it belongs to a cluster. pyproject.toml
pins the nats-py releases they were checked against (:data:`SUPPORTED_RANGE`);
importing this module with a nats-py whose members differ raises an
``ImportError`` naming the member, and ``tests/adapters/nats/test_internals.py``
fails loudly on the same change.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, Final

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

__all__ = [
    "INTERNALS",
    "SUPPORTED_RANGE",
    "Client",
    "DirectHandler",
    "check_internals",
    "header_block",
    "header_value",
]

logger = logging.getLogger("adapters")

SUPPORTED_RANGE: Final = ">=2.15,<2.17"
"""The nats-py releases whose internals this module was checked against (as in pyproject.toml)."""

INTERNALS: Final[dict[str, tuple[str, ...]]] = {
    "Client._process_msg": ("self", "sid", "subject", "reply", "data", "headers"),
    "Client._send_command": ("self", "cmd", "priority"),
    "Client._flush_pending": ("self", "force_flush"),
    "Subscription.__init__": ("self", "conn", "id"),  # stored as ``_id``: the sid
}
"""Private nats-py methods we call or override, with their leading parameters."""

INSTANCE_ATTRIBUTES: Final = ("_flush_queue", "_server_info")
"""Private attributes of a nats-py client that must exist once it is built."""

DirectHandler = Callable[[bytes, bytes, bytes, bytes], None]
"""Receives ``(subject, reply, data, raw header block or b"")`` of one message."""


def check_internals(
    classes: dict[str, type[Any]] | None = None,
) -> None:
    """Verify the private nats-py members of :data:`INTERNALS`.

    Raises:
        ImportError: a member is missing or has other parameters (named in the message).
    """
    found = classes if classes is not None else {"Client": NATS, "Subscription": Subscription}
    for name, expected in INTERNALS.items():
        owner, _, member = name.partition(".")
        method = getattr(found[owner], member, None)
        params = () if method is None else tuple(inspect.signature(method).parameters)
        if params[: len(expected)] != expected:
            _unsupported(f"{name}{expected} is now {name}{params or ' (missing)'}")


def _unsupported(what: str) -> None:
    raise ImportError(
        f"nats-py {version('nats-py')} is not supported by the nats:// backend, which "
        f"needs nats-py{SUPPORTED_RANGE}: {what}",
        name=__name__,
    )


check_internals()


class Client(NATS):
    """nats-py's client, plus :meth:`direct`."""

    def __init__(self) -> None:
        super().__init__()
        self._direct_handlers: dict[int, DirectHandler] = {}
        missing = [name for name in INSTANCE_ATTRIBUTES if not hasattr(self, name)]
        if missing:
            _unsupported(f"the client has no {', '.join(missing)}")

    def direct(self, subscription: Subscription, handler: DirectHandler) -> None:
        """Deliver ``subscription``'s messages to ``handler`` from the parser."""
        self._direct_handlers[subscription._id] = handler

    def undirect(self, subscription: Subscription) -> None:
        """Stop delivering ``subscription``'s messages directly."""
        self._direct_handlers.pop(subscription._id, None)

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
