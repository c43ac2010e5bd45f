"""``beaver+http://host:port`` — collections on a BeaverDB REST server.

URL: ``beaver+http://[API_KEY@]host:port[?namespace=NAME&poll_interval=SECONDS]``
(``beaver+https://`` for a TLS proxy). Options passed to ``adapters.connect`` win
over the URL: ``api_key=``, ``namespace=`` (default ``noex``), ``poll_interval=``
(``watch`` polling, default 0.25 s), ``timeout=`` (HTTP, default 30 s).

How it is stored, and why: BeaverDB's REST API has neither compare-and-set nor a
way to list dict keys, so each collection is a BeaverDB *log* of operations
(``{namespace}.c.{name}``) folded into an in-memory mirror by every store (see
:mod:`adapters.backends.beaver_fold` for the ordering argument). A catalog log
(``{namespace}.catalog``) lists the collection names.

What that means for users:

* Every operation reads the log entries it has not folded yet (one request when
  up to date), so reads see every write committed before them, from any store.
  A write is one more request (append), plus the read that learns its outcome.
* ``find``/``count``/``page`` filters, ordering and unique checks run
  client-side on the mirror, which holds the whole collection in memory.
* ``watch`` polls the log every ``poll_interval`` seconds. The log keeps the
  whole history, so a watcher that loses the server misses nothing: it resumes
  where it stopped once the server answers again.
* The log keeps every operation ever made; ``drop``/``clear`` append a clear
  operation and do not shrink it. Use a fresh namespace to start over.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

from .._collection import Collection
from .._errors import AdapterError, BackendUnavailable
from .._filters import FilterNode, SortKey, matches, sort_records
from .._store import Store
from .._stored import ChangeHub, ClosingSubscription, RawChange, Stored, Subscription, utc_now
from ..beaver import AsyncBeaverClient, AsyncBeaverLog, BeaverError
from .beaver_fold import Outcome, apply, is_operation, next_slot, operation

__all__ = ["BeaverCollection", "BeaverStore", "open_store"]

logger = logging.getLogger("adapters")
T = TypeVar("T")

_PAGE = 500  # log entries per range request


class _Mirror:
    """One collection's folded state inside one store, kept up to date on demand."""

    def __init__(self, store: BeaverStore, name: str) -> None:
        self.store = store
        self.name = name
        self.log: AsyncBeaverLog[Any] = store._client.log(store._log_name(name))
        self.rows: dict[str, Stored] = {}
        self.tail: float | None = None
        self.lock = asyncio.Lock()
        self.pending: dict[str, asyncio.Future[Outcome]] = {}
        self.hub = ChangeHub()
        self.watchers = 0
        self.poller: asyncio.Task[None] | None = None

    async def sync(self) -> None:
        """Fold every entry appended since the last sync."""
        async with self.lock:
            while True:
                start = None if self.tail is None else next_slot(self.tail)
                entries = await self.store._call(self.log.range(start=start, limit=_PAGE))
                changes: list[RawChange] = []
                for entry in entries:
                    if not is_operation(entry.data):
                        continue  # not ours: never part of the chain
                    self.tail = entry.timestamp
                    try:
                        outcome, made = apply(self.name, self.rows, entry.data)
                    except (KeyError, TypeError, ValueError) as exc:
                        # Every store skips the same malformed entry, so they still agree.
                        logger.warning("skipping malformed entry in %r: %r", self.name, exc)
                        continue
                    changes += made
                    waiter = self.pending.get(entry.data["id"])
                    if waiter is not None and not waiter.done():
                        waiter.set_result(outcome)
                if changes:
                    self.hub.publish(changes)
                if len(entries) < _PAGE:
                    return

    async def commit(self, op: str, **fields: Any) -> Outcome:
        """Append one operation at the end of the chain and return its outcome.

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
            entry = operation(op_id, utc_now(), op, **fields)
            await self.store._call(self.log.log(entry, timestamp=next_slot(self.tail)))
            await self.sync()
            outcome = waiter.result()  # the entry is committed, so the sync saw it
        finally:
            self.pending.pop(op_id, None)
        if isinstance(outcome, AdapterError):
            raise outcome
        return outcome

    def subscribe(self) -> Subscription:
        """Open a change feed (the caller synced first) and keep a poller running."""
        self.watchers += 1
        if self.poller is None:
            self.poller = asyncio.get_running_loop().create_task(self._poll())
        return ClosingSubscription(self.hub.subscribe(self.name), self.unwatch)

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
                logger.warning("watch on %r: %s; retrying", self.name, exc)


class BeaverCollection(Collection[Any]):
    """A collection of a :class:`BeaverStore` (see the module docstring)."""

    _store: BeaverStore

    @property
    def _mirror(self) -> _Mirror:
        return self._store._mirror(self._name)

    async def _synced(self) -> dict[str, Stored]:
        mirror = self._mirror
        await mirror.sync()
        return mirror.rows

    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        out = await self._mirror.commit(
            "insert", docs=[[k, d] for k, d in docs], unique=list(self._unique)
        )
        assert isinstance(out, list)
        return out

    async def _get(self, key: str) -> Stored | None:
        stored = (await self._synced()).get(key)
        return None if stored is None else _copy(stored)

    async def _write(
        self, op: str, key: str, doc: dict[str, Any], if_version: int | None
    ) -> Stored:
        out = await self._mirror.commit(
            op, key=key, doc=doc, if_version=if_version, unique=list(self._unique)
        )
        assert isinstance(out, Stored)
        return out

    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write("update", key, changes, if_version)

    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write("replace", key, doc, if_version)

    async def _delete(self, key: str, if_version: int | None) -> bool:
        return bool(await self._mirror.commit("delete", key=key, if_version=if_version))

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        hits = [s for s in (await self._synced()).values() if matches(where, s.data)]
        ordered = sort_records(hits, order, lambda s: s.data, lambda s: s.key)
        end = None if limit is None else offset + limit
        return [_copy(s) for s in ordered[offset:end]]

    async def _count(self, where: FilterNode | None) -> int:
        return sum(1 for s in (await self._synced()).values() if matches(where, s.data))

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        rows = await self._synced()
        keys = sorted(k for k in rows if after is None or k > after)[:limit]
        return [_copy(rows[k]) for k in keys]

    async def _clear(self) -> int:
        out = await self._mirror.commit("clear")
        assert isinstance(out, int)
        return out

    async def _subscribe(self) -> Subscription:
        mirror = self._mirror
        await mirror.sync()  # the feed starts at the current end of the log
        return mirror.subscribe()


def _copy(stored: Stored) -> Stored:
    # Records handed out must not alias the mirror's documents.
    return Stored(
        stored.key, copy.deepcopy(stored.data), stored.version, stored.created_at, stored.updated_at
    )


class BeaverStore(Store):
    """A store on a BeaverDB REST server (see the module docstring)."""

    def __init__(
        self, url: str, client: AsyncBeaverClient, namespace: str, poll_interval: float
    ) -> None:
        super().__init__(url)
        self._client = client
        self._namespace = namespace
        self._poll_interval = poll_interval
        self._mirrors: dict[str, _Mirror] = {}
        self._registered: set[str] = set()
        self._catalog: AsyncBeaverLog[Any] = client.log(f"{namespace}.catalog")

    def _log_name(self, name: str) -> str:
        # Collection names may hold '/', which no BeaverDB name can: percent-encode.
        return f"{self._namespace}.c.{quote(name, safe='')}"

    def _mirror(self, name: str) -> _Mirror:
        mirror = self._mirrors.get(name)
        if mirror is None:
            mirror = self._mirrors[name] = _Mirror(self, name)
        return mirror

    async def _call(self, pending: Awaitable[T]) -> T:
        """Await a client call, turning client errors into ``BackendUnavailable``."""
        try:
            return await pending
        except BeaverError as exc:
            raise BackendUnavailable(self.url, f"{type(exc).__name__}: {exc}") from exc

    async def _register(self, name: str) -> None:
        if name not in self._registered:
            await self._call(self._catalog.log({"name": name}))
            self._registered.add(name)

    def _make_collection(
        self,
        name: str,
        model: type[Any] | None,
        indexes: tuple[str, ...],
        unique: tuple[str, ...],
    ) -> Collection[Any]:
        return BeaverCollection(self, name, model, indexes, unique)

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
            mirror = self._mirror(name)
            await mirror.sync()
            if mirror.rows:
                out.append(name)
        return out

    async def _drop(self, name: str) -> bool:
        return bool(await self._mirror(name).commit("clear"))

    async def _close(self) -> None:
        pollers = []
        for mirror in self._mirrors.values():
            if mirror.poller is not None:
                mirror.poller.cancel()
                pollers.append(mirror.poller)
                mirror.poller = None
            mirror.hub.close_all()
        await asyncio.gather(*pollers, return_exceptions=True)
        await self._client.close()


def _option(
    options: dict[str, Any], query: dict[str, list[str]], name: str, cast: Callable[[str], T]
) -> T | None:
    if name in options:
        return options.pop(name)  # type: ignore[no-any-return]
    values = query.get(name)
    if not values:
        return None
    try:
        return cast(values[-1])
    except ValueError as exc:
        raise ValueError(f"invalid {name}={values[-1]!r} in the beaver URL") from exc


async def open_store(url: str, **options: Any) -> Store:
    """Open a ``beaver+http://`` / ``beaver+https://`` store (see the module docstring).

    Raises:
        ValueError: Malformed URL or option.
        TypeError: Unknown option.
        BackendUnavailable: The server does not answer or refuses the API key.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower().removeprefix("beaver+")
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected beaver+http://host:port or beaver+https://host:port")
    query = parse_qs(parts.query)
    api_key = _option(options, query, "api_key", str) or parts.username or None
    namespace = _option(options, query, "namespace", str) or "noex"
    poll_interval = _option(options, query, "poll_interval", float) or 0.25
    timeout = _option(options, query, "timeout", float) or 30.0
    if options:
        raise TypeError(f"unknown beaver+http options: {sorted(options)}")
    if poll_interval <= 0:
        raise ValueError(f"poll_interval must be > 0, got {poll_interval!r}")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    base = f"{scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    client = AsyncBeaverClient(base, api_key, timeout=timeout)
    store = BeaverStore(url, client, namespace, poll_interval)
    try:
        await store._call(store._catalog.count())
    except BaseException:
        await client.close()
        raise
    return store
