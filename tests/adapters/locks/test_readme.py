"""The README's lock example runs as a user runs it: a script, in a fresh directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- run: locks -->\n```python\n", 1)[1]
    return block.split("\n```", 1)[0]


def test_readme_lock_example_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _example()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "building the report\n", "")
    assert (tmp_path / "jobs.db").is_file()
