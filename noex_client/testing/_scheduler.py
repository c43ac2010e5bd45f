"""The asyncio side of the rule timers: wake up when the next one is due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ._core import ServerCore

__all__ = ["TimerScheduler"]

logger = logging.getLogger("noex_client")


class TimerScheduler:
    """Fires a server's rule timers on time, with one loop timer at a time.

    The rule engine keeps timers as data and says when they change
    (``timers_changed``); the scheduler then plans one ``call_later`` for the
    earliest due time, fires what is due, sends the pushes and plans again.

    Args:
        core: Returns the current server core (a restart replaces it).
    """

    def __init__(self, core: Callable[[], ServerCore]) -> None:
        self._core = core
        self._handle: asyncio.TimerHandle | None = None
        self._running = False

    def start(self) -> None:
        """Follow the timers of the current core (call on the running loop)."""
        self._running = True
        rules = self._core().rules
        if rules is not None:
            rules.timers_changed = self.plan
        self.plan()

    def stop(self) -> None:
        """Stop firing timers (they stay in the engine)."""
        self._running = False
        self._cancel()

    def _cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def plan(self) -> None:
        """Wake up when the next timer is due (nothing to do without timers)."""
        self._cancel()
        rules = self._core().rules
        due = None if rules is None or not self._running else rules.next_timer_due()
        if rules is None or due is None:
            return
        delay = max(0, due - rules.now()) / 1000
        self._handle = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        core = self._core()
        try:
            if core.rules is not None:
                core.rules.fire_due_timers()
            core.flush()
        except Exception:  # a bug must not stop later timers
            logger.exception("test server: firing rule timers failed")
        self.plan()
