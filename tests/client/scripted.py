"""A tiny scripted noex peer over the in-memory transport (test helper).

It speaks just enough of protocol 1.0.0 for the client tests: welcome, a
dict-backed store (insert/get/update/delete/all/where/findOne/count), store,
rules and view subscriptions with pushes (view rows are whatever a test puts
in ``peer.views``; ``logic.md`` shapes), ``auth.login``/``identity.login`` with
fixed secrets, pings, system messages and close codes. Each test can override
any op with ``peer.handlers[op] = fn`` and can refuse connections.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from noex_client import MemoryConnector, MemoryTransport, TransportClosed

Handler = Callable[["PeerConnection", dict[str, Any]], Awaitable[Any]]

TOKEN = "tok-SECRET-123"
PASSWORD = "pw-SECRET-456"


class PeerError(Exception):
    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


class PeerConnection:
    def __init__(self, peer: ScriptedPeer, transport: MemoryTransport) -> None:
        self.peer = peer
        self.transport = transport
        self.received: list[dict[str, Any]] = []
        self.pongs: list[Any] = []
        self.authed = False
        self.subs: dict[str, tuple[str, Any]] = {}  # server id -> (kind, query/pattern)
        self.sub_results: dict[str, Any] = {}  # query -> data of its latest subscribe result
        self.closed = asyncio.Event()

    async def send(self, **frame: Any) -> None:
        await self.transport.send(json.dumps(frame))

    async def push(self, sid: str, data: Any, channel: str = "subscription") -> None:
        await self.send(type="push", channel=channel, subscriptionId=sid, data=data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.transport.close(code, reason)

    async def run(self) -> None:
        try:
            if self.peer.send_welcome:
                await self.send(
                    type="welcome",
                    version="1.0.0",
                    serverTime=1,
                    requiresAuth=self.peer.requires_auth,
                )
            while True:
                raw = await self.transport.recv()
                message = json.loads(raw)
                if message.get("type") == "pong":
                    self.pongs.append(message["timestamp"])
                    continue
                self.received.append(message)
                self.peer.log.append(message)
                await self._answer(message)
        except TransportClosed:
            pass
        finally:
            self.closed.set()
            self.peer.live.discard(self)

    async def _answer(self, message: dict[str, Any]) -> None:
        rid, op = message["id"], message["type"]
        handler = self.peer.handlers.get(op)
        try:
            if self.peer.requires_auth and not self.authed and op not in _OPEN_OPS:
                raise PeerError("UNAUTHORIZED", "Authentication required")
            if handler is None:
                raise PeerError("UNKNOWN_OPERATION", f'Unknown operation "{op}"')
            data = await handler(self, message)
        except PeerError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.details is not None:
                error["details"] = exc.details
            await self.send(type="error", id=rid, **error)
            return
        if data is _NO_REPLY:
            return
        await self.send(type="result", id=rid, **({} if data is None else {"data": data}))
        if op in _WRITES:
            await self.peer.notify(message["bucket"])


_OPEN_OPS = {"auth.login", "identity.login"}
_WRITES = {"store.insert", "store.update", "store.delete"}
_NO_REPLY = object()


class ScriptedPeer:
    """In-memory server; ``peer.connector`` goes into ``NoexClient(connector=...)``."""

    def __init__(self, *, requires_auth: bool = False) -> None:
        self.requires_auth = requires_auth
        self.send_welcome = True
        self.refuse_with: tuple[int, str] | None = None  # accept, then close with this
        self.refuse_tcp = False  # fail the connect itself (like a refused TCP connect)
        self.buckets: dict[str, dict[str, dict[str, Any]]] = {}
        self.queries: dict[str, str] = {}  # query name -> bucket
        self.views: dict[str, list[dict[str, Any]]] = {}  # view name -> its rows
        self.live: set[PeerConnection] = set()
        self.connections: list[PeerConnection] = []
        self.log: list[dict[str, Any]] = []
        self.accepted = asyncio.Queue[PeerConnection]()
        self._tasks: set[asyncio.Task[None]] = set()
        self._keys = itertools.count(1)
        self._sub_ids: Iterator[int] = itertools.count(1)
        self.handlers: dict[str, Handler] = {
            "auth.login": self._auth_login,
            "identity.login": self._identity_login,
            "store.insert": self._insert,
            "store.get": self._get,
            "store.update": self._update,
            "store.delete": self._delete,
            "store.all": self._all,
            "store.where": self._where,
            "store.findOne": self._find_one,
            "store.count": self._count,
            "store.subscribe": self._subscribe,
            "store.unsubscribe": self._unsubscribe,
            "rules.subscribe": self._rules_subscribe,
            "rules.unsubscribe": self._unsubscribe,
            "rules.emit": self._emit,
            "logic.subscribeView": self._view_subscribe,
            "logic.unsubscribeView": self._unsubscribe,
        }
        self.connector = MemoryConnector(self._accept)

    def _accept(self, transport: MemoryTransport) -> None:
        if self.refuse_tcp:
            raise TransportClosed(1006, "ConnectionRefusedError: [Errno 111] refused", refused=True)
        if self.refuse_with is not None:
            code, reason = self.refuse_with
            task = asyncio.get_running_loop().create_task(transport.close(code, reason))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        conn = PeerConnection(self, transport)
        self.connections.append(conn)
        self.live.add(conn)
        task = asyncio.get_running_loop().create_task(conn.run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.accepted.put_nowait(conn)

    def restart(self, *, keep_data: bool = True, sub_ids: list[int] | None = None) -> None:
        """Drop every connection; subscription ids start from 1 again (or follow ``sub_ids``)."""
        for conn in list(self.live):
            conn.transport.abort()
        self._sub_ids = itertools.count(1) if sub_ids is None else iter(sub_ids)
        if not keep_data:
            self.buckets = {name: {} for name in self.buckets}

    async def next_connection(self) -> PeerConnection:
        return await asyncio.wait_for(self.accepted.get(), 5)

    async def notify(self, bucket: str) -> None:
        for conn in list(self.live):
            for sid, (kind, target) in list(conn.subs.items()):
                if kind == "store" and self.queries.get(target) == bucket:
                    await conn.push(sid, list(self.buckets[bucket].values()))

    async def set_view(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Change a view's rows and push the whole new result to its subscribers."""
        self.views[name] = rows
        for conn in list(self.live):
            for sid, (kind, target) in list(conn.subs.items()):
                if kind == "view" and target == name:
                    await conn.push(sid, rows)

    async def stop(self) -> None:
        for conn in list(self.live):
            conn.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- handlers ---------------------------------------------------------------------------

    async def _auth_login(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        if m.get("token") != TOKEN:
            raise PeerError("UNAUTHORIZED", "Invalid token")
        conn.authed = True
        return {"userId": "u-1", "roles": ["admin"], "expiresAt": None}

    async def _identity_login(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        if m.get("password") != PASSWORD:
            raise PeerError("UNAUTHORIZED", "Invalid credentials")
        conn.authed = True
        return {"token": "t", "expiresAt": 1, "user": {"id": "u-1", "username": m["username"]}}

    def _bucket(self, m: dict[str, Any]) -> dict[str, dict[str, Any]]:
        name = m.get("bucket")
        if name not in self.buckets:
            raise PeerError("BUCKET_NOT_DEFINED", f'Bucket "{name}" is not defined')
        return self.buckets[name]

    async def _insert(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        bucket = self._bucket(m)
        record = dict(m["data"])
        record.setdefault("id", f"k{next(self._keys)}")
        record["_version"] = 1
        bucket[record["id"]] = record
        return record

    async def _get(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        return self._bucket(m).get(m["key"])

    async def _update(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        bucket = self._bucket(m)
        if m["key"] not in bucket:
            raise PeerError("INTERNAL_ERROR", f'Record with key "{m["key"]}" not found')
        record = {**bucket[m["key"]], **m["data"]}
        record["_version"] += 1
        bucket[m["key"]] = record
        return record

    async def _delete(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        self._bucket(m).pop(m["key"], None)
        return {"deleted": True}

    async def _all(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        return list(self._bucket(m).values())

    def _match(self, m: dict[str, Any]) -> list[dict[str, Any]]:
        flt = m.get("filter") or {}
        return [r for r in self._bucket(m).values() if all(r.get(k) == v for k, v in flt.items())]

    async def _where(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        return self._match(m)

    async def _find_one(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        found = self._match(m)
        return found[0] if found else None

    async def _count(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        return len(self._match(m))

    async def _subscribe(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        query = m["query"]
        if query not in self.queries:
            raise PeerError("QUERY_NOT_DEFINED", f'Query "{query}" is not defined')
        sid = f"sub-{next(self._sub_ids)}"
        conn.subs[sid] = ("store", query)
        data = list(self.buckets[self.queries[query]].values())
        conn.sub_results[query] = data
        return {"subscriptionId": sid, "data": data}

    async def _view_subscribe(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        name = m["name"]
        if name not in self.views:
            raise PeerError("NOT_FOUND", f'View "{name}" not found')
        sid = f"sub-{next(self._sub_ids)}"
        conn.subs[sid] = ("view", name)
        return {"subscriptionId": sid, "data": self.views[name]}

    async def _rules_subscribe(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        sid = f"sub-{next(self._sub_ids)}"
        conn.subs[sid] = ("rules", m["pattern"])
        return {"subscriptionId": sid}

    async def _unsubscribe(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        if conn.subs.pop(m["subscriptionId"], None) is None:
            raise PeerError("NOT_FOUND", f'Subscription "{m["subscriptionId"]}" not found')
        return {"unsubscribed": True}

    async def _emit(self, conn: PeerConnection, m: dict[str, Any]) -> Any:
        event = {"id": "e1", "topic": m["topic"], "data": m.get("data") or {}, "source": "api"}
        for peer_conn in list(self.live):
            for sid, (kind, pattern) in list(peer_conn.subs.items()):
                if kind == "rules" and (pattern == "*" or pattern == m["topic"]):
                    await peer_conn.push(sid, {"topic": m["topic"], "event": event}, "event")
        return event


def no_reply() -> Any:
    """Sentinel a handler returns to leave the request unanswered."""
    return _NO_REPLY
