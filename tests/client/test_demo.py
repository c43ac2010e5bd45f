"""The README's demo command runs ``examples/demo.py``: keep it working."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from examples import demo


async def test_demo_tours_the_client_against_the_in_process_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await demo.main()
    out = capsys.readouterr().out
    assert out.startswith("Connected to ws://127.0.0.1:")
    assert "state=connected" in out
    assert '"_version": 2' in out  # the update bumped the version
    assert "A bad insert raises ValidationError" in out
    assert '"code": "VALIDATION_ERROR"' in out
    # The live query pushed after each relevant write, and only then.
    pushes = out.split("Push after deleting Carol:")[1]
    assert '"Alice"' in pushes
    assert '"Carol"' not in pushes
    # client.logic: computed totals, a constraint, a derived view that stays live.
    logic = out.split("Computed field:")[1]
    assert "\n  59.97\n" in logic
    assert "recomputed when qty changes:\n  79.96\n" in logic
    assert '"message": "An order needs a positive quantity"' in logic
    view, push = logic.split("Derived view 'spending'")[1].split("The view pushed")
    assert '"orders": 2' in view
    assert '"spent": 84.96' in view
    assert '"orders": 3' in push  # the live view pushed after the third order
    assert '"spent": 104.96' in push
    assert out.rstrip().endswith("the in-process server is stopped.")


ROOT = Path(__file__).resolve().parents[2]


async def test_demo_runs_as_a_script_without_stderr() -> None:
    root = ROOT
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(root / "examples" / "demo.py"),
        cwd=root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert err == b""
    assert b'"spent": 84.96' in out
