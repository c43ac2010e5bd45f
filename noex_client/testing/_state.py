"""Per-connection state shared by the dispatcher and the WebSocket layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._errors import RequestError

__all__ = ["ConnectionState", "Session", "release_subscription"]


@dataclass(frozen=True)
class Session:
    """An authenticated session.

    Attributes:
        user_id: The user id reported by ``auth.login``/``whoami``.
        roles: Role names; ``reader``/``writer``/``admin`` drive the tier check.
        expires_at: Expiry in ms since the epoch, or ``None``.
        token: The built-in identity session token this connection logged in
            with (``identity.login``); ``None`` otherwise. Never in reprs.
    """

    user_id: str
    roles: tuple[str, ...] = ()
    expires_at: int | None = None
    token: str | None = field(default=None, repr=False, compare=False)

    def to_wire(self) -> dict[str, Any]:
        """``{userId, roles, expiresAt}`` as ``auth.login`` returns it."""
        return {"userId": self.user_id, "roles": list(self.roles), "expiresAt": self.expires_at}


@dataclass
class ConnectionState:
    """What the server knows about one connection.

    Attributes:
        id: ``conn-N``.
        remote_address: The peer IP.
        connected_at: Connect time in ms.
        send: Queues a frame for this connection (never blocks).
        close: Closes the connection with a code and reason.
    """

    id: str
    remote_address: str
    connected_at: int
    send: Callable[[dict[str, Any]], None]
    close: Callable[[int, str], None]
    session: Session | None = None
    store_subs: dict[str, None] = field(default_factory=dict)
    rules_subs: dict[str, None] = field(default_factory=dict)
    view_subs: dict[str, None] = field(default_factory=dict)
    open: bool = True
    last_ping: float | None = None
    last_pong: float = 0.0

    @property
    def subscription_count(self) -> int:
        """Store, rules and view subscriptions together (the limits count them all)."""
        return len(self.store_subs) + len(self.rules_subs) + len(self.view_subs)


def release_subscription(subs: dict[str, None], sub_id: str) -> None:
    """Remove ``sub_id`` from one of a connection's subscription tables.

    Raises:
        RequestError: ``NOT_FOUND`` ``Subscription "<id>" not found`` (each
            kind of subscription keeps its own table).
    """
    if sub_id not in subs:
        raise RequestError("NOT_FOUND", f'Subscription "{sub_id}" not found')
    del subs[sub_id]
