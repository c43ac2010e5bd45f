"""``NoexStore`` and ``open_store``: a store over one ``NoexClient`` connection."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any
from urllib import parse as urllib_parse

from noex_client import AuthOptions, ClientOptions, NoexClient, NoexClientError

from ..._errors import BackendUnavailable
from ..._lease import LockService
from ..._options import split_options
from ..._store import Store
from ._base import RESERVED_PREFIX, WATCH_PREFIX, NoexBase, is_undefined
from ._collection import NoexCollection

__all__ = ["NoexOptions", "NoexStore", "open_store"]


@dataclass(frozen=True)
class NoexOptions:
    """Options of a ``ws://`` / ``wss://`` store.

    Attributes:
        token: logs in with ``auth.login`` (also ``?token=`` in the URL); never shown.
        client_options: options of the underlying :class:`noex_client.NoexClient`
            (keyword only).
        lock_timeout_s: seconds a write waits for a collection's write lock.
    """

    token: str | None = field(default=None, repr=False)
    client_options: ClientOptions | None = None
    lock_timeout_s: float = 40.0


class NoexStore(NoexBase):
    """A store over one noex-server connection (see the package docstring)."""

    collection_class = NoexCollection

    async def _collections(self) -> list[str]:
        api = self._client.store
        try:
            stats = await self.call("stats", api.stats)
        except NoexClientError as exc:
            raise self.translate(exc, what="stats") from exc
        per_bucket: dict[str, Any] = stats.get("records", {}).get("perBucket", {})
        return [
            name
            for name, count in per_bucket.items()
            if count and not name.startswith(RESERVED_PREFIX)
        ]

    async def _drop(self, name: str) -> bool:
        api = self._client.store
        self._defined.discard(name)
        try:
            count = await self.call("count", api.bucket(name).count)
            await self.call("dropBucket", lambda: api.drop_bucket(name))
        except NoexClientError as exc:
            if is_undefined(exc):
                return False
            raise self.translate(exc, what="dropBucket") from exc
        query = WATCH_PREFIX + name
        self._queries.discard(query)
        try:
            await self.call("undefineQuery", lambda: api.undefine_query(query))
        except NoexClientError as exc:
            if exc.code != "QUERY_NOT_DEFINED":
                raise self.translate(exc, what="undefineQuery") from exc
        return bool(count)

    def _lock_service(self) -> LockService:
        raise NotImplementedError(
            "noex stores have no locks: noex-server offers no compare-and-set outside a "
            "transaction's own reads, so an expired holder cannot be replaced safely"
        )

    async def _close(self) -> None:
        await self._client.disconnect()


async def open_store(url: str, **options: Any) -> Store:
    """Connect to the noex-server at ``url`` and return a store.

    ``url`` is ``ws://host:port`` or ``wss://host:port``; the options are the
    fields of :class:`NoexOptions` (URL query or keyword arguments). Other query
    parameters stay in the URL that is dialled.

    Raises:
        ValueError: an unknown keyword or a malformed option.
        BackendUnavailable: the server cannot be reached or rejected the login.
    """
    parts = urllib_parse.urlsplit(url)
    settings, rest = split_options(NoexOptions, "noex", parts.query, options)
    dial = urllib_parse.urlunsplit(parts._replace(query=urllib_parse.urlencode(rest)))
    client_options = settings.client_options or ClientOptions()
    if settings.token is not None:
        client_options = dataclasses.replace(client_options, auth=AuthOptions(token=settings.token))
    client = NoexClient(dial, client_options)
    store = NoexStore(url, client, settings.lock_timeout_s)
    try:
        await client.connect()
    except (NoexClientError, OSError) as exc:
        await client.disconnect()
        reason = exc.message if isinstance(exc, NoexClientError) else str(exc)
        raise BackendUnavailable(store.url, reason or type(exc).__name__) from exc
    return store
