"""The I/O seam: settings, and the sync and async senders over httpx.

Both senders do the same three things and nothing else: send a
:class:`~adapters.beaver._wire.Request`, survive the server's connection drops, and
hand ``(status, body)`` to :func:`~adapters.beaver._wire.result_of`.

Why the transports below exist: after every error reply the BeaverDB server
closes the TCP connection without a ``Connection: close`` header, so a pooled
keep-alive connection looks reusable and the *next* request on it fails with a
reset. The transports read error replies in full, then shut the socket down
before the connection goes back to the pool, so the pool sees it as closed and
never reuses it. As a second line of defence, an idempotent request (GET, PUT,
DELETE) that fails on a dropped connection is sent once more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

try:
    import httpx
except ImportError as exc:  # keep name="httpx": adapters.connect maps it to MissingExtra
    raise ImportError(
        "adapters.beaver needs the 'beaver' extra: pip install 'noex-client[beaver]'",
        name=exc.name,
    ) from exc

from adapters.beaver._errors import ConnectionFailed, RemoteTimeout
from adapters.beaver._wire import Call, Request, result_of

__all__ = ["DEFAULT_QUEUE_POLL", "AsyncSender", "Settings", "SyncSender"]

logger = logging.getLogger("adapters")
T = TypeVar("T")

DEFAULT_QUEUE_POLL = 0.5
"""Default longest pause, in seconds, between two polls of an empty queue."""

# Failures that mean "the connection was dropped under us", not "the server is down".
_DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    """Connection settings shared by the sync and async clients.

    Attributes:
        base_url: ``http(s)://host:port`` with no trailing slash.
        api_key: The server's bearer key, or ``None`` (never shown in reprs).
        timeout: HTTP timeout in seconds (``None``: none).
        queue_poll: Longest pause between two polls of an empty queue by a blocking
            ``queue.get`` (the wait before an item put meanwhile is noticed).
        max_connections: Connection pool size.
    """

    base_url: str
    api_key: str | None = None
    timeout: float | None = 30.0
    queue_poll: float = DEFAULT_QUEUE_POLL
    max_connections: int = 20

    @classmethod
    def build(
        cls,
        base_url: str,
        api_key: str | None,
        timeout: float | None,
        queue_poll: float | None,
        max_connections: int,
    ) -> Settings:
        """Validate the client arguments.

        Raises:
            ValueError: Bad URL scheme, or a setting out of range.
        """
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port], got {safe_url(base_url)!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0 or None, got {timeout!r}")
        if queue_poll is None:
            queue_poll = DEFAULT_QUEUE_POLL
        if not queue_poll > 0:
            raise ValueError(f"queue_poll must be > 0, got {queue_poll!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections!r}")
        return cls(base_url.rstrip("/"), api_key, timeout, queue_poll, max_connections)

    def __repr__(self) -> str:
        key = "None" if self.api_key is None else "'***'"
        return (
            f"Settings(base_url={self.safe_url!r}, api_key={key}, timeout={self.timeout!r}, "
            f"queue_poll={self.queue_poll!r}, max_connections={self.max_connections!r})"
        )

    @property
    def safe_url(self) -> str:
        """The base URL without credentials, for messages."""
        return safe_url(self.base_url)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments shared by ``httpx.Client`` and ``httpx.AsyncClient``."""
        headers = {"content-type": "application/json"}
        if self.api_key is not None:
            headers["authorization"] = f"Bearer {self.api_key}"
        return {
            "base_url": self.base_url,
            "headers": headers,
            "timeout": self.timeout,
            "follow_redirects": False,
        }

    def limits(self) -> httpx.Limits:
        """The connection pool limits."""
        return httpx.Limits(
            max_connections=self.max_connections, max_keepalive_connections=self.max_connections
        )


def safe_url(url: str) -> str:
    """``url`` with any ``user:password@`` part removed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _shutdown(response: httpx.Response) -> None:
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    # A socket.socket (sync) or asyncio's TransportSocket (async); both have shutdown().
    if sock is not None and hasattr(sock, "shutdown"):
        # OSError: already closed by the peer, nothing left to do.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _drops_connection(response: httpx.Response) -> bool:
    # The server's exception handler (every error but the auth middleware's 401)
    # closes the connection after replying.
    return response.status_code >= 400 and response.status_code != 401


class _SyncTransport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if _drops_connection(response):
            try:
                body = b"".join(cast(httpx.SyncByteStream, response.stream))
                _shutdown(response)
            finally:
                response.close()
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        return response


class _AsyncTransport(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if _drops_connection(response):
            try:
                stream = cast(httpx.AsyncByteStream, response.stream)
                body = b"".join([chunk async for chunk in stream])
                _shutdown(response)
            finally:
                await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        return response


def _failed(settings: Settings, exc: httpx.HTTPError) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return RemoteTimeout(f"no reply from {settings.safe_url} in time ({type(exc).__name__})")
    return ConnectionFailed(f"request to {settings.safe_url} failed: {type(exc).__name__}: {exc}")


class SyncSender:
    """Sends calls over one ``httpx.Client`` (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        transport = _SyncTransport(limits=settings.limits())
        self._http = httpx.Client(transport=transport, **settings.client_options())

    def send(self, call: Call[T]) -> T:
        """Send ``call`` and return its result.

        Raises:
            BeaverError: The error reply's subclass, :class:`ConnectionFailed` or
                :class:`RemoteTimeout` for network failures.
        """
        return result_of(call, *self.exchange(call.request))

    def exchange(self, request: Request) -> tuple[int, bytes]:
        """Send ``request``; return the reply's status and body.

        Raises:
            ConnectionFailed: Network failure.
            RemoteTimeout: No reply within the HTTP timeout.
        """
        try:
            try:
                response = self._send(request)
            except _DROPPED:
                if not request.idempotent:
                    raise
                logger.debug("connection dropped; resending %s once", request.method)
                response = self._send(request)
        except httpx.HTTPError as exc:
            raise _failed(self.settings, exc) from exc
        return response.status_code, response.content

    def _send(self, request: Request) -> httpx.Response:
        return self._http.request(request.method, request.target, content=request.body)

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran."""
        return self._http.is_closed


class AsyncSender:
    """Sends calls over one ``httpx.AsyncClient``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        transport = _AsyncTransport(limits=settings.limits())
        self._http = httpx.AsyncClient(transport=transport, **settings.client_options())
        # Callers beyond the pool size wait here, in O(1), rather than in httpcore's
        # pool queue, which is rescanned on every request and gets slow when long.
        self._slots = asyncio.Semaphore(settings.max_connections)

    async def send(self, call: Call[T]) -> T:
        """Send ``call`` and return its result (same errors as :meth:`SyncSender.send`)."""
        request = call.request
        try:
            try:
                response = await self._send(request)
            except _DROPPED:
                if not request.idempotent:
                    raise
                logger.debug("connection dropped; resending %s once", request.method)
                response = await self._send(request)
        except httpx.HTTPError as exc:
            raise _failed(self.settings, exc) from exc
        return result_of(call, response.status_code, response.content)

    async def _send(self, request: Request) -> httpx.Response:
        async with self._slots:
            return await self._http.request(request.method, request.target, content=request.body)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` ran."""
        return self._http.is_closed
