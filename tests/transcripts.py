"""Load the real-server transcripts recorded in ``../shared/transcripts``.

The canonical transcripts live beside the repository
(``<repo>/../shared/transcripts``, or ``shared/transcripts`` in any folder
above it, for worktrees nested deeper). A checkout without them (a clone
elsewhere) uses the copy kept in ``tests/data/transcripts``;
``test_transcripts_copy_matches_the_shared_ones`` keeps the two identical.
``NOEX_TRANSCRIPTS`` overrides the location.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "COPY_DIR",
    "Line",
    "Transcript",
    "load",
    "shared_dir",
    "transcript_dir",
    "transcript_names",
]

COPY_DIR = Path(__file__).resolve().parent / "data" / "transcripts"


def shared_dir() -> Path | None:
    """The canonical ``shared/transcripts`` folder above the repository, if any."""
    for parent in Path(__file__).resolve().parents[1:]:
        candidate = parent / "shared" / "transcripts"
        if candidate.is_dir():
            return candidate
    return None


def transcript_dir() -> Path:
    """Return the folder holding the ``*.jsonl`` transcripts."""
    env = os.environ.get("NOEX_TRANSCRIPTS")
    if env:
        return Path(env)
    return shared_dir() or COPY_DIR


def transcript_names() -> list[str]:
    """Names (without ``.jsonl``) of every recorded transcript, sorted."""
    return sorted(p.stem for p in transcript_dir().glob("*.jsonl"))


@dataclass(frozen=True)
class Line:
    """One line of a transcript (see the transcripts' README for the fields)."""

    seq: int
    dir: str
    raw: dict[str, Any]

    @property
    def conn(self) -> str | None:
        value = self.raw.get("conn")
        return value if isinstance(value, str) else None

    @property
    def frame(self) -> Any:
        return self.raw.get("frame")


@dataclass(frozen=True)
class Transcript:
    """A parsed transcript: its meta line and the lines that follow."""

    name: str
    meta: dict[str, Any]
    lines: list[Line] = field(default_factory=list)

    @property
    def server_configs(self) -> list[dict[str, Any]]:
        configs = self.meta.get("server_configs", [])
        assert isinstance(configs, list)
        return configs

    def of(self, direction: str) -> list[Line]:
        return [line for line in self.lines if line.dir == direction]


@cache
def load(name: str) -> Transcript:
    """Load ``<name>.jsonl``; the first line must be the ``meta`` line."""
    path = transcript_dir() / f"{name}.jsonl"
    rows = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines() if text]
    meta, rest = rows[0], rows[1:]
    assert meta["dir"] == "meta", f"{path}: first line is not meta"
    return Transcript(name, meta, [Line(int(r["seq"]), str(r["dir"]), r) for r in rest])
