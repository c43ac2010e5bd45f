"""The NATS connection shared by a store's collections, and its options."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from ..._options import options_from
from ..._urls import redact_url
from ._client import Client
from ._kv import KVWriteError, ensure_bucket
from ._layout import bucket_name_error
from ._publisher import Publisher
from ._retry import Patience
from ._seeds import Seeds, parse_seeds
from ._wire import dlq_entry

__all__ = ["DLQ_BUCKET", "Connection", "Options", "cluster_size", "parse_url"]

logger = logging.getLogger("adapters")

DLQ_BUCKET = "brainless_dlq"

_SINGLE_WRITE_TIMEOUT = 10.0
_CLUSTER_WRITE_TIMEOUT = 30.0


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
        write_timeout: seconds a write keeps retrying (e.g. while NATS restarts
            or a cluster elects a new leader) before failing with
            ``BackendUnavailable``; also bounds the retries of bucket binding,
            feed resubscription and fresh reads. ``None`` (default): 10 on a
            single server, 30 on a cluster (after a server is lost, nats-server
            takes several seconds, sometimes over 10, to elect new leaders).
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
        replicas: copies kept of every bucket this store creates (1-5), or
            ``"auto"`` (default): 3 when the server connected to belongs to a
            cluster of at least 3 servers (the cluster name and the client
            addresses it advertises in its ``INFO``, together with the URL's seed
            list), else 1. An explicit number also raises existing buckets that
            have fewer (never lowers them); ``"auto"`` binds them as they are.
    """

    namespace: str = "default"
    prefix: str = ""
    flush_interval: float = 0.0
    write_timeout: float | None = None
    attempt_timeout: float = 2.0
    retry_delay: float = 0.1
    heartbeat: float = 1.0
    connect_timeout: float = 2.0
    on_invalid: Literal["quarantine", "delete"] = "quarantine"
    reads: Literal["fresh", "local"] = "fresh"
    history: int = 64
    replicas: Literal["auto"] | int = "auto"

    def __post_init__(self) -> None:
        if self.replicas != "auto" and not 1 <= self.replicas <= 5:
            raise ValueError(
                f"nats option 'replicas' must be 1 to 5 or 'auto', got {self.replicas}"
            )
        if not 1 <= self.history <= 64:
            raise ValueError(f"nats option 'history' must be 1 to 64, got {self.history}")
        if not self.namespace:
            raise ValueError("nats option 'namespace' must not be empty")
        if self.prefix and bucket_name_error(self.prefix):
            raise ValueError(f"nats option 'prefix': {bucket_name_error(self.prefix)}")


def parse_url(url: str, overrides: dict[str, Any]) -> tuple[Seeds, Options]:
    """Split a ``nats://`` URL (one server or a seed list) into its servers and :class:`Options`.

    Raises:
        ValueError: unknown option, a value of the wrong type, or a malformed
            server address (the message names it, never the credentials).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("nats", "tls"):
        raise ValueError(f"not a nats:// URL: {redact_url(url)}")
    options = options_from(Options, "nats", parts.query, overrides)
    return parse_seeds(parts.scheme, parts.netloc), options


def cluster_size(server_info: dict[str, Any], seeds: Seeds) -> int:
    """How many servers the cluster of the connected server has, as far as the client knows.

    1 when the server's ``INFO`` names no cluster; otherwise the number of
    distinct client addresses it advertises (``connect_urls``, itself included)
    or of the seed list, whichever is larger (a node that is down is not
    advertised, but is still listed by the URL).
    """
    if not server_info.get("cluster"):
        return 1
    advertised = set(server_info.get("connect_urls") or ())
    return max(len(advertised), len(set(seeds.servers)), 1)


class Connection:
    """One NATS connection, its JetStream context and the pipelined writer."""

    def __init__(self, seeds: Seeds, options: Options) -> None:
        self.seeds = seeds
        # No credentials: they are not in ``servers``. ``nats://h1:4222,h2:4222``.
        scheme, _, _ = seeds.servers[0].partition("://")
        self.url = f"{scheme}://" + ",".join(s.partition("://")[2] for s in seeds.servers)
        self.options = options
        self.replicas = 1 if options.replicas == "auto" else options.replicas
        # Bucket binding, feed (re)subscription and fresh reads ride out an election.
        self.patience = self._patience(options.write_timeout or _SINGLE_WRITE_TIMEOUT)
        self.nc = Client()
        self._js: JetStreamContext | None = None
        self.publisher = Publisher(
            self.nc,
            write_timeout=self.patience.timeout,
            attempt_timeout=options.attempt_timeout,
            retry_delay=options.retry_delay,
            flush_interval=options.flush_interval,
        )
        self._buckets: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def _patience(self, write_timeout: float) -> Patience:
        options = self.options
        return Patience(write_timeout, options.retry_delay, options.attempt_timeout)

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
                    servers=list(self.seeds.servers),
                    user=self.seeds.user,
                    password=self.seeds.password,
                    token=self.seeds.token,
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
        size = cluster_size(self.nc._server_info, self.seeds)
        if self.options.replicas == "auto":
            self.replicas = 3 if size >= 3 else 1
        self.publisher.clustered = size > 1
        if self.options.write_timeout is None and size > 1:
            self.patience = self._patience(_CLUSTER_WRITE_TIMEOUT)
            self.publisher.write_timeout = self.patience.timeout
        logger.debug(
            "nats: connected, cluster of %d, new buckets get %d replicas", size, self.replicas
        )
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
        """Bind or create a bucket once per connection (``history``: see ``_kv.ensure_bucket``).

        Created with this store's replicas; an explicit ``replicas`` option also
        raises an existing bucket's. Retried through a leader election.
        """
        if name not in self._buckets:
            if self.replicas > 1 and not self.publisher.clustered:
                raise KVWriteError(
                    f"bucket {name} cannot have {self.replicas} replicas: "
                    "the NATS server is not part of a cluster",
                    None,
                    None,
                )
            kept = self.options.history if history is None else history
            await self.patience.run(
                f"binding bucket {name}",
                lambda: ensure_bucket(
                    self.js,
                    name,
                    history=kept,
                    replicas=self.replicas,
                    raise_replicas=self.options.replicas != "auto",
                ),
            )
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
