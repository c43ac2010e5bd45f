"""The README's lock example runs as a user runs it: a script, in a fresh directory."""

from __future__ import annotations

from pathlib import Path

from ..readme import run_example


def test_readme_lock_example_runs(tmp_path: Path) -> None:
    done = run_example("locks", tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "building the report\n", "")
    assert (tmp_path / "jobs.db").is_file()
