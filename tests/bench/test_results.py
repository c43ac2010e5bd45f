"""The figures a scenario script records with ``--json``."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bench.results import Recorder, decode_result

from .sample import ok_result


def test_ratio_follows_the_direction_of_the_group() -> None:
    result = ok_result()
    floor, speed = result.groups
    assert floor.figures[0].ratio == pytest.approx(21.0 / 20.0)
    assert floor.ratio_label == "client / raw"
    assert speed.figures[0].ratio == pytest.approx(4.0 / 0.5)
    assert speed.ratio_label == "theirs / ours"


def test_goals_and_sides_of_parity() -> None:
    floor, speed = ok_result().groups
    insert, get, piped = floor.figures
    assert floor.goal_met(insert) is True  # 1.05 <= 1.05
    assert floor.goal_met(get) is False  # 1.3 > 1.2
    assert floor.goal_met(piped) is None
    assert not floor.favours_ours(insert)
    assert floor.favours_ours(piped)
    assert speed.goal_met(speed.figures[0]) is True  # 8 >= 5
    assert speed.favours_ours(speed.figures[0])


def test_the_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    recorder = Recorder("x", "X vs Y", path, n=3)
    recorder.group("g", ours="a", baseline="b", better="lower").add("c", 2.0, 1.0, "ms", goal=3)
    recorder.write()
    assert decode_result(path.read_bytes()) == recorder.result


def test_without_a_path_nothing_is_written(tmp_path: Path) -> None:
    Recorder("x", "X", None).write()
    assert list(tmp_path.iterdir()) == []


def test_unavailable_records_a_skip_and_stops_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    with pytest.raises(SystemExit) as stopped:
        Recorder("x", "X", path).unavailable("brainlessdb virtualenv missing")
    assert stopped.value.code == "brainlessdb virtualenv missing"
    result = decode_result(path.read_bytes())
    assert (result.status, result.reason) == ("skipped", "brainlessdb virtualenv missing")


def test_a_malformed_file_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="status"):
        decode_result(b'{"scenario": "x", "status": "great"}')
