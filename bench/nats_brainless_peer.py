# mypy: ignore-errors
"""A brainlessdb 0.17.3 peer driven over stdin/stdout (JSON Lines).

Runs inside brainlessdb's own virtualenv (never imported by our code). Used by the
interop test and the NATS benchmarks. Usage::

    python nats_brainless_peer.py CLASS_NAME NAMESPACE FLUSH_INTERVAL

Each input line is ``{"op": ..., ...}``; each reply is one line ``{"ok": ...}`` or
``{"error": ...}``. Remote changes seen by ``on_change`` are reported as
``{"event": "change", "uuid": ..., "t": perf_counter_ns}`` lines when enabled.
"""

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from typing import Annotated, Optional, Union

import msgspec
import nats
from brainlessdb import BrainlessBucket, BrainlessDB, BrainlessDBFeat, BrainlessStruct
from msgspec import Meta

CLASS_NAME, NAMESPACE, FLUSH_INTERVAL = sys.argv[1], sys.argv[2], float(sys.argv[3])
NATS_URL = os.environ.get("NOEX_NATS_URL", "nats://127.0.0.1:4222")


class Address(BrainlessStruct):
    street: str = ""
    city: str = ""


class AppaLocal(BrainlessStruct):
    cursor: int = 0


class AppbLocal(BrainlessStruct):
    note: str = ""


def _make_model():
    # The class name is the bucket name, so each test session gets its own buckets.
    source = f"""
class {CLASS_NAME}(BrainlessBucket):
    serial: Annotated[str, Meta(extra={{"brainlessdb_flags": BrainlessDBFeat.UNIQUE}})]
    site: Annotated[str, Meta(extra={{"brainlessdb_flags": BrainlessDBFeat.INDEX}})] = ""
    status: Annotated[int, Meta(extra={{"brainlessdb_flags": BrainlessDBFeat.STATE}})] = 0
    address: Optional[Address] = None
    _: Union[AppaLocal, AppbLocal, None] = None

    # brainlessdb's start() fails without this (undocumented requirement).
    @classmethod
    def allows_app(cls, namespace):
        return True
"""
    scope = {
        "Annotated": Annotated,
        "Optional": Optional,
        "Union": Union,
        "Meta": Meta,
        "BrainlessBucket": BrainlessBucket,
        "BrainlessDBFeat": BrainlessDBFeat,
        "Address": Address,
        "AppaLocal": AppaLocal,
        "AppbLocal": AppbLocal,
    }
    exec(source, scope)
    return scope[CLASS_NAME]


Model = _make_model()
LOCALS = {"AppaLocal": AppaLocal, "AppbLocal": AppbLocal}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def dump(obj):
    if obj is None:
        return None
    out = msgspec.to_builtins(obj)
    out.pop("TYPE", None)
    out["_uuid"] = str(obj._uuid)
    return out


def build(fields):
    fields = dict(fields)
    local = fields.pop("_", None)
    if local is not None:
        local = LOCALS[local.pop("TYPE")](**local)
    address = fields.pop("address", None)
    if address is not None:
        address = Address(**address)
    if "_uuid" in fields:
        fields["_uuid"] = uuid.UUID(fields["_uuid"])
    return Model(**fields, address=address, _=local)


class Peer:
    def __init__(self):
        self.nc = None
        self.db = None
        self.coll = None
        self.report = False

    async def start(self):
        self.nc = await nats.connect(NATS_URL)
        self.db = BrainlessDB(self.nc, namespace=NAMESPACE, flush_interval=FLUSH_INTERVAL)
        self.coll = self.db.collection(Model)
        self.coll.on_change(self._on_change)
        await self.db.start()

    def _on_change(self, old, new):
        if self.report:
            emit({"event": "change", "uuid": str(new._uuid), "t": time.perf_counter_ns()})

    async def op_get(self, msg):
        return dump(self.coll.get(msg["uuid"]))

    async def op_add(self, msg):
        obj = self.coll.add(build(msg["fields"]))
        await self.db.flush()
        return dump(obj)

    async def op_update(self, msg):
        obj = self.coll.get(msg["uuid"])
        for name, value in msg["fields"].items():
            setattr(obj, name, value)
        obj.save()
        await self.db.flush()
        return dump(self.coll.get(msg["uuid"]))

    async def op_delete(self, msg):
        ok = self.coll.delete(msg["uuid"])
        await self.db.flush()
        return ok

    async def op_wait(self, msg):
        # Poll the in-memory collection until the condition holds or the deadline passes.
        deadline = time.monotonic() + msg.get("timeout", 10)
        want = msg.get("fields")
        while time.monotonic() < deadline:
            got = dump(self.coll.get(msg["uuid"]))
            if want is None and got is None:
                return None
            if (
                want is not None
                and got is not None
                and all(got.get(k) == v for k, v in want.items())
            ):
                return got
            await asyncio.sleep(0.01)
        raise TimeoutError(f"condition not met for {msg['uuid']}")

    async def op_count(self, msg):
        return len(self.coll)

    async def op_report(self, msg):
        self.report = bool(msg["on"])
        return True

    async def op_bench_insert(self, msg):
        n = msg["n"]
        t0 = time.perf_counter()
        for i in range(n):
            self.coll.add(
                Model(serial=f"B{i}-{uuid.uuid4().hex[:6]}", site=f"s{i % 100}", status=i)
            )
        await self.db.flush()
        return time.perf_counter() - t0

    async def op_bench_load(self, msg):
        db = BrainlessDB(self.nc, namespace=NAMESPACE + "x", flush_interval=3600)
        coll = db.collection(Model)
        t0 = time.perf_counter()
        await db.start()
        elapsed = time.perf_counter() - t0
        count = len(coll)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(db.stop(), 5)
        return {"seconds": elapsed, "count": count}

    async def op_bench_find(self, msg):
        n = msg["n"]
        sites = [f"s{i % 100}" for i in range(n)]
        t0 = time.perf_counter()
        for site in sites:
            self.coll.find(site=site)
        return (time.perf_counter() - t0) / n

    async def op_touch(self, msg):
        # add() of a changed copy: mutate-then-save() of the stored object is not
        # always flushed in this version (every other save waited for the next one).
        obj = msgspec.structs.replace(self.coll.get(msg["uuid"]), **msg["fields"])
        t0 = time.perf_counter_ns()
        self.coll.add(obj)
        return t0

    async def stop(self):
        # stop() can hang in this version; do not let the driver hang with it.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.db.stop(), 5)
        await self.nc.close()


async def main():
    peer = Peer()
    await peer.start()
    emit({"ok": "ready"})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        msg = json.loads(line)
        if msg["op"] == "quit":
            break
        try:
            emit({"ok": await getattr(peer, "op_" + msg["op"])(msg)})
        except Exception as exc:  # report, keep serving
            emit({"error": f"{type(exc).__name__}: {exc}"})
    await peer.stop()
    emit({"ok": "bye"})


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)
