"""The NATS connection shared by a store's collections, and its options."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import nats
import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from ..._options import options_from
from ..._urls import redact_url
from ._client import Client
from ._kv import ensure_bucket
from ._layout import bucket_name_error
from ._publisher import Publisher
from ._wire import dlq_entry

__all__ = ["DLQ_BUCKET", "Connection", "Options", "parse_url"]

logger = logging.getLogger("adapters")

DLQ_BUCKET = "brainless_dlq"


@dataclass(frozen=True)
class Options:
    """Options of a ``nats://`` store (URL query parameters or keyword arguments).

    Attributes:
        namespace: this application's brainlessdb namespace (``l``, ``created_by``,
            app-local bucket selection).
        prefix: prepended to every bucket name (isolation; keep ``""`` to share
            buckets with brainlessdb).
        flush_interval: seconds a write waits so that writes issued meanwhile go out
            in one batch (``0``: the next event-loop turn).
        write_timeout: seconds a write keeps retrying (e.g. while NATS restarts)
            before failing with ``BackendUnavailable``.
        attempt_timeout: seconds to wait for one acknowledgement before retrying.
        retry_delay: pause between write attempts.
        heartbeat: idle-heartbeat interval of the bucket feeds; two missed beats
            make a feed resubscribe from the last revision it saw.
        connect_timeout: seconds for the initial connection.
        reads: ``"fresh"`` (default): a read first waits until the mirror holds every
            write acknowledged before it (one stream-info request), then is served
            from memory; ``"local"``: served from memory at once, like brainlessdb
            (microseconds, but another process's write may not be visible yet).
        on_invalid: what to do with a config row this process cannot decode:
            ``"quarantine"`` (default) copies it to ``brainless_dlq`` and leaves it
            in place; ``"delete"`` also deletes it like brainlessdb does.
        history: revisions kept per key by the buckets this store creates (1-64;
            brainlessdb's 64 by default). It bounds how far back
            ``watch(since=...)`` can resume; existing buckets keep theirs.
    """

    namespace: str = "default"
    prefix: str = ""
    flush_interval: float = 0.0
    write_timeout: float = 10.0
    attempt_timeout: float = 2.0
    retry_delay: float = 0.1
    heartbeat: float = 1.0
    connect_timeout: float = 2.0
    on_invalid: Literal["quarantine", "delete"] = "quarantine"
    reads: Literal["fresh", "local"] = "fresh"
    history: int = 64

    def __post_init__(self) -> None:
        if not 1 <= self.history <= 64:
            raise ValueError(f"nats option 'history' must be 1 to 64, got {self.history}")
        if not self.namespace:
            raise ValueError("nats option 'namespace' must not be empty")
        if self.prefix and bucket_name_error(self.prefix):
            raise ValueError(f"nats option 'prefix': {bucket_name_error(self.prefix)}")


def parse_url(url: str, overrides: dict[str, Any]) -> tuple[str, Options]:
    """Split a ``nats://`` URL into the server URL and :class:`Options`.

    Raises:
        ValueError: unknown option or a value of the wrong type (message names it).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("nats", "tls"):
        raise ValueError(f"not a nats:// URL: {redact_url(url)}")
    options = options_from(Options, "nats", parts.query, overrides)
    server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return server, options


class Connection:
    """One NATS connection, its JetStream context and the pipelined writer."""

    def __init__(self, server: str, options: Options) -> None:
        self.server = server
        self.url = redact_url(server)
        self.options = options
        self.nc = Client()
        self._js: JetStreamContext | None = None
        self.publisher = Publisher(
            self.nc,
            write_timeout=options.write_timeout,
            attempt_timeout=options.attempt_timeout,
            retry_delay=options.retry_delay,
            flush_interval=options.flush_interval,
        )
        self._buckets: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def js(self) -> JetStreamContext:
        """The JetStream context (after :meth:`connect`)."""
        if self._js is None:
            raise RuntimeError("not connected")
        return self._js

    async def connect(self) -> None:
        """Connect; raises ``OSError``/``nats.errors.Error`` if NATS is unreachable."""

        async def on_error(exc: Exception) -> None:
            logger.debug("nats: connection error: %s", type(exc).__name__)

        async def on_disconnect() -> None:
            if not self._closing:
                logger.warning("nats: disconnected from %s", self.url)

        async def on_reconnect() -> None:
            self.publisher.generation += 1
            logger.info("nats: reconnected to %s", self.url)

        # nats-py retries the first connection as long as reconnects are allowed
        # (forever here), so the initial attempt gets its own deadline.
        try:
            async with asyncio.timeout(self.options.connect_timeout):
                await self.nc.connect(
                    servers=[self.server],
                    connect_timeout=max(1, round(self.options.connect_timeout)),
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.2,  # type: ignore[arg-type]  # stub says int; floats work
                    error_cb=on_error,
                    disconnected_cb=on_disconnect,
                    reconnected_cb=on_reconnect,
                )
        except BaseException:
            self._closing = True
            await self.nc.close()
            raise
        self._js = self.nc.jetstream(timeout=self.options.attempt_timeout)
        await self.publisher.start()

    async def close(self) -> None:
        """Wait for pending dead-letter writes, then drain the connection."""
        if self._closing:
            return
        self._closing = True
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.publisher.stop()
        if not self.nc.is_closed:
            try:
                await self.nc.drain()
            except (nats.errors.Error, TimeoutError):
                await self.nc.close()

    def bucket(self, name: str) -> str:
        """The real bucket name of a collection (``prefix + name``)."""
        return self.options.prefix + name

    async def ensure_bucket(self, name: str, *, history: int | None = None) -> None:
        """Bind or create a bucket once per connection (``history``: see ``_kv.ensure_bucket``)."""
        if name not in self._buckets:
            kept = self.options.history if history is None else history
            await ensure_bucket(self.js, name, history=kept)
            self._buckets.add(name)

    async def drop_bucket(self, name: str) -> bool:
        """Delete a bucket; ``False`` if it did not exist."""
        self._buckets.discard(name)
        try:
            return bool(await self.js.delete_key_value(name))
        except nats.js.errors.NotFoundError:
            return False

    def dead_letter(self, bucket: str, key: str, raw: bytes, error: str) -> None:
        """Copy an undecodable row to ``brainless_dlq`` (in the background)."""
        logger.warning("nats: %s/%s cannot be decoded (%s); dead-lettered", bucket, key, error)
        task = asyncio.get_running_loop().create_task(self._dead_letter(bucket, key, raw, error))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dead_letter(self, bucket: str, key: str, raw: bytes, error: str) -> None:
        dlq_key, body = dlq_entry(bucket, self.options.namespace, key, error, raw)
        try:
            await self.ensure_bucket(DLQ_BUCKET)
            await self.publisher.write(DLQ_BUCKET, dlq_key, body)
            if self.options.on_invalid == "delete":
                await self.publisher.write(bucket, key, b"", op="DEL")
        except Exception:
            logger.exception("nats: dead-lettering %s/%s failed", bucket, key)
