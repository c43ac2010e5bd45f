"""The README's ``noex_client`` section cannot rot.

* Every ```python block of the section runs: ``local`` blocks against a fresh
  ``LocalServer``, ``local-auth`` ones against a ``LocalServer`` with token
  sessions, ``replay <transcript> <conn>`` ones against the replay server of
  that recorded transcript (which answers only exactly recorded requests),
  ``logic`` ones against the frames scripted from ``logic.md`` and against a
  ``LocalServer`` with its logic engine.
* The operations table is exactly what :func:`operations_table` computes from
  the method table and the transcripts.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from noex_client import ClientOptions, NoexClient
from noex_client.testing import LocalServer
from tests.client.api_calls import CALLS, call_for
from tests.client.local import local_client
from tests.client.replay_server import ReplayServer, scripted
from tests.compat.logic_script import ORDERS as LOGIC_ORDERS
from tests.compat.logic_script import SCRIPT as LOGIC_SCRIPT
from tests.transcripts import load, transcript_names

README = Path(__file__).resolve().parents[2] / "README.md"
TESTS = Path(__file__).resolve().parent
AUTH = {
    "sessions": {"admin-token": {"userId": "admin-1", "roles": ["admin"]}},
    "required": False,
}
_BLOCK = re.compile(r"<!-- example: ([^>]+?) -->\n```python\n(.*?)```", re.S)


def _bounds() -> tuple[str, int, int]:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- section: noex_client -->")
    return text, start, text.index("<!-- section:", start + 1)


def section() -> str:
    text, start, end = _bounds()
    return text[start:end]


def examples() -> list[tuple[str, str]]:
    """``(target, code)`` per block; ``code`` is padded so that line numbers in
    tracebacks are README line numbers."""
    text, start, end = _bounds()
    out = []
    for match in _BLOCK.finditer(text, start, end):
        first_line = text.count("\n", 0, match.start(2)) + 1
        out.append((match.group(1).strip(), "\n" * (first_line - 2) + match.group(2)))
    return out


def compile_example(code: str) -> Callable[[NoexClient, str], Awaitable[None]]:
    padding = len(code) - len(code.lstrip("\n"))
    body = textwrap.indent(code.lstrip("\n"), "    ")
    source = "\n" * padding + "async def example(client, url):\n" + body
    namespace: dict[str, Any] = {}
    exec(compile(source, str(README), "exec"), namespace)
    function: Callable[[NoexClient, str], Awaitable[None]] = namespace["example"]
    return function


def test_every_python_block_is_an_example() -> None:
    assert section().count("```python") == len(examples()) >= 10


@pytest.mark.parametrize(("target", "code"), examples(), ids=lambda v: str(v).strip()[:30])
async def test_readme_example_runs(target: str, code: str) -> None:
    example = compile_example(code)
    kind, *args = target.split()
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
    assert kind == "replay", target
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
    if test == "README":
        return any(needle in code for _target, code in examples())
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


def test_readme_operations_table_is_true() -> None:
    """One row per method, in table order, with the transcripts that cover it; every
    test module a row names really calls the method."""
    rows = _ROW.findall(section())
    assert [(op, method) for op, method, _t, _m in rows] == [
        (op, call.method) for op, call in CALLS.items()
    ]
    recorded = recorded_in()
    for op, method, transcripts, tests in rows:
        assert transcripts.strip() == ", ".join(recorded[op]), op
        for test in (t.strip() for t in tests.split(",")):
            if test != "-":
                assert _mentions(test, _needle(op, method)), (op, test)
