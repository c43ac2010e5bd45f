"""The documented change-feed example runs as a user runs it: a script, in a fresh directory."""

from __future__ import annotations

from pathlib import Path

from tests.docs.blocks import named_script, run_script


def test_the_change_feed_example_prints_what_the_page_says(tmp_path: Path) -> None:
    block = named_script("feeds")
    done = run_script(block, tmp_path)
    expected = "updated o1 {'total': 12}\ninserted o2 {'total': 7}\n"
    assert (done.returncode, done.stdout, done.stderr) == (0, expected, "")
    text = block.page.read_text(encoding="utf-8")
    assert "prints `updated o1 {'total': 12}` then `inserted o2 {'total': 7}`" in text
