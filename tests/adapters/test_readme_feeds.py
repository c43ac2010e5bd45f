"""The README's change-feed example is real: it is run as a script and its output checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- feeds-example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found is not None, "the change-feed example is missing from README.md"
    return found.group(1)


def test_the_change_feed_example_prints_what_the_readme_says(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _example()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == "updated o1 {'total': 12}\ninserted o2 {'total': 7}\n"
    assert "prints `updated o1 {'total': 12}` then `inserted o2 {'total': 7}`" in (
        README.read_text(encoding="utf-8")
    )
