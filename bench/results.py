"""Machine-readable benchmark figures, written next to each script's printed table.

Every scenario script takes ``--json PATH``; with it, the script also writes what
it measured as one :class:`Result` (``python -m bench.report`` reads these).
Figures are grouped; each group compares our side with one baseline, and each
figure holds both measured values and their ratio, whose direction the group
states (``better="lower"``: ratio = ours / baseline, below 1 favours us;
``better="higher"``: ratio = baseline / ours, above 1 favours us).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Literal, NoReturn

import msgspec

__all__ = [
    "Figure",
    "Group",
    "Recorder",
    "Result",
    "add_json_option",
    "decode_result",
]

Better = Literal["lower", "higher"]
Status = Literal["ok", "skipped", "failed"]


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """One measured case: our value, the baseline's, and the ratio of the two."""

    case: str
    ours: float
    baseline: float
    unit: str
    ratio: float
    goal: float | None = None
    note: str = ""


class Group(msgspec.Struct, kw_only=True):
    """Figures compared against one baseline with one ratio direction."""

    title: str
    ours: str
    baseline: str
    better: Better
    figures: list[Figure] = msgspec.field(default_factory=list)

    @property
    def ratio_label(self) -> str:
        """How the ratio is formed, e.g. ``ours / raw psycopg``."""
        if self.better == "lower":
            return f"{self.ours} / {self.baseline}"
        return f"{self.baseline} / {self.ours}"

    def add(
        self,
        case: str,
        ours: float,
        baseline: float,
        unit: str,
        *,
        goal: float | None = None,
        note: str = "",
    ) -> Figure:
        """Record one case; the ratio follows the group's direction."""
        ratio = ours / baseline if self.better == "lower" else baseline / ours
        figure = Figure(
            case=case, ours=ours, baseline=baseline, unit=unit, ratio=ratio, goal=goal, note=note
        )
        self.figures.append(figure)
        return figure

    def goal_met(self, figure: Figure) -> bool | None:
        """Whether ``figure`` meets its goal (``None`` when it has none)."""
        if figure.goal is None:
            return None
        if self.better == "lower":
            return figure.ratio <= figure.goal
        return figure.ratio >= figure.goal

    def favours_ours(self, figure: Figure) -> bool:
        """Whether ``figure``'s ratio is on our side of 1.0 (or at it)."""
        return figure.ratio <= 1.0 if self.better == "lower" else figure.ratio >= 1.0


class Result(msgspec.Struct, kw_only=True):
    """What one run of one scenario script measured."""

    scenario: str
    title: str = ""
    status: Status = "ok"
    reason: str = ""
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    groups: list[Group] = msgspec.field(default_factory=list)
    notes: list[str] = msgspec.field(default_factory=list)
    seconds: float | None = None


def decode_result(data: bytes) -> Result:
    """Parse a result file.

    Raises:
        msgspec.ValidationError: ``data`` is not a well-formed result.
        msgspec.DecodeError: ``data`` is not JSON.
    """
    return msgspec.json.decode(data, type=Result)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--json PATH`` to a scenario script's arguments."""
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the figures as JSON to PATH (read by python -m bench.report)",
    )


class Recorder:
    """Collects a script's figures; writes them to ``path`` when one was given."""

    def __init__(self, scenario: str, title: str, path: Path | None, **params: Any) -> None:
        self.path = path
        self.result = Result(scenario=scenario, title=title, params=params)

    def group(self, title: str, *, ours: str, baseline: str, better: Better) -> Group:
        """Start a group of figures (see :class:`Group`)."""
        group = Group(title=title, ours=ours, baseline=baseline, better=better)
        self.result.groups.append(group)
        return group

    def note(self, text: str) -> None:
        """Add a sentence shown under the scenario's figures."""
        self.result.notes.append(text)

    def write(self) -> None:
        """Write the result file (nothing without a path)."""
        if self.path is not None:
            self.path.write_bytes(msgspec.json.format(msgspec.json.encode(self.result)) + b"\n")

    def unavailable(self, reason: str) -> NoReturn:
        """Stop the script: what it needs is missing. Recorded as skipped."""
        self.result.status = "skipped"
        self.result.reason = reason
        self.write()
        sys.exit(reason)
