"""The README's demo command runs ``examples/demo.py``: keep it working."""

from __future__ import annotations

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
    assert out.rstrip().endswith("the in-process server is stopped.")
