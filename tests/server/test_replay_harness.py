"""The replay harness itself must notice differences (else conformance proves nothing)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.server.replay import Mismatch, replay, split_segments
from tests.transcripts import Line, Transcript, load


def _edited(name: str, seq: int, **changes: Any) -> Transcript:
    original = load(name)
    lines = []
    for line in original.lines:
        raw = copy.deepcopy(line.raw)
        if line.seq == seq:
            raw.update(changes)
        lines.append(Line(line.seq, line.dir, raw))
    return Transcript(name, original.meta, lines)


def _frame(name: str, seq: int) -> dict[str, Any]:
    line = next(x for x in load(name).lines if x.seq == seq)
    frame = copy.deepcopy(line.frame)
    assert isinstance(frame, dict)
    return frame


def test_segments_follow_server_configs() -> None:
    assert [len(s.lines) > 0 for s in split_segments(load("connection"))] == [True] * 3
    labels = [s.label for s in split_segments(load("shutdown"))]
    assert labels == [c["label"] for c in load("shutdown").server_configs]


async def test_a_changed_value_is_reported() -> None:
    frame = _frame("store", 29)
    assert frame["data"] == 3
    frame["data"] = 4
    with pytest.raises(Mismatch, match="expected 4, got 3"):
        await replay(_edited("store", 29, frame=frame))


async def test_a_reused_record_id_must_map_consistently() -> None:
    frame = _frame("store", 11)  # get Alice: must be the id returned by insert #1
    bob = _frame("store", 6)["data"]["id"]
    frame["data"]["id"] = bob
    with pytest.raises(Mismatch, match="was mapped to"):
        await replay(_edited("store", 11, frame=frame))


async def test_a_wrong_close_code_is_reported() -> None:
    with pytest.raises(Mismatch, match="expected close 1004"):
        await replay(_edited("connection", 41, code=1004))


async def test_an_unexpected_push_is_reported() -> None:
    # Drop the recorded push of seq 13: the server still sends it.
    original = load("subscriptions")
    lines = [line for line in original.lines if line.seq != 13]
    with pytest.raises(Mismatch):
        await replay(Transcript("subscriptions", original.meta, lines))
