"""``beaver+http://host:port`` — collections on a BeaverDB REST server.

URL: ``beaver+http://[API_KEY@]host:port[?namespace=NAME&poll_interval=SECONDS]``
(``beaver+https://`` for a TLS proxy). Options (:class:`BeaverOptions`; URL
query or keyword arguments of ``adapters.connect``, which win): ``api_key``,
``namespace`` (default ``noex``), ``poll_interval`` (``watch`` polling, default
0.25 s), ``timeout`` (HTTP, default 30 s).

How it is stored, and why: BeaverDB's REST API has neither compare-and-set nor a
way to list dict keys, so each collection is a BeaverDB *log* of operations
(``{namespace}.c.{name}``) folded into an in-memory mirror by every store, the
row engine deciding each entry. A catalog log
(``{namespace}.catalog``) lists the collection names.

What that means for users:

* Every operation reads the log entries it has not folded yet (one request when
  up to date), so reads see every write committed before them, from any store.
  A write is one more request (append), plus the read that learns its outcome.
* ``find``/``count``/``page`` filters, ordering and unique checks run
  client-side on the mirror, which holds the whole collection in memory.
* ``watch`` polls the log every ``poll_interval`` seconds. The log keeps the
  whole history, so a watcher that loses the server misses nothing: it resumes
  where it stopped once the server answers again. Cursors are the log
  positions of the changes (entry timestamp, change within the entry); each
  store keeps the changes it folded, up to ``feed_max_changes`` per collection
  (and ``feed_max_age`` seconds after it folded them), for
  ``watch(since=...)``: a new store folds the whole log, so it can resume the
  feed of a store that stopped.
* The log keeps every operation ever made; ``drop``/``clear`` append a clear
  operation and do not shrink it. Use a fresh namespace to start over.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from .._changelog import ChangeLog, Expired, check_retention
from .._engine import CLEAR, EngineCollection, Op, RowMap, copy_change, copy_row
from .._errors import AdapterError, BackendUnavailable, CursorExpired
from .._feed import LogSubscription, Waker
from .._filters import FilterNode
from .._lease import LockService
from .._options import options_from
from .._store import Store
from .._stored import RawChange, Stored, Subscription, utc_now
from .._translate import ErrorKind, error_for, http_kind
from ..beaver import (
    AsyncBeaverClient,
    AsyncBeaverLog,
    AuthError,
    BadRequest,
    BeaverError,
    ClientClosed,
    ConnectionFailed,
    RemoteTimeout,
    ServerError,
)
from ._beaver_fold import (
    Outcome,
    Position,
    check_cursor,
    cursor_of,
    entry_of,
    fold,
    head_of,
    is_operation,
    next_slot,
    positioned,
)

__all__ = ["BeaverCollection", "BeaverOptions", "BeaverStore", "open_store"]

_logger = logging.getLogger("adapters")
_R = TypeVar("_R")

_PAGE = 500  # log entries per range request


@dataclass(frozen=True)
class BeaverOptions:
    """Options of a ``beaver+http://`` store.

    Attributes:
        api_key: the server's API key (also the URL's user name); never shown.
        namespace: prefix of the logs this store uses.
        poll_interval: seconds between two polls of a watched collection (> 0).
        timeout: seconds an HTTP request may take.
        feed_max_changes: changes kept per collection for ``watch(since=...)``
            (0: no count limit).
        feed_max_age: seconds a folded change is kept (0: no age limit).
    """

    api_key: str | None = field(default=None, repr=False)
    namespace: str = "noex"
    poll_interval: float = 0.25
    timeout: float = 30.0
    feed_max_changes: int = 10_000
    feed_max_age: float = 0.0

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise ValueError(
                f"beaver option 'poll_interval' must be > 0, got {self.poll_interval!r}"
            )
        if not self.namespace:
            raise ValueError("beaver option 'namespace' must not be empty")
        check_retention("beaver", self.feed_max_changes, self.feed_max_age)


def _kind(exc: BeaverError) -> tuple[ErrorKind, int | None]:
    """What a client error means, and its HTTP status when it has one."""
    if isinstance(exc, ServerError):
        return http_kind(exc.status), exc.status
    if isinstance(exc, AuthError):
        return http_kind(401), 401
    if isinstance(exc, BadRequest):
        return http_kind(400), 400
    if isinstance(exc, ConnectionFailed | RemoteTimeout | ClientClosed):
        return ErrorKind.UNAVAILABLE, None
    return ErrorKind.REFUSED, None


class _Mirror:
    """One collection's folded state inside one store, kept up to date on demand."""

    def __init__(self, store: BeaverStore, name: str) -> None:
        self.store = store
        self.name = name
        self.log: AsyncBeaverLog[Any] = store._client.log(store._log_name(name))
        self.rows = RowMap()
        self.tail: float | None = None
        self.lock = asyncio.Lock()
        self.pending: dict[str, asyncio.Future[Outcome]] = {}
        self.changes = ChangeLog()  # what was folded, for watch(since=...)
        self.waker = Waker()
        self.watchers = 0
        self.poller: asyncio.Task[None] | None = None

    async def sync(self) -> RowMap:
        """Fold every entry appended since the last sync; return the rows."""
        async with self.lock:
            while True:
                start = None if self.tail is None else next_slot(self.tail)
                entries = await self.store._call(self.log.range(start=start, limit=_PAGE))
                changes: list[tuple[Position, RawChange]] = []
                for entry in entries:
                    if not is_operation(entry.data):
                        continue  # not ours: never part of the chain
                    self.tail = entry.timestamp
                    try:
                        outcome = fold(self.name, self.rows, entry.data)
                    except (KeyError, TypeError, ValueError) as exc:
                        # Every store skips the same malformed entry, so they still agree.
                        _logger.warning("skipping malformed entry in %r: %r", self.name, exc)
                        continue
                    if not isinstance(outcome, AdapterError):
                        changes += positioned(entry.timestamp, outcome)
                    waiter = self.pending.get(entry.data["id"])
                    if waiter is not None and not waiter.done():
                        waiter.set_result(outcome)
                if changes:
                    options = self.store._options
                    self.changes.append(
                        self.name, changes, options.feed_max_changes, options.feed_max_age
                    )
                    self.waker.wake(self.name)
                if len(entries) < _PAGE:
                    return self.rows

    async def commit(self, op: Op, unique: tuple[str, ...]) -> list[RawChange]:
        """Append ``op`` at the end of the chain and return the changes it made.

        Raises:
            AdapterError: The operation lost (``AlreadyExists``, ``Conflict``, ...).
        """
        await self.store._register(self.name)
        op_id = uuid.uuid4().hex
        waiter: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.pending[op_id] = waiter
        try:
            # Sync first so the requested slot is the current end of the chain: the
            # server then stores the entry there, or bumps it past later entries.
            await self.sync()
            entry = entry_of(op_id, utc_now(), op, unique)
            await self.store._call(self.log.log(entry, timestamp=next_slot(self.tail)))
            await self.sync()
            outcome = waiter.result()  # the entry is committed, so the sync saw it
        finally:
            self.pending.pop(op_id, None)
        if isinstance(outcome, AdapterError):
            raise outcome
        return outcome

    async def subscribe(self, since: str | None) -> Subscription:
        """Open a change feed from now or after ``since``, and keep a poller running.

        Raises:
            CursorExpired: the changes after ``since`` are no longer kept.
            ValueError: ``since`` is ahead of the log (another log's cursor).
        """
        await self.sync()
        head = head_of(self.tail)
        reader = _Reader(self)
        if since is None:
            position = head
        else:
            position = check_cursor(since)
            if position > head:
                raise ValueError(f"cursor {since!r} is not from this collection's log")
            await reader.read(position)  # CursorExpired now, not at the first change
        self.watchers += 1
        if self.poller is None:
            self.poller = asyncio.get_running_loop().create_task(self._poll())
        return LogSubscription(reader, position, self.waker.waiter(self.name), self.unwatch)

    def unwatch(self) -> None:
        """Forget one feed; stop polling when none is left."""
        self.watchers -= 1
        if self.watchers == 0 and self.poller is not None:
            self.poller.cancel()
            self.poller = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.store._poll_interval)  # the polling period itself
            try:
                await self.sync()
            except BackendUnavailable as exc:
                # The log keeps history: the next successful sync delivers what was missed.
                _logger.warning("watch on %r: %s; retrying", self.name, exc)


