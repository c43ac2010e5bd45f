"""``PostgresStore``: the Store operations over the documents table."""

from __future__ import annotations

from ._base import PostgresBase
from ._collection import PostgresCollection
from ._lock import PostgresLocks

__all__ = ["PostgresStore"]


class PostgresStore(PostgresBase):
    """A store over one ``documents`` table in a PostgreSQL schema (see the package docs)."""

    collection_class = PostgresCollection

    async def _collections(self) -> list[str]:
        async with self.connection() as conn:
            # A skip scan over the primary key: one index probe per collection
            # instead of reading every row as DISTINCT would.
            t = self.table
            cur = await conn.execute(
                "WITH RECURSIVE c AS ("
                f" (SELECT collection FROM {t} ORDER BY collection LIMIT 1)"
                " UNION ALL"
                f" SELECT (SELECT d.collection FROM {t} AS d WHERE d.collection > c.collection"
                " ORDER BY d.collection LIMIT 1) FROM c WHERE c.collection IS NOT NULL)"
                " SELECT collection FROM c WHERE collection IS NOT NULL"
            )
            return [row[0] for row in await cur.fetchall()]

    async def _drop(self, name: str) -> bool:
        return bool(await self.collection(name)._clear())  # logged like clear()

    def _lock_service(self) -> PostgresLocks:
        return PostgresLocks(self.url, self._conninfo, self.schema, self._pool.timeout)

    async def _close(self) -> None:
        await self.feed.close()
        await self._pool.close()
