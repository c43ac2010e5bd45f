"""The documented BeaverClient example runs as written, against the real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.beaver import BeaverClient
from tests.adapters.beaver.conftest import API_KEY
from tests.docs.blocks import named_script

pytestmark = pytest.mark.beaver

ROOT = Path(__file__).resolve().parents[3]


def _example() -> str:
    return named_script("beaver-client").code


def test_documented_example_runs(keyed_beaver_url: str) -> None:
    script = _example()
    assert 'BeaverClient("http://127.0.0.1:8000", api_key="KEY")' in script
    script = script.replace("http://127.0.0.1:8000", keyed_beaver_url)
    script = script.replace('api_key="KEY"', f"api_key={API_KEY!r}")
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", script],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    with BeaverClient(keyed_beaver_url, api_key=API_KEY) as db:
        assert len(db.dict("users")) == 0
        assert (len(db.list("todo")), db.list("todo")[0]) == (1, "x")
        assert len(db.queue("jobs")) == 0
        assert [e.data for e in db.log("audit").range()] == [{"msg": "boot"}]
