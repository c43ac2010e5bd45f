"""Contract: concurrent writers on the same data, through two stores."""

from __future__ import annotations

import asyncio
from typing import Any

import adapters

from ..backends import StoreOpener

WRITERS = 4
INCREMENTS = 10


async def _increment(coll: adapters.Collection[dict[str, Any]], key: str) -> int:
    """Add 1 to the counter with compare-and-set; return how many conflicts were retried."""
    retries = 0
    for _ in range(INCREMENTS):
        while True:
            rec = await coll.get(key)
            assert rec is not None
            try:
                await coll.update(key, {"n": rec.data["n"] + 1}, if_version=rec.version)
                break
            except adapters.Conflict:
                retries += 1
    return retries


async def test_cas_counter_from_two_stores_loses_no_increment(open_store: StoreOpener) -> None:
    async with open_store() as first, open_store() as second:
        a = first.collection("counters")
        b = second.collection("counters")
        await a.insert({"n": 0}, key="c")
        colls = [a, b] * (WRITERS // 2)
        await asyncio.gather(*(_increment(c, "c") for c in colls))
        final = await b.get("c")
    assert final is not None
    assert final.data["n"] == WRITERS * INCREMENTS
    assert final.version == 1 + WRITERS * INCREMENTS


async def test_racing_inserts_of_one_key_have_one_winner(open_store: StoreOpener) -> None:
    async with open_store() as first, open_store() as second:
        results = await asyncio.gather(
            *(
                s.collection("race").insert({"by": i}, key="only")
                for i, s in enumerate([first, second, first, second])
            ),
            return_exceptions=True,
        )
        winners = [r for r in results if isinstance(r, adapters.Record)]
        losers = [r for r in results if isinstance(r, adapters.AlreadyExists)]
        assert len(winners) == 1
        assert len(losers) == 3
        stored = await second.collection("race").get("only")
    assert stored is not None
    assert stored.data == winners[0].data


async def test_second_store_reads_first_stores_writes(open_store: StoreOpener) -> None:
    async with open_store() as first, open_store() as second:
        rec = await first.collection("shared").insert({"v": 1})
        got = await second.collection("shared").get(rec.key)
        assert got == rec
        await second.collection("shared").update(rec.key, {"v": 2})
        again = await first.collection("shared").get(rec.key)
    assert again is not None
    assert (again.data, again.version) == ({"v": 2}, 2)
