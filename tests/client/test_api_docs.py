"""The client guide cannot rot.

* Every ``<!-- example: TARGET -->`` Python block of the documentation runs:
  ``local`` blocks against a fresh ``LocalServer``, ``local-auth`` ones against a
  ``LocalServer`` with token sessions, ``replay <transcript> <conn>`` ones against
  the replay server of that recorded transcript (which answers only exactly
  recorded requests), ``logic`` ones against the frames scripted from ``logic.md``
  and against a ``LocalServer`` with its logic engine. (``example: script`` blocks
  are whole programs, run by ``tests/docs/test_blocks.py``.)
* The operations table of the porting guide is exactly what :func:`recorded_in`
  computes from the method table and the transcripts.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from noex_client import ClientOptions, NoexClient
from noex_client.testing import LocalServer
from tests.client.api_calls import CALLS, call_for
from tests.client.local import local_client
from tests.client.replay_server import ReplayServer, scripted
from tests.compat.logic_script import ORDERS as LOGIC_ORDERS
from tests.compat.logic_script import SCRIPT as LOGIC_SCRIPT
from tests.docs.blocks import ROOT, Block, blocks
from tests.transcripts import load, transcript_names

TESTS = ROOT / "tests" / "client"
PORTING = ROOT / "docs" / "guide" / "porting.md"
AUTH = {
    "sessions": {"admin-token": {"userId": "admin-1", "roles": ["admin"]}},
    "required": False,
}


def examples() -> list[Block]:
    return [
        block
        for block in blocks()
        if block.marker is not None
        and block.marker.startswith("example: ")
        and block.marker != "example: script"
    ]


def compile_example(block: Block) -> Callable[[NoexClient, str], Awaitable[None]]:
    """The block as ``async def example(client, url)``; tracebacks show page line numbers."""
    body = textwrap.indent(block.code, "    ")
    source = "\n" * (block.line - 2) + "async def example(client, url):\n" + body
    namespace: dict[str, Any] = {}
    exec(compile(source, str(block.page), "exec"), namespace)
    function: Callable[[NoexClient, str], Awaitable[None]] = namespace["example"]
    return function


def test_the_client_guide_is_made_of_examples() -> None:
    guide = [block for block in examples() if block.page.name == "client.md"]
    assert len(guide) >= 10
    assert all(block.language == "python" for block in examples())


@pytest.mark.parametrize("block", examples(), ids=lambda block: block.where)
async def test_documented_example_runs(block: Block) -> None:
    assert block.marker is not None
    example = compile_example(block)
    kind, *args = block.marker.removeprefix("example: ").split()
    if kind in ("local", "local-auth"):
        options: dict[str, Any] = {"auth": AUTH} if kind == "local-auth" else {}
        async with local_client(**options) as (server, client):
            await example(client, server.url)
        return
    if kind == "logic":  # frames scripted from the logic protocol, then LocalServer's engine
        async with ReplayServer(scripted(*LOGIC_SCRIPT)) as replay:
            url = replay.url("A")
            async with NoexClient(url, ClientOptions(reconnect=False)) as client:
                await example(client, url)
            assert replay.mismatches == []
        server = LocalServer.from_config({"buckets": [LOGIC_ORDERS], "logic": True})
        async with server, NoexClient(server.url) as client:
            await example(client, server.url)
        return
    assert kind == "replay", block.marker
    name, conn = args
    async with ReplayServer(load(name)) as replay:
        url = replay.url(conn)
        async with NoexClient(url, ClientOptions(reconnect=False)) as client:
            await example(client, url)
        assert replay.mismatches == []
        assert replay.matched, "the example sent nothing"


# -- the operations table -------------------------------------------------------------------

_ROW = re.compile(r"^\| `([^`]+)` \| `([^`]+)` \| ([^|]*) \| ([^|]*) \|$", re.M)


def _needle(op: str, method: str) -> str:
    name = re.findall(r"(\w+)\(", method)[-1]
    return f"users.{name}(" if method.startswith("store.bucket(") else f"{op.split('.')[0]}.{name}("


def _mentions(test: str, needle: str) -> bool:
    if test == "guide":
        return any(needle in block.code for block in examples())
    return needle in (TESTS / f"test_api_{test}.py").read_text(encoding="utf-8")


def recorded_in() -> dict[str, list[str]]:
    """Op -> the transcripts in which a documented method's request was recorded."""
    recorded: dict[str, list[str]] = {op: [] for op in CALLS}
    for name in transcript_names():
        for line in load(name).of("send"):
            call = call_for(line.frame)
            if call is not None and name not in recorded[call.op]:
                recorded[call.op].append(name)
    return recorded


def test_operations_table_is_true() -> None:
    """One row per method, in table order, with the transcripts that cover it; every
    test module a row names really calls the method."""
    rows = _ROW.findall(PORTING.read_text(encoding="utf-8"))
    assert [(op, method) for op, method, _t, _m in rows] == [
        (op, call.method) for op, call in CALLS.items()
    ]
    recorded = recorded_in()
    for op, method, transcripts, tests in rows:
        assert transcripts.strip() == ", ".join(recorded[op]), op
        for test in (t.strip() for t in tests.split(",")):
            if test != "-":
                assert _mentions(test, _needle(op, method)), (op, test)
