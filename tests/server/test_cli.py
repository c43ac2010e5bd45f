"""``python -m noex_client.testing serve``: URL on the first line, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from websockets.asyncio.client import connect

from noex_client.testing.__main__ import main

CONFIG = {
    "buckets": [{"name": "users", "schema": {"name": {"type": "string"}}}],
    "gracePeriodMs": 50,
    "logic": True,
}


async def test_serve_prints_url_and_stops_on_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "noex_client.testing", "serve", "--config", json.dumps(CONFIG),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            url = (await proc.stdout.readline()).decode().strip()
        assert url.startswith("ws://127.0.0.1:")
        async with connect(url) as ws:
            assert json.loads(await ws.recv())["requiresAuth"] is False
            await ws.send(json.dumps({"id": 1, "type": "store.buckets"}))
            reply = json.loads(await ws.recv())
            assert reply["data"] == {"count": 1, "names": ["users"]}
            await ws.send(
                json.dumps({"id": 2, "type": "logic.evaluateExpr", "expr": {"$add": [2, 3]}})
            )
            assert json.loads(await ws.recv())["data"] == 5
            proc.send_signal(signal.SIGTERM)
            assert json.loads(await ws.recv()) == {
                "type": "system",
                "event": "shutdown",
                "gracePeriodMs": 50,
            }
            await ws.wait_closed()
            assert (ws.close_code, ws.close_reason) == (1000, "server_shutdown")
        async with asyncio.timeout(20):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_bad_config_is_a_usage_error(capsys: object) -> None:
    import pytest

    with pytest.raises(SystemExit) as info:
        main(["serve", "--config", '{"nope": 1}'])
    assert info.value.code == 2
