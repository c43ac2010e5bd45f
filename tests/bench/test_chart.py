"""The SVG bar charts: what they draw, and the same bytes for the same figures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bench.report.chart import AGAINST, FAVOURS, bar_chart, nice_ticks, scale_for
from bench.report.numbers import TIMES as T
from bench.report.numbers import ratio
from bench.results import Group

from .sample import ok_result

SVG = "{http://www.w3.org/2000/svg}"


def bars(svg: str) -> list[ET.Element]:
    """The bar rectangles (every rect but the white background)."""
    return [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.get("fill") != "#ffffff"]


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (1.05, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2]),
        (2.3, [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]),
        (13.0, [0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0]),
        (340.0, [0.0, 100.0, 200.0, 300.0, 400.0]),
    ],
)
def test_ticks_are_round_and_cover_the_top(top: float, expected: list[float]) -> None:
    assert nice_ticks(top) == expected


def test_a_wide_span_gets_a_log_axis_with_bars_from_parity() -> None:
    assert not scale_for([0.8, 1.3]).log
    wide = scale_for([0.12, 2.0])
    assert wide.log
    assert wide.origin == 1.0
    assert wide.ticks[0] <= 0.12
    assert wide.ticks[-1] >= 2.0
    assert wide.at(wide.ticks[0]) == 0.0
    assert wide.at(wide.ticks[-1]) == 1.0


def test_one_bar_per_figure_coloured_by_its_side_of_parity() -> None:
    group = ok_result().groups[0]
    svg = bar_chart(group)
    assert [b.get("fill") for b in bars(svg)] == [AGAINST, AGAINST, FAVOURS]
    widths = [float(b.get("width") or 0) for b in bars(svg)]
    assert widths[1] > widths[0] > widths[2]  # 1.30x, 1.05x, 0.90x on a linear axis
    shown = texts(svg)
    assert group.title in shown
    assert "ratio = client / raw; below 1.0 favours client" in shown
    assert {f"1.05{T}", f"1.30{T}", f"0.90{T}", "sequential insert", "get | piped"} <= set(shown)


def test_goal_ticks_and_parity_line_are_drawn() -> None:
    svg = bar_chart(ok_result().groups[0])
    lines = list(ET.fromstring(svg).iter(f"{SVG}line"))
    assert len([ln for ln in lines if ln.get("stroke-dasharray")]) == 1  # 1.0
    assert len([ln for ln in lines if ln.get("stroke-width") == "2"]) == 2  # two goals


def test_text_is_escaped_and_output_is_stable() -> None:
    group = ok_result().groups[1]
    svg = bar_chart(group)
    assert "<insert> & co" in texts(svg)  # parsed back from &lt;insert&gt; &amp; co
    copy = Group(title=group.title, ours=group.ours, baseline=group.baseline, better="higher")
    copy.add("<insert> & co", 0.5, 4.0, "s", goal=5.0, note="errors 0/0")
    assert bar_chart(copy) == svg


@pytest.mark.parametrize(
    ("value", "shown"), [(0.954, "0.95"), (8.0, "8.00"), (14.23, "14.2"), (339.83, "340")]
)
def test_ratios_keep_about_three_digits(value: float, shown: str) -> None:
    assert ratio(value) == f"{shown}{T}"