class _Reader:
    """Reads the changes a mirror folded (a FeedReader)."""

    def __init__(self, mirror: _Mirror) -> None:
        self._mirror = mirror

    async def read(self, after: Position) -> tuple[list[RawChange], Position]:
        try:
            found = self._mirror.changes.read(self._mirror.name, after)
        except Expired:
            cursor = cursor_of(after)
            raise CursorExpired(
                self._mirror.name, cursor, "this store no longer keeps it"
            ) from None
        if not found:
            return [], after
        return [copy_change(c) for c in found], check_cursor(found[-1].cursor)


class BeaverCollection(EngineCollection):
    """A collection of a :class:`BeaverStore`: a log folded into rows (see the module docstring)."""

    _store: BeaverStore

    @property
    def _mirror(self) -> _Mirror:
        return self._store._mirror(self._name)

    async def _commit(self, op: Op) -> list[RawChange]:
        # The fold publishes every change, this store's included.
        return await self._mirror.commit(op, self._unique)

    async def _query(self, where: FilterNode | None, fn: Callable[[Iterable[Stored]], _R]) -> _R:
        return fn((await self._mirror.sync()).rows())

    def _detach(self, row: Stored) -> Stored:
        return copy_row(row)  # records handed out must not alias the mirror's rows

    async def _get(self, key: str) -> Stored | None:
        row = (await self._mirror.sync()).get(key)
        return None if row is None else copy_row(row)

    def _check_since(self, since: str) -> None:
        check_cursor(since)

    async def _subscribe(self, since: str | None) -> Subscription:
        return await self._mirror.subscribe(since)


