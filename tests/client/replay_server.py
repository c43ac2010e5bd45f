"""A replay server: answers a client with the frames a real server recorded.

It serves one transcript (``tests.transcripts.load(name)``) over a real
websockets server on ``127.0.0.1`` (port 0). A client connects to
``server.url(conn, start)``: it receives the recorded welcome of connection
``conn`` and then, for each frame it sends, the server looks for the first
not-yet-used recorded ``send`` frame of ``conn`` (at ``seq >= start``) with
the same content ignoring ``id``, and sends back what the real server sent
after it: every ``recv`` frame up to the next ``send`` of that connection
(pushes, system messages, responses) plus the response to that request if it
came later (pipelining). Response ids are rewritten to the ids the client
used. Recorded pings are skipped and incoming pongs ignored; a recorded
server-initiated close is replayed with its code.

A frame matching nothing is answered with an ``error`` frame with code
``REPLAY_MISMATCH`` and recorded in :attr:`ReplayServer.mismatches`, so a
client sending the wrong request fails loudly. :attr:`ReplayServer.matched`
lists the ``seq`` of every recorded send that was matched.

:func:`scripted` builds a transcript from hand-written exchanges (for
behaviour no recording covers, written from the protocol documents), and
:func:`replaying` connects a client to one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from noex_client import ClientOptions, NoexClient
from tests.transcripts import Line, Transcript

__all__ = [
    "Exchange",
    "ReplayServer",
    "ok",
    "replay_client",
    "replaying",
    "scripted",
    "without_id",
]

#: A request frame and the frames the server sends after it.
Exchange = tuple[dict[str, Any], list[dict[str, Any]]]

GENERIC_WELCOME: dict[str, Any] = {
    "type": "welcome",
    "version": "1.0.0",
    "serverTime": 0,
    "requiresAuth": False,
}


def without_id(frame: Any) -> Any:
    """``frame`` without its ``id`` (the part a client method decides)."""
    if isinstance(frame, dict):
        return {k: v for k, v in frame.items() if k != "id"}
    return frame


class ReplayServer:
    """Serve the recorded responses of ``transcript`` (see the module docstring)."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.matched: list[int] = []
        self.mismatches: list[Any] = []
        self._by_conn: dict[str, list[Line]] = {}
        for line in transcript.lines:
            if line.conn is not None and line.dir in ("send", "recv", "close"):
                self._by_conn.setdefault(line.conn, []).append(line)
        self._used: set[int] = set()
        self._server: Server | None = None
        self._port = 0

    async def __aenter__(self) -> ReplayServer:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1] if self._server.sockets else 0
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, conn: str = "A", start: int = 0) -> str:
        """The URL replaying connection ``conn`` from recorded ``seq`` ``start`` on."""
        return f"ws://127.0.0.1:{self._port}/{conn}/{start}"

    def answer(self, send: Line) -> dict[str, Any] | None:
        """The recorded ``result``/``error`` frame answering the ``send`` line, if any."""
        lines = self._by_conn.get(send.conn or "", [])
        rid = send.frame.get("id") if isinstance(send.frame, dict) else None
        after = False
        for line in lines:
            if line is send:
                after = True
            elif after and line.dir == "recv" and _is_answer(line.frame, rid):
                frame: dict[str, Any] = line.frame
                return frame
        return None

    def pushes_after(self, send: Line) -> list[dict[str, Any]]:
        """Push frames recorded on ``send``'s connection up to its next send."""
        out: list[dict[str, Any]] = []
        for line in self._window(self._by_conn.get(send.conn or "", []), send):
            if line.dir == "recv" and line.frame.get("type") == "push":
                out.append(line.frame)
        return out

    # -- serving -------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        parts = ws.request.path.strip("/").split("/")
        conn = parts[0] if parts and parts[0] else "A"
        start = int(parts[1]) if len(parts) > 1 else 0
        lines = self._by_conn.get(conn, [])
        welcome = next(
            (ln.frame for ln in lines if ln.dir == "recv" and ln.frame.get("type") == "welcome"),
            GENERIC_WELCOME,
        )
        ids: dict[Any, Any] = {}
        sent: set[int] = set()
        try:
            await ws.send(json.dumps(welcome))
            async for message in ws:
                frame = json.loads(message)
                if isinstance(frame, dict) and frame.get("type") == "pong":
                    continue
                send = self._match(lines, start, frame)
                if send is None:
                    self.mismatches.append(frame)
                    rid = frame.get("id", 0) if isinstance(frame, dict) else 0
                    await ws.send(json.dumps(_mismatch(rid, frame)))
                    continue
                self._used.add(send.seq)
                self.matched.append(send.seq)
                ids[send.frame.get("id")] = frame.get("id")
                if await self._reply(ws, lines, send, ids, sent):
                    return
        except ConnectionClosed:
            return

    def _match(self, lines: list[Line], start: int, frame: Any) -> Line | None:
        wanted = without_id(frame)
        for line in lines:
            if (
                line.dir == "send"
                and line.seq >= start
                and line.seq not in self._used
                and "raw" not in line.raw
                and without_id(line.frame) == wanted
            ):
                return line
        return None

    @staticmethod
    def _window(lines: list[Line], send: Line) -> list[Line]:
        index = lines.index(send)
        out: list[Line] = []
        for line in lines[index + 1 :]:
            if line.dir == "send":
                break
            out.append(line)
        return out

    async def _reply(
        self,
        ws: ServerConnection,
        lines: list[Line],
        send: Line,
        ids: dict[Any, Any],
        sent: set[int],
    ) -> bool:
        """Send what followed ``send``; ``True`` when the recorded server closed."""
        window = self._window(lines, send)
        answer = self.answer(send)
        if answer is not None and not any(line.frame is answer for line in window):
            late = next(line for line in lines if line.frame is answer)
            window.append(late)
        for line in window:
            if line.dir == "close":
                if line.raw.get("initiator") == "server":
                    code, reason = int(line.raw["code"]), str(line.raw.get("reason", ""))
                    if code == 1006:  # no close frame was recorded: drop the TCP connection
                        ws.transport.abort()
                    else:
                        await ws.close(code, reason)
                    return True
                continue
            if line.seq in sent or line.frame.get("type") == "ping":
                continue
            sent.add(line.seq)
            out = dict(line.frame)
            if out.get("type") in ("result", "error") and out.get("id") in ids:
                out["id"] = ids[out["id"]]
            await ws.send(json.dumps(out))
        return False


