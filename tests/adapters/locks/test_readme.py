"""The documented lock example runs as a user runs it: a script, in a fresh directory."""

from __future__ import annotations

from pathlib import Path

from tests.docs.blocks import named_script, run_script


def test_documented_lock_example_runs(tmp_path: Path) -> None:
    done = run_script(named_script("locks"), tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "building the report\n", "")
    assert (tmp_path / "jobs.db").is_file()