class BeaverStore(Store):
    """A store on a BeaverDB REST server (see the module docstring)."""

    collection_class = BeaverCollection

    def __init__(self, url: str, client: AsyncBeaverClient, options: BeaverOptions) -> None:
        super().__init__(url)
        self._client = client
        self._options = options
        self._namespace = options.namespace
        self._poll_interval = options.poll_interval
        self._mirrors: dict[str, _Mirror] = {}
        self._registered: set[str] = set()
        self._catalog: AsyncBeaverLog[Any] = client.log(f"{options.namespace}.catalog")

    def _lock_service(self) -> LockService:
        raise NotImplementedError(
            "beaver stores have no locks: BeaverDB's REST API exposes neither db.lock() nor "
            "compare-and-set, and a lock kept in its append-only logs would grow them forever"
        )

    def _log_name(self, name: str) -> str:
        # Collection names may hold '/', which no BeaverDB name can: percent-encode.
        return f"{self._namespace}.c.{quote(name, safe='')}"

    def _mirror(self, name: str) -> _Mirror:
        mirror = self._mirrors.get(name)
        if mirror is None:
            mirror = self._mirrors[name] = _Mirror(self, name)
        return mirror

    async def _call(self, pending: Awaitable[_R]) -> _R:
        """Await a client call, translating client errors into the adapters tree."""
        try:
            return await pending
        except BeaverError as exc:
            kind, status = _kind(exc)
            reason = f"{type(exc).__name__}: {exc}"
            raise error_for(
                kind, backend="beaver", code=status, url=self.url, reason=reason
            ) from exc

    async def _register(self, name: str) -> None:
        if name not in self._registered:
            await self._call(self._catalog.log({"name": name}))
            self._registered.add(name)

    async def _collections(self) -> list[str]:
        names: dict[str, None] = {}
        offset = 0
        while True:
            entries = await self._call(self._catalog.range(limit=_PAGE, offset=offset))
            for entry in entries:
                if isinstance(entry.data, dict) and isinstance(entry.data.get("name"), str):
                    names.setdefault(entry.data["name"], None)
            offset += len(entries)
            if len(entries) < _PAGE:
                break
        out = []
        for name in names:
            if len(await self._mirror(name).sync()):
                out.append(name)
        return out

    async def _drop(self, name: str) -> bool:
        return bool(await self._mirror(name).commit(CLEAR, ()))

    async def _close(self) -> None:
        pollers = []
        for mirror in self._mirrors.values():
            if mirror.poller is not None:
                mirror.poller.cancel()
                pollers.append(mirror.poller)
                mirror.poller = None
            mirror.waker.close_all()
        await asyncio.gather(*pollers, return_exceptions=True)
        await self._client.close()


async def open_store(url: str, **options: Any) -> Store:
    """Open a ``beaver+http://`` / ``beaver+https://`` store (see the module docstring).

    Raises:
        ValueError: a malformed URL, or an unknown or malformed option.
        BackendUnavailable: The server does not answer or refuses the API key.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower().removeprefix("beaver+")
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected beaver+http://host:port or beaver+https://host:port")
    settings = options_from(BeaverOptions, "beaver", parts.query, options)
    api_key = settings.api_key or parts.username or None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    base = f"{scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    client = AsyncBeaverClient(base, api_key, timeout=settings.timeout)
    store = BeaverStore(url, client, settings)
    try:
        await store._call(store._catalog.count())
    except BaseException:
        await client.close()
        raise
    return store
