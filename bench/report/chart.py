"""Horizontal bar charts of ratios as SVG text, the same bytes for the same figures.

One bar per figure, its length the ratio; a dashed line marks 1.0 (parity with
the baseline), a dark tick each figure's goal. Bars on our side of 1.0 are
green, the others orange. When the ratios span more than ten times, the axis is
logarithmic and bars grow from 1.0 to either side. Plain SVG with text left as text; no timestamps, ids
or random parts, so re-rendering unchanged figures leaves the file unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from bench.results import Group

from .numbers import TIMES, ratio

__all__ = ["Scale", "bar_chart", "nice_ticks", "scale_for"]

WIDTH = 720
ROW = 26
BAR = 16
TOP = 58
BOTTOM = 42
LEFT_PAD = 12
RIGHT_PAD = 72
CHAR = 6.8  # average width of a 12 px sans-serif character
FAVOURS = "#3f8f52"
AGAINST = "#d9822b"
INK = "#222222"
MUTED = "#666666"
GRID = "#dddddd"


def nice_ticks(top: float, most: int = 6) -> list[float]:
    """Round tick values from 0 to at least ``top``, no more than ``most`` + 1 of them."""
    if top <= 0:
        return [0.0, 1.0]
    for exponent in range(math.floor(math.log10(top / most)) - 1, 12):
        for mantissa in (1.0, 2.0, 2.5, 5.0):
            step = mantissa * 10.0**exponent
            count = math.ceil(top / step - 1e-9)
            if count <= most:
                return [round(i * step, 10) for i in range(count + 1)]
    raise AssertionError("unreachable: the steps grow without bound")


@dataclass(frozen=True)
class Scale:
    """Where a ratio lies along the axis, from 0.0 (left) to 1.0 (right)."""

    ticks: list[float]
    log: bool

    @property
    def origin(self) -> float:
        """The ratio bars grow from: 0 on a linear axis, 1.0 on a logarithmic one."""
        return 1.0 if self.log else 0.0

    def at(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        value = min(max(value, low), high)
        if self.log:
            return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return (value - low) / (high - low)


#: Ratios spanning more than this factor get a logarithmic axis.
LOG_SPAN = 10.0


def scale_for(values: list[float]) -> Scale:
    """The axis for ``values`` (ratios and goals; 1.0 is always on it)."""
    positive = [v for v in values if v > 0]
    low, high = min([1.0, *positive]), max([1.0, *positive])
    if high / low <= LOG_SPAN:
        return Scale(nice_ticks(high * 1.05), log=False)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high * 1.05))
    ticks = [10.0**e for e in range(first, last + 1)]
    if last - first <= 2:
        ticks = sorted({t * m for t in ticks[:-1] for m in (1.0, 2.0, 5.0)} | {ticks[-1]})
    return Scale([round(t, 10) for t in ticks], log=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f" {key.replace('_', '-')}={quoteattr(val)}" for key, val in attrs.items())
    return f'<text x="{_num(x)}" y="{_num(y)}"{extra}>{escape(text)}</text>'


def _tick_label(value: float) -> str:
    return f"{value:g}{TIMES}"


def bar_chart(group: Group) -> str:
    """The SVG document charting ``group``'s ratios."""
    figures = group.figures
    plot_left = min(320.0, max(CHAR * len(f.case) for f in figures) + 2 * LEFT_PAD)
    plot_width = WIDTH - plot_left - RIGHT_PAD
    scale = scale_for([*(f.ratio for f in figures), *(f.goal or 1.0 for f in figures)])
    height = TOP + ROW * len(figures) + BOTTOM
    plot_bottom = TOP + ROW * len(figures)

    def x_of(value: float) -> float:
        return plot_left + scale.at(value) * plot_width

    side = "below" if group.better == "lower" else "above"
    subtitle = f"ratio = {group.ratio_label}; {side} 1.0 favours {group.ours}"
    if scale.log:
        subtitle += " (log scale)"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img" font-family="sans-serif" font-size="12">',
        f"<title>{escape(group.title)}: {escape(subtitle)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(LEFT_PAD, 20, group.title, font_size="14", font_weight="bold", fill=INK),
        _text(LEFT_PAD, 38, subtitle, fill=MUTED),
    ]
    for tick in scale.ticks:
        x = _num(x_of(tick))
        out.append(f'<line x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{plot_bottom}" stroke="{GRID}"/>')
        out.append(
            _text(x_of(tick), plot_bottom + 16, _tick_label(tick), fill=MUTED, text_anchor="middle")
        )
    one = _num(x_of(1.0))
    out.append(
        f'<line x1="{one}" y1="{TOP - 8}" x2="{one}" y2="{plot_bottom}" stroke="{INK}"'
        ' stroke-dasharray="4 3"/>'
    )
    for row, figure in enumerate(figures):
        y = TOP + row * ROW + (ROW - BAR) / 2
        middle = y + BAR / 2 + 4
        colour = FAVOURS if group.favours_ours(figure) else AGAINST
        left, right = sorted((x_of(scale.origin), x_of(figure.ratio)))
        right = max(right, left + 1.0)
        out.append(_text(plot_left - 8, middle, figure.case, fill=INK, text_anchor="end"))
        out.append(
            f'<rect x="{_num(left)}" y="{_num(y)}" width="{_num(right - left)}"'
            f' height="{BAR}" fill="{colour}"/>'
        )
        label_x = right + 4
        if figure.goal is not None:
            gx = x_of(figure.goal)
            out.append(
                f'<line x1="{_num(gx)}" y1="{_num(y - 3)}" x2="{_num(gx)}"'
                f' y2="{_num(y + BAR + 3)}" stroke="{INK}" stroke-width="2"/>'
            )
            if label_x - 4 <= gx <= label_x + 6 * CHAR:  # keep the label clear of it
                label_x = gx + 5
        out.append(
            _text(
                label_x,
                middle,
                ratio(figure.ratio),
                fill=INK,
                stroke="#ffffff",
                stroke_width="3",
                paint_order="stroke",
            )
        )
    legend = "dashed line: 1.0 (same as the baseline)"
    if any(f.goal is not None for f in figures):
        legend += "; dark tick: goal"
    out.append(_text(LEFT_PAD, height - 6, legend, fill=MUTED, font_size="11"))
    out.append("</svg>")
    return "\n".join(out) + "\n"
