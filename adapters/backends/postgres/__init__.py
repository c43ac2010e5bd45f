"""``postgresql://`` — one JSONB ``documents`` table, GIN-indexed (extra ``postgres``).

Driver: psycopg 3 with an async ``psycopg_pool`` pool. The schema (default
``public``) is created on first use. Filters are translated to SQL with every value
bound as a parameter; CAS uses the ``version`` column; ``insert_many`` uses
COPY in one transaction; every write also logs its changes in the ``changes``
table, which ``watch`` follows, woken by LISTEN/NOTIFY.
``store.transaction()`` groups operations in one transaction.

Options are the fields of :class:`PostgresOptions`, from the URL query
(``?schema=app``) or keyword arguments of ``connect`` (which win); the URL's
other query parameters are libpq's (``sslmode``, ``application_name``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from ..._changelog import check_retention
from ..._options import split_options
from ..._store import Store
from ..._urls import redact_url
from ._base import configure, translate
from ._changes import create_change_log
from ._schema import create_schema
from ._store import PostgresStore

__all__ = ["PostgresOptions", "PostgresStore", "open_store"]


@dataclass(frozen=True)
class PostgresOptions:
    """Options of a ``postgresql://`` store.

    Attributes:
        schema: the schema holding the documents table (at most 63 bytes).
        min_size, max_size: pool size.
        timeout: seconds to wait for a pooled connection before ``BackendUnavailable``.
        connect_timeout: seconds to wait for the first connection (in the URL, also
            passed on to libpq).
        feed_max_changes: changes retained per collection for ``watch(since=...)``
            (0: no count limit).
        feed_max_age: seconds a change is retained (0: no age limit).
    """

    schema: str = "public"
    min_size: int = 1
    max_size: int = 10
    timeout: float = 5.0
    connect_timeout: float = 5.0
    feed_max_changes: int = 1_000_000
    feed_max_age: float = 7 * 86_400.0

    def __post_init__(self) -> None:
        if not self.schema or "\x00" in self.schema:
            raise ValueError(f"invalid postgres option 'schema' {self.schema!r}")
        if len(self.schema.encode()) > 63:
            raise ValueError(f"postgres option 'schema' {self.schema!r} is longer than 63 bytes")
        if self.max_size < 1 or self.max_size < self.min_size:
            raise ValueError("postgres option 'max_size' must be >= 1 and >= 'min_size'")
        check_retention("postgres", self.feed_max_changes, self.feed_max_age)


def _conninfo(url: str, rest: list[tuple[str, str]]) -> str:
    """The libpq connection string: the URL with the libpq query parameters only.

    Raises:
        ValueError: libpq does not accept a parameter (named in the message).
    """
    parts = urlsplit(url)
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest), ""))
    try:
        conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"invalid postgres URL: {str(exc).strip()}") from None
    return conninfo


async def open_store(url: str, **options: Any) -> Store:
    """Open a PostgreSQL store (see :class:`PostgresOptions`).

    Raises:
        BackendUnavailable: the server cannot be reached within ``connect_timeout``.
        ValueError: an unknown or malformed option, or a URL libpq refuses.
    """
    query = urlsplit(url).query
    settings, rest = split_options(PostgresOptions, "postgres", query, options)
    # libpq also knows connect_timeout: a URL that sets it keeps it for each connection.
    rest += [p for p in parse_qsl(query, keep_blank_values=True) if p[0] == "connect_timeout"]
    conninfo = _conninfo(url, rest)
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo,
        min_size=settings.min_size,
        max_size=settings.max_size,
        timeout=settings.timeout,
        kwargs={"autocommit": True},
        configure=configure,
        open=False,
        name="adapters",
    )
    try:
        await pool.open(wait=True, timeout=settings.connect_timeout)
        async with pool.connection() as conn:
            await create_schema(conn, settings.schema)
            await create_change_log(conn, settings.schema)
    except psycopg.Error as exc:
        await pool.close()
        raise translate(redact_url(url), exc, detailed=True) from exc
    return PostgresStore(url, conninfo, pool, settings.schema, settings)
