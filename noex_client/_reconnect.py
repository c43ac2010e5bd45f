"""Pure reconnect policy: a backoff iterator and a close-code predicate.

Nothing here sleeps or touches a socket; the client asks the policy for the
delays of one outage (a fresh iterator per outage, so the backoff resets after
every successful connect) and whether a close code allows reconnecting.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Final

from ._options import ReconnectOptions

__all__ = ["FATAL_CLOSE_CODES", "ReconnectPolicy", "is_retryable"]

#: Close codes after which reconnecting cannot help.
FATAL_CLOSE_CODES: Final = {
    1003: "binary_not_supported",
    4002: "session_revoked",
    4003: "too_many_connections",
}


def is_retryable(close_code: int) -> bool:
    """Whether the client should reconnect after a close with ``close_code``."""
    return close_code not in FATAL_CLOSE_CODES


class ReconnectPolicy:
    """Backoff delays from :class:`ReconnectOptions` plus the retry predicate.

    Args:
        options: Delays, multiplier, jitter and the retry budget.
        rng: Source of jitter; pass a seeded ``random.Random`` for reproducible runs.
    """

    def __init__(self, options: ReconnectOptions, rng: random.Random | None = None) -> None:
        self.options = options
        self._rng = rng if rng is not None else random.Random()

    def delays(self) -> Iterator[float]:
        """Delays in seconds before attempt 1, 2, ... of one outage.

        Attempt ``n`` waits ``min(initial * multiplier**(n-1), max)`` plus a
        uniform jitter in ``[0, jitter_ms]``; the iterator ends after
        ``max_retries`` attempts (never, for ``inf``).
        """
        opts = self.options
        base = float(opts.initial_delay_ms)
        attempt = 0
        while attempt < opts.max_retries:
            attempt += 1
            jitter = self._rng.uniform(0, opts.jitter_ms) if opts.jitter_ms else 0.0
            yield (min(base, opts.max_delay_ms) + jitter) / 1000.0
            # Stop growing once capped so the float never overflows in a long outage.
            if base < opts.max_delay_ms:
                base *= opts.backoff_multiplier

    def is_retryable(self, close_code: int) -> bool:
        """See :func:`is_retryable`."""
        return is_retryable(close_code)
