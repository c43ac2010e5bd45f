"""The NATS guide's program runs as written against the real server, on buckets of its own."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from tests.adapters.nats.factory import fresh_url

from .blocks import named_script, run_script

pytestmark = pytest.mark.nats

URL = "nats://127.0.0.1:4222?namespace=app"


async def test_documented_nats_program_prints_what_the_page_says(tmp_path: Path) -> None:
    block = named_script("nats")
    assert block.code.count(URL) == 1
    async with fresh_url(namespace="app") as url:  # a fresh bucket prefix, dropped after
        script = dataclasses.replace(block, code=block.code.replace(URL, url))
        done = await asyncio.to_thread(run_script, script, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == block.prints
