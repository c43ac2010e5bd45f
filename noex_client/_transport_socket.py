"""The TCP sockets of the picows connector, opened here so that they can be released.

picows leaves its connection open when ``ws_connect`` is cancelled during the
TLS or WebSocket handshake. The connector therefore opens each socket itself
(picows' ``socket_factory``) and keeps hold of it: once the attempt is
abandoned, shutting the socket down makes picows' transport read EOF and
close, which also ends the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

__all__ = ["AttemptSockets", "connected_socket"]


class AttemptSockets:
    """The socket of one connection attempt (a new one for every redirect).

    Pass :meth:`open` to ``ws_connect`` as its ``socket_factory``.
    """

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: socket.socket | None = None

    async def open(self, host: str, port: int) -> socket.socket:
        """A connected TCP socket, handed over to picows.

        Raises:
            OSError: As :func:`connected_socket`.
        """
        self._held = None
        sock = await connected_socket(host, port)
        self._held = sock
        return sock

    def shut_down(self) -> bool:
        """Shut the handed-over socket down; ``False`` when picows holds none
        (still resolving or connecting, or its transport is already closed)."""
        sock = self._held
        if sock is None or sock.fileno() == -1:  # -1: closed by the transport
            return False
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        return True


async def connected_socket(host: str, port: int) -> socket.socket:
    """A connected, non-blocking TCP socket to the first address of ``host`` that accepts.

    Raises:
        ConnectionRefusedError: Every address refused the connection.
        OSError: Resolution failed, or connecting failed otherwise (the first such error).
    """
    loop = asyncio.get_running_loop()
    failures: list[OSError] = []
    for family, kind, proto, _name, address in await loop.getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    ):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            failures.append(exc)
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    others = [exc for exc in failures if not isinstance(exc, ConnectionRefusedError)]
    if others or not failures:
        raise others[0] if others else OSError(f"no address found for {host!r}")
    raise failures[0]
