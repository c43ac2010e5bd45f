"""Waiting helpers: record client events and await them (no fixed sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from noex_client import NoexClient

EVENTS = (
    "connected",
    "disconnected",
    "reconnecting",
    "reconnected",
    "error",
    "welcome",
    "session_revoked",
    "request",
    "shutdown",
)


class EventLog:
    """Records every client event as ``(name, args)``."""

    def __init__(self, client: NoexClient) -> None:
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = asyncio.Event()
        for name in EVENTS:
            client.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.seen.append((name, args))
            self._changed.set()

        return record

    def names(self) -> list[str]:
        return [name for name, _ in self.seen if name != "request"]

    def args(self, name: str) -> list[tuple[Any, ...]]:
        return [args for seen, args in self.seen if seen == name]

    async def wait(self, name: str, count: int = 1, within_s: float = 5.0) -> list[tuple[Any, ...]]:
        async with asyncio.timeout(within_s):
            while len(self.args(name)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.args(name)


async def until(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    """Poll ``predicate`` (yielding to the loop) until it holds or the deadline passes."""
    async with asyncio.timeout(within_s):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.001)
