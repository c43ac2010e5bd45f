"""Chaos: 10 subscriptions and a mixed load while the server restarts 20 times.

Run against the scripted in-memory peer and against the in-process LocalServer
over real sockets. Both keep their data across restarts (like a persistent
server) but forget connections, auth and subscriptions, and reissue ``sub-N``
ids from 1.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from noex_client import AuthOptions, NoexClient, NoexClientError, ReconnectPolicy
from noex_client.testing import LocalServer
from tests.client.conftest import FAST_RECONNECT, fast_options
from tests.client.helpers import EventLog, until
from tests.client.scripted import TOKEN, ScriptedPeer

SUBSCRIPTIONS = 10
RESTARTS = 20
WORKERS = 4
TIMEOUT_MS = 1_000  # generous: the suite runs on loaded 2-core machines


@dataclass
class Ledger:
    """What the workers did and what came back."""

    acked_inserts: set[str] = field(default_factory=set)
    tried_inserts: set[str] = field(default_factory=set)
    # key -> [(value, acked)] in the order the updates were sent (one writer per key)
    updates: dict[tuple[str, str], list[tuple[int, bool]]] = field(default_factory=dict)
    hung: list[str] = field(default_factory=list)
    untyped: list[BaseException] = field(default_factory=list)
    results = 0
    rejections = 0


def fingerprint(rows: Any) -> tuple[str, ...]:
    return tuple(sorted(r["id"] for r in rows or ()))


def recorder(seen: list[tuple[str, ...]]) -> Callable[[Any], None]:
    return lambda rows: seen.append(fingerprint(rows))


async def guarded(ledger: Ledger, what: str, call: Any) -> Any:
    """Run a request; classify its outcome. A hang would exceed the request timeout."""
    try:
        async with asyncio.timeout(TIMEOUT_MS / 1000 * 3):
            result = await call
    except NoexClientError:
        ledger.rejections += 1
        raise
    except TimeoutError:  # not a RequestTimeoutError: the request hung
        ledger.hung.append(what)
        raise
    except Exception as exc:
        ledger.untyped.append(exc)
        raise
    ledger.results += 1
    return result


async def worker(
    n: int, client: NoexClient, rng: random.Random, ledger: Ledger, stop: asyncio.Event
) -> None:
    tags = itertools.count()
    mine: list[tuple[str, str]] = []  # (bucket, key) this worker inserted
    while not stop.is_set():
        if not client.is_connected:
            await until(lambda: client.is_connected or stop.is_set(), 10)
            continue
        bucket = f"b{rng.randrange(SUBSCRIPTIONS)}"
        api = client.store.bucket(bucket)
        roll = rng.random()
        try:
            if roll < 0.4 or not mine:
                tag = f"w{n}-{next(tags)}"
                ledger.tried_inserts.add(tag)
                record = await guarded(ledger, "insert", api.insert({"id": tag, "tag": tag}))
                ledger.acked_inserts.add(tag)
                mine.append((bucket, record["id"]))
            elif roll < 0.7:
                key = mine[rng.randrange(len(mine))]
                history = ledger.updates.setdefault(key, [])
                value = len(history) + 1
                history.append((value, False))
                target = client.store.bucket(key[0])
                await guarded(ledger, "update", target.update(key[1], {"n": value}))
                history[-1] = (value, True)
            elif roll < 0.85:
                await guarded(ledger, "get", api.get(rng.choice(mine)[1]))
            else:
                await guarded(ledger, "count", api.count())
        except (NoexClientError, TimeoutError):
            pass


class Backend:
    """A server the chaos test can restart, keeping its data."""

    def __init__(self, url: str, connector: Any, restart: Any, records: Any) -> None:
        self.url, self.connector, self.restart, self.records = url, connector, restart, records


@asynccontextmanager
async def scripted_backend() -> AsyncIterator[Backend]:
    peer = ScriptedPeer(requires_auth=True)
    for i in range(SUBSCRIPTIONS):
        peer.buckets[f"b{i}"] = {}
        peer.queries[f"q{i}"] = f"b{i}"

    async def restart() -> None:
        peer.restart(keep_data=True)

    try:
        yield Backend(
            "ws://peer.invalid/",
            peer.connector,
            restart,
            lambda bucket: list(peer.buckets[bucket].values()),
        )
    finally:
        await peer.stop()


@asynccontextmanager
async def local_backend() -> AsyncIterator[Backend]:
    schema = {"id": {"type": "string"}, "tag": {"type": "string"}, "n": {"type": "number"}}
    server = LocalServer(
        buckets=[{"name": f"b{i}", "key": "id", "schema": schema} for i in range(SUBSCRIPTIONS)],
        queries={f"q{i}": {"type": "all", "bucket": f"b{i}"} for i in range(SUBSCRIPTIONS)},
        auth={"sessions": {TOKEN: {"userId": "u-1", "roles": ["admin"]}}},
    )

    async def restart() -> None:
        await server.restart(keep_data=True)

    async with server:
        yield Backend(
            server.url, None, restart, lambda bucket: server.store.bucket(bucket).records()
        )


BACKENDS = {"scripted": scripted_backend, "local": local_backend}


@pytest.mark.parametrize("kind", sorted(BACKENDS))
async def test_chaos_restarts_lose_nothing_and_hang_nothing(kind: str) -> None:
    async with BACKENDS[kind]() as backend:
        options = fast_options(auth=AuthOptions(token=TOKEN), request_timeout_ms=TIMEOUT_MS)
        policy = ReconnectPolicy(FAST_RECONNECT, random.Random(5))
        client = NoexClient(
            backend.url, options, connector=backend.connector, reconnect_policy=policy
        )
        try:
            await chaos(client, backend)
        finally:
            await client.disconnect()


async def chaos(client: NoexClient, backend: Backend) -> None:
    rng = random.Random(20261123)
    log = EventLog(client)
    await client.connect()

    # Deliveries are kept as fingerprints (sorted ids): full copies would grow quadratically.
    deliveries: dict[str, list[tuple[str, ...]]] = {f"q{i}": [] for i in range(SUBSCRIPTIONS)}
    for query, seen in deliveries.items():
        await client.store.subscribe(query, recorder(seen))

    stale: list[str] = []

    def check_fresh() -> None:
        # Runs synchronously as "reconnected" fires: nothing was written since the
        # re-subscribe, so each subscription's latest delivery is the server's state.
        for query, seen in deliveries.items():
            if not seen or seen[-1] != fingerprint(backend.records(f"b{query[1:]}")):
                stale.append(query)

    client.on("reconnected", check_fresh)

    ledger = Ledger()
    stop = asyncio.Event()
    workers = [
        asyncio.ensure_future(worker(n, client, random.Random(n), ledger, stop))
        for n in range(WORKERS)
    ]
    for restart in range(RESTARTS):
        await until(lambda goal=25 * (restart + 1): ledger.results > goal, 10)  # type: ignore[misc]
        await asyncio.sleep(rng.uniform(0, 0.003))  # a random moment, not a wait for a condition
        await backend.restart()
        await log.wait("reconnected", restart + 1, 10)
    stop.set()
    await asyncio.gather(*workers)

    assert client.state == "connected"
    assert ledger.hung == []
    assert ledger.untyped == []
    assert stale == []
    assert len(log.args("reconnected")) == RESTARTS
    assert ledger.rejections > 0  # the restarts really hit in-flight requests

    # Every acknowledged insert exists exactly once; nothing was inserted twice.
    stored: list[str] = []
    for i in range(SUBSCRIPTIONS):
        stored += [r["tag"] for r in await client.store.bucket(f"b{i}").all()]
    assert len(stored) == len(set(stored))
    assert ledger.acked_inserts <= set(stored) <= ledger.tried_inserts

    # Every acknowledged update is the final value or was superseded by a later attempt.
    for (bucket, key), history in ledger.updates.items():
        record = await client.store.bucket(bucket).get(key)
        assert record is not None
        acked = [i for i, (_v, ok) in enumerate(history) if ok]
        if acked:
            later = {v for v, _ok in history[acked[-1] :]}
            assert record.get("n") in later

    # Subscriptions still deliver after the last restart.
    before = len(deliveries["q0"])
    await client.store.bucket("b0").insert({"id": "final", "tag": "final"})
    await until(lambda: len(deliveries["q0"]) > before)
    assert "final" in deliveries["q0"][-1]
