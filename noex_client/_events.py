"""Lifecycle events: a tiny synchronous emitter with typed ``on()`` overloads.

Handlers run synchronously, in registration order, in the emitting task. A
handler that raises is logged and skipped; it never breaks the client or the
other handlers. A handler may return an awaitable; it is then run as a task.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["EVENT_NAMES", "EventEmitter", "EventName", "RequestInfo", "Unsubscribe"]

logger = logging.getLogger("noex_client")

EventName = Literal[
    "connected",
    "disconnected",
    "reconnecting",
    "reconnected",
    "error",
    "welcome",
    "session_revoked",
    "request",
    "shutdown",
]
EVENT_NAMES: frozenset[str] = frozenset(EventName.__args__)  # type: ignore[attr-defined]

#: Calling it removes the handler (idempotent).
Unsubscribe = Callable[[], None]


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What the ``request`` event reports about one finished request.

    Attributes:
        op: The operation type, e.g. ``"store.insert"``.
        duration_ms: Time from sending to the outcome.
        outcome: ``"ok"`` or the error code (``"TIMEOUT"``, ``"NOT_FOUND"``, ...).
        fields: The request fields with secrets (token, password, secret)
            replaced by ``"***"``.
    """

    op: str
    duration_ms: float
    outcome: str
    fields: dict[str, Any]


class EventEmitter:
    """Named events with synchronous fan-out and error isolation."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on(self, event: str, handler: Callable[..., Any]) -> Unsubscribe:
        """Register ``handler`` for ``event``; returns a callable removing it.

        Raises:
            ValueError: ``event`` is not one of :data:`EVENT_NAMES`.
        """
        if event not in EVENT_NAMES:
            raise ValueError(f"unknown event {event!r}; expected one of {sorted(EVENT_NAMES)}")
        handlers = self._handlers.setdefault(event, [])
        handlers.append(handler)

        def unsubscribe() -> None:
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def has(self, event: str) -> bool:
        """Whether ``event`` has at least one handler (skip costly payloads if not)."""
        return bool(self._handlers.get(event))

    def emit(self, event: str, *args: Any) -> None:
        """Call every handler of ``event`` with ``args``; handler errors are logged."""
        handlers = self._handlers.get(event)
        if not handlers:
            return
        for handler in list(handlers):
            try:
                outcome = handler(*args)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    self._tasks.add(task)
                    task.add_done_callback(self._task_done)
            except Exception:
                # Only logged: re-emitting as "error" could loop through an "error" handler.
                logger.exception("noex_client: %r event handler raised", event)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("noex_client: async event handler raised", exc_info=task.exception())
