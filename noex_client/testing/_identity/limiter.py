"""Brute-force protection of the login operations (§3.8 "Login rate limiting").

Failures are counted per key (``user:<name>``, ``ip:<addr>``) in a fixed
window that opens with the first failure. A key with ``max_attempts``
failures in its window blocks further attempts until the window ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .._errors import RequestError

__all__ = ["LoginLimiter"]


@dataclass
class _Window:
    started: int
    failures: int


class LoginLimiter:
    """Failed-login counters.

    Args:
        max_attempts: Failures allowed per key and window (default 5).
        window_ms: Window length (default 15 minutes).
    """

    def __init__(self, max_attempts: int = 5, window_ms: int = 900_000) -> None:
        self.max_attempts = max_attempts
        self.window_ms = window_ms
        self._windows: dict[str, _Window] = {}

    def _current(self, key: str, now: int) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and window.started + self.window_ms <= now:
            del self._windows[key]
            return None
        return window

    def check(self, keys: Iterable[str], now: int) -> None:
        """Refuse the attempt when one of ``keys`` is blocked.

        Raises:
            RequestError: ``RATE_LIMITED`` with ``details.retryAfterMs`` (the
                time left in the longest blocking window).
        """
        retry = 0
        for key in keys:
            window = self._current(key, now)
            if window is not None and window.failures >= self.max_attempts:
                retry = max(retry, window.started + self.window_ms - now)
        if retry:
            raise RequestError(
                "RATE_LIMITED",
                "Too many failed login attempts. Try again later.",
                {"retryAfterMs": retry},
            )

    def fail(self, keys: Iterable[str], now: int) -> None:
        """Count one failure against every key."""
        for key in keys:
            window = self._current(key, now)
            if window is None:
                self._windows[key] = _Window(now, 1)
            else:
                window.failures += 1

    def reset(self, key: str) -> None:
        """Forget the failures of ``key`` (after a successful login)."""
        self._windows.pop(key, None)
