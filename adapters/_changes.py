"""``ChangeStream``: what ``Collection.watch`` returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Generic, TypeVar

from ._filters import FilterNode, matches
from ._records import Change
from ._stored import RawChange, Subscription

if TYPE_CHECKING:
    from ._collection import Collection

__all__ = ["ChangeStream"]

T = TypeVar("T")


class ChangeStream(Generic[T]):
    """An async iterator of :class:`~adapters.Change`; also an async context manager."""

    def __init__(
        self, collection: Collection[T], where: FilterNode | None, since: str | None = None
    ) -> None:
        self._collection = collection
        self._where = where
        self._since = since
        self._sub: Subscription | None = None
        self._closed = False

    async def start(self) -> None:
        """Establish the feed now (idempotent); changes from here on are delivered.

        Raises:
            CursorExpired: changes after the ``since`` cursor are no longer retained.
            BackendUnavailable: the backend cannot be reached.
        """
        if self._sub is None and not self._closed:
            self._collection._store._check_open()
            self._sub = await self._collection._subscribe(self._since)
            self._collection._store._streams.add(self)

    async def __aenter__(self) -> ChangeStream[T]:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Change[T]]:
        return self

    async def __anext__(self) -> Change[T]:
        await self.start()
        while True:
            if self._sub is None:
                raise StopAsyncIteration
            raw = await self._sub.get()
            if raw is None:
                await self.aclose()
                raise StopAsyncIteration
            change = self._convert(raw)
            if change is not None:
                return change

    def _convert(self, raw: RawChange) -> Change[T] | None:
        subject = raw.new if raw.new is not None else raw.old
        if subject is not None and not matches(self._where, subject.data):
            return None
        coll = self._collection
        new = None if raw.new is None else coll._record(raw.new)
        old = None if raw.old is None else coll._record(raw.old)
        return Change(raw.kind, raw.key, new, old, cursor=raw.cursor)

    async def aclose(self) -> None:
        """Stop the feed; iteration ends."""
        self._closed = True
        sub, self._sub = self._sub, None
        self._collection._store._streams.discard(self)
        if sub is not None:
            await sub.aclose()
