"""Interop with the real brainlessdb 0.17.3 (own virtualenv, separate process).

The peer runs ``bench/nats_brainless_peer.py``; its model declares the same
fields and flags as :class:`bench.nats_common.Device`, plus the ``allows_app()`` classmethod
that brainlessdb's ``start()`` requires although its README never mentions it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import nats
import pytest

import adapters
from adapters.backends.nats import NatsCollection
from bench.nats_common import Address, AppaLocal, BrainlessPeer, Device, brainless_python

from .factory import NATS_URL

pytestmark = [
    pytest.mark.nats,
    pytest.mark.skipif(brainless_python() is None, reason="run scripts/ensure-services first"),
]


@pytest.fixture
async def shared() -> AsyncIterator[tuple[str, BrainlessPeer, NatsCollection]]:
    """A fresh class/bucket name, a brainlessdb peer (``appb``) and our collection (``appa``)."""
    name = f"DevIop{uuid.uuid4().hex[:8]}V1"
    peer = await BrainlessPeer.start(name, "appb")
    try:
        async with adapters.connect(f"{NATS_URL}?namespace=appa") as store:
            coll = store.collection(name, model=Device)
            assert isinstance(coll, NatsCollection)
            await coll.load()
            yield name, peer, coll
    finally:
        await peer.close()
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for bucket in (
            name,
            *(f"{name}-{s}" for s in ("State", "AppaLocal", "AppbLocal", "Unique")),
        ):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_key_value(bucket)
        await nc.close()


async def _raw(bucket: str, key: str) -> Any:
    nc = await nats.connect(NATS_URL)
    try:
        kv = await nc.jetstream().key_value(bucket)
        entry = await kv.get(key)
        return msgspec.json.decode(entry.value or b"")
    finally:
        await nc.close()


async def test_records_flow_both_ways(shared: tuple[str, BrainlessPeer, NatsCollection]) -> None:
    name, peer, coll = shared
    # Ours -> brainlessdb: state and app-local data land in their buckets.
    ours = await coll.insert(
        Device(
            serial="S-A",
            site="prague",
            status=3,
            address=Address("Main 1", "Prague"),
            _=AppaLocal(7),
        )
    )
    seen = await peer.call("wait", uuid=ours.key, fields={"serial": "S-A"})
    assert seen == {
        "serial": "S-A",
        "site": "prague",
        "status": 3,
        "address": {"TYPE": "Address", "street": "Main 1", "city": "Prague"},
        "_": None,  # appb does not see appa's local data
        "_uuid": ours.key,
    }
    config = await _raw(name, ours.key)
    assert set(config) == {"d", "l", "m"}
    assert config["d"] == {
        "serial": "S-A",
        "site": "prague",
        "address": {"TYPE": "Address", "street": "Main 1", "city": "Prague"},
    }
    assert (config["l"], config["m"]["created_by"]) == ("appa", "appa")
    assert await _raw(f"{name}-State", ours.key) == {"status": 3}
    assert await _raw(f"{name}-AppaLocal", ours.key) == {"TYPE": "AppaLocal", "cursor": 7}

    # brainlessdb -> ours.
    theirs = await peer.call(
        "add",
        fields={
            "serial": "S-B",
            "site": "brno",
            "status": 5,
            "_": {"TYPE": "AppbLocal", "note": "b"},
        },
    )
    key = theirs["_uuid"]
    got = await coll.get(key)
    assert got is not None
    assert got.data == Device(serial="S-B", site="brno", status=5)
    assert [r.key for r in await coll.find({"site": "brno"})] == [key]

    # Updates both ways keep the other side's app-local data.
    await coll.update(key, {"status": 9, "site": "ostrava"})
    seen = await peer.call("wait", uuid=key, fields={"status": 9, "site": "ostrava"})
    assert seen["_"] == {"TYPE": "AppbLocal", "note": "b"}
    await peer.call("update", uuid=ours.key, fields={"site": "brno", "status": 4})
    got = await coll.get(ours.key)
    assert got is not None
    assert got.data == Device(
        serial="S-A", site="brno", status=4, address=Address("Main 1", "Prague"), _=AppaLocal(7)
    )
    assert got.version > ours.version

    # A unique value held by a brainlessdb record is taken for us too.
    with pytest.raises(adapters.AlreadyExists):
        await coll.insert(Device(serial="S-B"))

    # Deletes both ways.
    assert await peer.call("delete", uuid=ours.key) is True
    assert await coll.get(ours.key) is None
    assert await coll.delete(key)
    assert await peer.call("wait", uuid=key, fields=None) is None
    assert await peer.call("count") == 0


async def test_callbacks_fire_for_brainlessdb_writes(
    shared: tuple[str, BrainlessPeer, NatsCollection],
) -> None:
    _, peer, coll = shared
    seen: list[tuple[str, Any, Any]] = []
    coll.on_change(lambda old, new: seen.append(("change", old, new.data.serial)))
    coll.on_property_change(status=lambda rec, field, old, new: seen.append((field, old, new)))
    coll.on_delete(lambda old: seen.append(("delete", old.data.serial, None)))
    await coll.insert(
        Device(serial="local-only")
    )  # our own write: remote-only callbacks stay quiet
    theirs = await peer.call("add", fields={"serial": "S-C", "status": 1})
    await peer.call("update", uuid=theirs["_uuid"], fields={"status": 2})
    await peer.call("delete", uuid=theirs["_uuid"])
    assert await coll.get(theirs["_uuid"]) is None  # catches up with the delete
    assert ("change", None, "S-C") in seen
    assert ("status", None, 1) in seen
    assert ("status", 1, 2) in seen
    assert seen[-1] == ("delete", "S-C", None)
    assert all("local-only" not in item for item in seen)