def _is_answer(frame: Any, rid: Any) -> bool:
    return (
        isinstance(frame, dict)
        and frame.get("type") in ("result", "error")
        and rid is not None
        and frame.get("id") == rid
    )


def _mismatch(rid: Any, frame: Any) -> dict[str, Any]:
    return {
        "type": "error",
        "id": rid,
        "code": "REPLAY_MISMATCH",
        "message": "no recorded request matches this frame",
        "details": {"frame": frame},
    }


def scripted(*exchanges: Exchange) -> Transcript:
    """A transcript for connection ``A``: each request frame and what follows it."""
    lines = [Line(1, "recv", {"seq": 1, "conn": "A", "dir": "recv", "frame": GENERIC_WELCOME})]
    for request, replies in exchanges:
        for direction, frame in [("send", request), *(("recv", r) for r in replies)]:
            seq = len(lines) + 1
            lines.append(Line(seq, direction, {"seq": seq, "conn": "A", "dir": direction,
                                               "frame": frame}))  # fmt: skip
    return Transcript("scripted", {"dir": "meta"}, lines)


def ok(request_id: int, data: Any) -> dict[str, Any]:
    """A ``result`` frame answering ``request_id`` with ``data``."""
    return {"type": "result", "id": request_id, "data": data}


@asynccontextmanager
async def replay_client(
    transcript: Transcript,
    conn: str = "A",
    options: ClientOptions | None = None,
    *,
    start: int = 0,
) -> AsyncIterator[tuple[ReplayServer, NoexClient]]:
    """A client connected to connection ``conn`` of ``transcript``, from recorded
    ``seq`` ``start`` on; afterwards, nothing unrecorded may have been sent."""
    async with ReplayServer(transcript) as server:
        url = server.url(conn, start)
        client = NoexClient(url, options or ClientOptions(reconnect=False))
        await client.connect()
        try:
            yield server, client
        finally:
            await client.disconnect()
        assert server.mismatches == []


def replaying(*exchanges: Exchange) -> AbstractAsyncContextManager[tuple[ReplayServer, NoexClient]]:
    """A client connected to a replay server of ``exchanges``; every frame it sends
    must have been scripted."""
    return replay_client(scripted(*exchanges))
