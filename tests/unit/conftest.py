"""Locate the shared transcripts when this checkout is a worktree nested deeper
than ``<repo>/../shared`` (the loader honours ``NOEX_TRANSCRIPTS``)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.transcripts import transcript_dir

if not transcript_dir().is_dir():
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "transcripts"
        if candidate.is_dir():
            os.environ["NOEX_TRANSCRIPTS"] = str(candidate)
            break
