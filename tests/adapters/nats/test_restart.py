"""nats-server restarted mid-run: writes wait or fail in time, the mirror resyncs.

The outage is kept short (other suites use the same server) and the server is
always started again in a ``finally``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator

import pytest

import adapters
from adapters.backends.nats import NatsStore

from .factory import nats_url

_DAEMON = "/usr/sbin/nats-server"

pytestmark = [
    pytest.mark.nats,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.path.exists(_DAEMON) and shutil.which("start-stop-daemon") and os.geteuid() == 0),
        reason="needs root and the system nats-server",
    ),
]


def _stop_nats() -> None:
    subprocess.run(
        ["start-stop-daemon", "--stop", "--oknodo", "--retry", "5", "--exec", _DAEMON],
        check=True,
        capture_output=True,
    )


def _start_nats() -> None:
    subprocess.run(
        [
            *("start-stop-daemon", "--start", "--oknodo", "--background", "--exec", _DAEMON),
            *("--", "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server"),
            *("-l", "/var/log/nats-server.log"),
        ],
        check=True,
        capture_output=True,
    )


async def _port_open() -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", 4222)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def _wait_port(deadline: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not await _port_open():
        if loop.time() > end:
            raise TimeoutError("nats-server did not come back")
        await asyncio.sleep(0.05)  # polling a port with a deadline


@pytest.fixture
async def url() -> AsyncIterator[str]:
    made = nats_url(heartbeat="0.3", attempt_timeout="0.5")
    try:
        yield made
    finally:
        await _wait_port(10)
        async with adapters.connect(made) as store:
            assert isinstance(store, NatsStore)
            await store.drop_buckets()


async def test_restart_mid_run(url: str) -> None:
    async with (
        adapters.connect(url, write_timeout=30) as patient,
        adapters.connect(url, write_timeout=0.3) as hasty,
        adapters.connect(url) as reader,
    ):
        writer = patient.collection("r")
        quick = hasty.collection("r")
        watched = reader.collection("r")
        await writer.insert({"n": 0}, key="before")
        await quick.count()
        async with watched.watch() as changes:
            _stop_nats()
            try:
                during = asyncio.ensure_future(writer.insert({"n": 1}, key="during"))
                # A batch (pipelined write rounds) waits across the outage too.
                many = asyncio.ensure_future(
                    writer.insert_many([{"_key": "many1", "n": 10}, {"_key": "many2", "n": 11}])
                )
                with pytest.raises(adapters.BackendUnavailable):
                    await quick.insert({"n": 2}, key="fails")
                with pytest.raises(adapters.BackendUnavailable):
                    await quick.insert_many([{"_key": "f1", "n": 3}, {"_key": "f2", "n": 4}])
                assert not during.done()
                assert not many.done()
            finally:
                _start_nats()
            async with asyncio.timeout(60):
                rec = await during
                batch = await many
                change = await anext(changes)
                # The batch's inserts, and the in-doubt ones (see below), may come first.
                while change.key != "during":
                    assert change.key in {"many1", "many2", "fails", "f1", "f2"}
                    change = await anext(changes)
        assert [(r.key, r.version, r.data) for r in batch] == [
            ("many1", 1, {"n": 10}),
            ("many2", 1, {"n": 11}),
        ]
        assert (await watched.get("many2")) is not None
        assert (rec.key, rec.version) == ("during", 1)
        assert (change.kind, change.key) == ("inserted", "during")
        got = await watched.get("during")
        assert got is not None
        assert got.data == {"n": 1}
        # "fails" is in doubt: it was never acknowledged, but the client had buffered
        # it and may have delivered it after the reconnect (documented behaviour).
        # The mirrors keep following after the restart.
        await quick.update("before", {"n": 5})
        again = await writer.get("before")
        assert again is not None
        assert again.data == {"n": 5}


async def test_a_watch_loses_nothing_across_a_restart(url: str) -> None:
    async with (
        adapters.connect(url, write_timeout=30) as writing,
        adapters.connect(url) as reading,
    ):
        writer = writing.collection("feed")
        async with reading.collection("feed").watch() as changes:
            await writer.insert({"seq": 0}, key="k0")
            first = await asyncio.wait_for(anext(changes), 10)
            _stop_nats()
            try:
                # Issued during the outage: they wait for the server (write_timeout).
                during = [
                    asyncio.ensure_future(writer.insert({"seq": n}, key=f"k{n}"))
                    for n in range(1, 6)
                ]
            finally:
                _start_nats()
            async with asyncio.timeout(60):
                await asyncio.gather(*during)
                for n in range(6, 11):
                    await writer.insert({"seq": n}, key=f"k{n}")
                got = [await anext(changes) for _ in range(10)]
        seqs = [c.record.data["seq"] for c in got if c.record is not None]
        assert sorted(seqs) == list(range(1, 11)), "a change was lost or repeated"
        assert seqs[5:] == list(range(6, 11))
        cursors = [c.cursor for c in [first, *got]]
        assert cursors == sorted(set(cursors))
        # A consumer that stopped at the fifth change resumes with the rest, once.
        async with reading.collection("feed").watch(since=got[4].cursor) as resumed:
            rest = [await asyncio.wait_for(anext(resumed), 10) for _ in range(5)]
        assert [c.key for c in rest] == [c.key for c in got[5:]]
