"""Lifecycle events: a tiny synchronous emitter with typed ``on()`` overloads.

Handlers run synchronously, in registration order, in the emitting task. A
handler that raises is logged and skipped; it never breaks the client or the
other handlers. A handler may return an awaitable; it is then run as a task.
A handler that takes fewer positional arguments than the event carries gets
the leading ones (``on("session_revoked", lambda: ...)`` and
``on("session_revoked", lambda reason: ...)`` both work).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

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


class _Handler:
    """A registered handler and how many positional arguments it accepts."""

    __slots__ = ("arity", "func")

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.arity = _arity(func)

    def __call__(self, args: tuple[Any, ...]) -> Any:
        return self.func(*args[: self.arity])


class EventEmitter:
    """Named events with synchronous fan-out and error isolation."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[_Handler]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on(self, event: str, handler: Callable[..., Any]) -> Unsubscribe:
        """Register ``handler`` for ``event``; returns a callable removing it.

        A name outside :data:`EVENT_NAMES` is accepted (it never fires) and
        logged as a warning, as code written for the published client expects.

        Raises:
            TypeError: ``handler`` is not callable.
        """
        if not callable(handler):
            raise TypeError(f"event handler must be callable, got {type(handler).__name__}")
        if event not in EVENT_NAMES:
            logger.warning(
                "noex_client: no event named %r is ever emitted; known events: %s",
                event,
                ", ".join(sorted(EVENT_NAMES)),
            )
        handlers = self._handlers.setdefault(event, [])
        entry = _Handler(handler)
        handlers.append(entry)

        def unsubscribe() -> None:
            if entry in handlers:
                handlers.remove(entry)

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
                outcome = handler(args)
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


def _arity(func: Callable[..., Any]) -> int:
    """Positional arguments ``func`` accepts (a large number for ``*args`` or unknown)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: pass everything
        return _ANY
    count = 0
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            return _ANY
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


_ANY: Final = 1_000
