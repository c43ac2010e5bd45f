"""How figures are written on the page and in the charts."""

from __future__ import annotations

__all__ = ["TIMES", "measured", "ratio"]

TIMES = "\N{MULTIPLICATION SIGN}"


def ratio(value: float) -> str:
    """Two decimals (fewer from 10 up) and a multiplication sign, e.g. 1.27 times."""
    digits = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{digits}f}{TIMES}"


def measured(value: float, unit: str) -> str:
    """A measured value with about three significant digits: ``1,234 ms``, ``0.442 us``."""
    if value >= 100:
        text = f"{value:,.0f}"
    elif value >= 10:
        text = f"{value:.1f}"
    elif value >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}"
