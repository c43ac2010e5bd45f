"""Pure reconnect policy: a backoff iterator and two "is it worth retrying" predicates.

Nothing here sleeps or touches a socket. The client's reconnect supervisor
asks the policy for the delays of one outage (a fresh iterator per outage, so
the backoff resets after every successful connect), whether a close code
allows reconnecting, and whether an error raised while reconnecting (a
rejected login, for example) ends the attempts. Pass your own policy as
``NoexClient(url, options, reconnect_policy=...)``: a :class:`ReconnectPolicy`
with other fatal close codes, or a subclass overriding any of the three.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Final

from ._errors import SessionRevokedError, UnauthorizedError
from ._options import ReconnectOptions

__all__ = ["FATAL_CLOSE_CODES", "ReconnectPolicy", "is_retryable"]

#: Close codes after which reconnecting cannot help (code → the server's reason).
FATAL_CLOSE_CODES: Final[Mapping[int, str]] = {
    1003: "binary_not_supported",
    4002: "session_revoked",
    4003: "too_many_connections",
}


def is_retryable(close_code: int) -> bool:
    """Whether the default policy reconnects after a close with ``close_code``."""
    return close_code not in FATAL_CLOSE_CODES


class ReconnectPolicy:
    """Backoff delays from :class:`ReconnectOptions` plus the retry predicates.

    Args:
        options: Delays, multiplier, jitter and the retry budget.
        rng: Source of jitter; pass a seeded ``random.Random`` for reproducible runs.
        fatal_close_codes: Close codes that end the client ``disconnected``
            instead of reconnecting (default :data:`FATAL_CLOSE_CODES`).
    """

    def __init__(
        self,
        options: ReconnectOptions | None = None,
        rng: random.Random | None = None,
        *,
        fatal_close_codes: frozenset[int] | set[int] | Mapping[int, str] | None = None,
    ) -> None:
        self.options = options if options is not None else ReconnectOptions()
        self._rng = rng if rng is not None else random.Random()
        codes = FATAL_CLOSE_CODES if fatal_close_codes is None else fatal_close_codes
        self.fatal_close_codes: frozenset[int] = frozenset(codes)

    def __repr__(self) -> str:
        return (
            f"ReconnectPolicy({self.options!r}, "
            f"fatal_close_codes={sorted(self.fatal_close_codes)!r})"
        )

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
        """Whether to reconnect after the connection closed with ``close_code``."""
        return close_code not in self.fatal_close_codes

    def is_fatal(self, error: Exception) -> bool:
        """Whether ``error``, raised by a reconnect attempt, ends the attempts.

        The default stops on a rejected automatic login (``UNAUTHORIZED``,
        ``SESSION_REVOKED``): retrying the same credentials cannot succeed.
        Transport failures and other server errors are retried.
        """
        return isinstance(error, UnauthorizedError | SessionRevokedError)
