"""Benchmark: the PostgreSQL adapter against raw psycopg, ratios from one run.

Run: ``.venv/bin/python -m bench.adapters_postgres [--url URL] [--baseline DIR]``.
Uses fresh schemas, dropped afterwards. Goals: single insert and read by id
<= 1.1x the same statement through psycopg; insert_many of 10k <= 1.3x raw
COPY; a filter query on 100k documents <= 1.5x the raw SQL.

``--quick`` runs small sizes and two rounds (a smoke run: ratios are rough).
``--json PATH`` also writes the figures for ``python -m bench.report``.

``--baseline DIR`` also compares ``insert_many`` with an earlier version of
this library, whose ``adapters`` package is in ``DIR/adapters`` (e.g.
``git archive REV adapters | tar -x -C DIR``), loaded under another name:
both sides alternate rounds in this process. The goal of the change log is
<= 1.15x the version before it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

import adapters
from adapters._stored import utc_now
from adapters.backends.postgres import PostgresStore
from adapters.backends.postgres._base import configure
from bench.results import Group, Recorder, add_json_option

SINGLE = 500
BATCH = 10_000
BIG = 100_000
QUERIES = 10
# Best of this many alternating rounds per side: enough for a quiet moment to
# occur on a shared machine, while the whole run stays around half a minute.
ROUNDS = 12


@dataclass(frozen=True)
class Sizes:
    """How much each case does."""

    single: int = SINGLE
    batch: int = BATCH
    big: int = BIG
    queries: int = QUERIES
    rounds: int = ROUNDS


QUICK = Sizes(single=50, batch=1_000, big=10_000, queries=2, rounds=2)


async def _best(
    ours: Callable[[], Awaitable[Any]], raw: Callable[[], Awaitable[Any]], rounds: int
) -> tuple[float, float]:
    """Alternate the two sides for several rounds; keep each side's best time.

    Alternating and taking the minimum keeps load from other processes on the
    machine from favouring whichever side happened to run in a quiet moment.
    """
    best_ours = best_raw = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        await raw()
        best_raw = min(best_raw, time.perf_counter() - start)
        start = time.perf_counter()
        await ours()
        best_ours = min(best_ours, time.perf_counter() - start)
    return best_ours, best_raw


def _report(name: str, ours: float, raw: float, goal: float | None, group: Group) -> None:
    group.add(name, ours * 1000, raw * 1000, "ms", goal=goal)
    ratio = ours / raw
    if goal is None:
        verdict = "no goal"
    else:
        verdict = f"goal <= {goal}x, " + ("ok" if ratio <= goal else "over goal")
    print(
        f"{name:<28} adapter {ours * 1000:9.1f} ms  raw {raw * 1000:9.1f} ms  "
        f"ratio {ratio:5.2f}x ({verdict})"
    )


def _load_baseline(directory: Path) -> Any:
    """The ``postgres`` backend module of the ``adapters`` package in ``directory``."""
    root = directory / "adapters"
    spec = importlib.util.spec_from_file_location(
        "adapters_baseline", root / "__init__.py", submodule_search_locations=[str(root)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["adapters_baseline"] = module
    spec.loader.exec_module(module)
    return importlib.import_module("adapters_baseline.backends.postgres")


async def compare_with_baseline(url: str, directory: Path, sizes: Sizes, group: Group) -> None:
    """insert_many of 10k through this version and through the baseline, alternating."""
    backend = _load_baseline(directory)
    ours_schema = f"bench_adapters_{uuid.uuid4().hex[:8]}"
    base_schema = f"bench_adapters_{uuid.uuid4().hex[:8]}"
    ours = await adapters.connect(url, schema=ours_schema, max_size=2)
    base = await backend.open_store(url, schema=base_schema, max_size=2)
    doc = {"name": "Alice", "email": "alice@example.com", "age": 33, "tags": ["a", "b"]}
    batch = [{"i": i, **doc} for i in range(sizes.batch)]
    try:
        ours_bulk, base_bulk = ours.collection("bulk"), base.collection("bulk")
        await ours_bulk.insert_many(batch[:100])  # warm both
        await base_bulk.insert_many(batch[:100])

        async def ours_many() -> None:
            await ours_bulk.insert_many(batch)

        async def base_many() -> None:
            await base_bulk.insert_many(batch)

        # Two small effects are measured against each other: more rounds.
        ours_t, base_t = await _best(ours_many, base_many, 3 * sizes.rounds)
        _report(f"insert_many {sizes.batch} vs baseline", ours_t, base_t, 1.15, group)

        ours_users, base_users = ours.collection("users"), base.collection("users")

        async def ours_insert() -> None:
            for _ in range(sizes.single):
                await ours_users.insert(doc)

        async def base_insert() -> None:
            for _ in range(sizes.single):
                await base_users.insert(doc)

        ours_t, base_t = await _best(ours_insert, base_insert, sizes.rounds)
        _report(f"insert x{sizes.single} vs baseline", ours_t, base_t, None, group)
    finally:
        await ours.close()
        await base.close()
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            for schema in (ours_schema, base_schema):
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def main(url: str, sizes: Sizes, group: Group) -> None:
    schema = f"bench_adapters_{uuid.uuid4().hex[:8]}"
    store = await adapters.connect(url, schema=schema, max_size=2)
    assert isinstance(store, PostgresStore)
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url, min_size=1, max_size=2, kwargs={"autocommit": True}, configure=configure, open=False
    )
    await pool.open(wait=True)
    table = store.table
    try:
        users = store.collection("users")
        raw_coll = "raw_users"
        doc = {"name": "Alice", "email": "alice@example.com", "age": 33, "tags": ["a", "b"]}
        # The statement the adapter sends, replayed through psycopg.
        insert_sql = users._sql_insert  # type: ignore[attr-defined]
        get_sql = users._sql_get  # type: ignore[attr-defined]

        async def ours_insert() -> None:
            for _ in range(sizes.single):
                await users.insert(doc)

        async def raw_insert() -> None:
            for _ in range(sizes.single):
                async with pool.connection() as conn:
                    cur = await conn.execute(
                        insert_sql, {"c": raw_coll, "k": str(uuid.uuid4()), "d": Jsonb(doc)}
                    )
                    await cur.fetchone()

        # Warm both paths (prepared statements, pool) before measuring.
        await users.insert(doc)
        async with pool.connection() as conn:
            await conn.execute(insert_sql, {"c": raw_coll, "k": "warm", "d": Jsonb(doc)})
        ours_t, raw_t = await _best(ours_insert, raw_insert, sizes.rounds)
        _report(f"insert x{sizes.single}", ours_t, raw_t, 1.1, group)

        keys = [r.key for r in await users.find(limit=sizes.single)]
        assert len(keys) == sizes.single

        async def ours_get() -> None:
            for key in keys:
                await users.get(key)

        async def raw_get() -> None:
            for key in keys:
                async with pool.connection() as conn:
                    cur = await conn.execute(get_sql, {"c": "users", "k": key})
                    await cur.fetchone()

        ours_t, raw_t = await _best(ours_get, raw_get, sizes.rounds)
        _report(f"get by id x{len(keys)}", ours_t, raw_t, 1.1, group)

        batch = [{"i": i, **doc} for i in range(sizes.batch)]
        bulk = store.collection("bulk")

        async def ours_many() -> None:
            await bulk.insert_many(batch)

        async def raw_copy() -> None:
            async with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                now = utc_now()
                async with cur.copy(
                    f"COPY {table} (collection, key, data, version, created_at, updated_at)"
                    " FROM STDIN"
                ) as copy:
                    for item in batch:
                        await copy.write_row(
                            ("rawbulk", str(uuid.uuid4()), Jsonb(item), 1, now, now)
                        )

        ours_t, raw_t = await _best(ours_many, raw_copy, sizes.rounds)
        _report(f"insert_many {sizes.batch}", ours_t, raw_t, 1.3, group)

        big = store.collection("big")
        roles = ["admin", "user", "guest", "owner"]
        for start in range(0, sizes.big, sizes.batch):
            await big.insert_many(
                [
                    {"i": i, "role": roles[i % 4], "age": i % 90}
                    for i in range(start, start + sizes.batch)
                ]
            )
        async with pool.connection() as conn:
            await conn.execute(f"ANALYZE {table}")
        where = {"role": "owner", "age": {"$gte": 80}}
        from adapters._filters import compile_filter, parse_order
        from adapters.backends.postgres._sql import Params, order_sql, where_sql

        params = Params(c="big")
        query = (
            f"SELECT key, data, version, created_at, updated_at FROM {table}"
            f" WHERE collection = %(c)s AND {where_sql(compile_filter(where), params)}"
            f" ORDER BY {order_sql(parse_order(None), params)}"
        )
        expected = len(await big.find(where))

        async def ours_query() -> None:
            for _ in range(sizes.queries):
                await big.find(where)

        async def raw_query() -> None:
            for _ in range(sizes.queries):
                async with pool.connection() as conn:
                    cur = await conn.execute(query, params.values)
                    rows = await cur.fetchall()
                    assert len(rows) == expected

        ours_t, raw_t = await _best(ours_query, raw_query, sizes.rounds)
        name = f"filter on {sizes.big // 1000}k ({expected} hits) x{sizes.queries}"
        _report(name, ours_t, raw_t, 1.5, group)
    finally:
        await pool.close()
        await store.close()
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def run(url: str, baseline: Path | None, sizes: Sizes, recorder: Recorder) -> None:
    if baseline is not None:
        group = recorder.group(
            "This version vs an earlier one",
            ours="this version",
            baseline=str(baseline),
            better="lower",
        )
        await compare_with_baseline(url, baseline, sizes, group)
    group = recorder.group(
        "The adapter vs the same statements through psycopg",
        ours="adapter",
        baseline="raw psycopg",
        better="lower",
    )
    await main(url, sizes, group)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--baseline", type=Path, default=None, help="an earlier checkout")
    parser.add_argument("--quick", action="store_true", help="small sizes, two rounds")
    add_json_option(parser)
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    recorder = Recorder(
        "adapters_postgres",
        "PostgreSQL adapter vs raw psycopg",
        args.json,
        single=sizes.single,
        batch=sizes.batch,
        big=sizes.big,
        queries=sizes.queries,
        rounds=sizes.rounds,
    )
    asyncio.run(run(args.url, args.baseline, sizes, recorder))
    recorder.note(
        f"Best of {sizes.rounds} alternating rounds per side; insert_many is compared with"
        " raw COPY, single operations with the adapter's own statement replayed through psycopg."
    )
    recorder.write()
