"""Riding out a JetStream leader election: which failures are transient, and the retry loop.

On a cluster, a stream (or the meta group) has no leader for a few seconds after
its leader dies. Meanwhile API requests time out or get "no responders" (503),
and the server may answer "JetStream system temporarily unavailable" (10008).
Such failures are retried by :meth:`Patience.run` until the write deadline; any
other failure is raised at once. A failure that outlasts the deadline becomes
:class:`~._kv.KVUnavailable` naming the operation, which the error translation
reports as ``BackendUnavailable``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import nats.errors
import nats.js.errors

from ._kv import KVUnavailable, api_transient

__all__ = ["Patience", "is_transient"]

logger = logging.getLogger("adapters")

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is what an election (or a reconnect in progress) looks like."""
    if isinstance(exc, nats.js.errors.APIError):
        return api_transient(exc)
    return isinstance(
        exc,
        (
            TimeoutError,  # nats.errors.TimeoutError is one too
            nats.errors.NoRespondersError,
            nats.js.errors.NoStreamResponseError,
            nats.errors.ConnectionReconnectingError,
            nats.errors.StaleConnectionError,
        ),
    )


@dataclass(frozen=True)
class Patience:
    """How long (``timeout``) and how often (``delay`` apart) transient failures are retried.

    ``attempt`` is how long one request may wait for its reply.
    """

    timeout: float
    delay: float
    attempt: float

    async def run(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        """Await ``op()`` until it succeeds, retrying transient failures until the deadline.

        Args:
            what: names the operation in the final error (no secrets).

        Raises:
            KVUnavailable: still transient at the deadline (chained to the last failure).
            Exception: any non-transient failure of ``op``, unchanged.
        """
        deadline = time.monotonic() + self.timeout
        attempts = 0
        while True:
            attempts += 1
            try:
                return await op()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if time.monotonic() + self.delay >= deadline:
                    raise KVUnavailable(
                        f"{what}: JetStream did not answer within {self.timeout:g}s "
                        f"({attempts} attempts, last: {type(exc).__name__})"
                    ) from exc
                logger.debug("nats: %s failed (%s), retrying", what, type(exc).__name__)
            await asyncio.sleep(self.delay)  # backoff between attempts, not a wait for an event
