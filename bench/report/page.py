"""The benchmarks page: Markdown for MkDocs, one chart per group of figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from bench.results import Figure, Group, Result

from .chart import bar_chart
from .machine import Machine
from .numbers import TIMES, measured, ratio

__all__ = [
    "ASSETS",
    "PAGE",
    "Report",
    "chart_name",
    "decode_report",
    "render_charts",
    "render_page",
    "write_report",
]

PAGE = "benchmarks.md"
#: Charts and the run's raw figures, relative to the docs directory.
ASSETS = "assets/benchmarks"
RESULTS = "results.json"


class Report(msgspec.Struct, kw_only=True):
    """One run of the report: when, where, in which mode, and each scenario's result."""

    date: str
    """When the run started, UTC, e.g. ``2026-12-05 20:31 UTC``."""
    quick: bool
    machine: Machine
    results: list[Result]
    commands: dict[str, str] = msgspec.field(default_factory=dict)
    """Each scenario's command line, without the interpreter's path."""
    not_selected: list[str] = msgspec.field(default_factory=list)
    seconds: float | None = None
    """How long the whole run took."""


def decode_report(data: bytes) -> Report:
    """Parse a saved report (``assets/benchmarks/results.json``).

    Raises:
        msgspec.ValidationError: ``data`` is not a well-formed report.
        msgspec.DecodeError: ``data`` is not JSON.
    """
    return msgspec.json.decode(data, type=Report)


def chart_name(scenario: str, index: int) -> str:
    """The file name of a scenario's ``index``-th chart (from 0)."""
    return f"{scenario}-{index + 1}.svg"


def render_charts(report: Report) -> dict[str, str]:
    """Every chart of the report: file name to SVG text."""
    return {
        chart_name(result.scenario, index): bar_chart(group)
        for result in report.results
        if result.status == "ok"
        for index, group in enumerate(result.groups)
        if group.figures
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _goal(group: Group, figure: Figure) -> str:
    met = group.goal_met(figure)
    if met is None or figure.goal is None:
        return ""
    sign = "≤" if group.better == "lower" else "≥"
    return f"{sign} {figure.goal:g}{TIMES}: {'met' if met else 'not met'}"


def _status(result: Result) -> str:
    if result.status != "ok":
        return f"**{result.status}**: {_cell(result.reason)}"
    figures = [(g, f) for g in result.groups for f in g.figures]
    goals = [met for g, f in figures if (met := g.goal_met(f)) is not None]
    favour = sum(g.favours_ours(f) for g, f in figures)
    text = f"ok: {favour} of {len(figures)} ratios on our side of 1.0"
    if goals:
        text += f"; {sum(goals)} of {len(goals)} goals met"
    return text


def _machine_rows(report: Report) -> list[str]:
    m = report.machine
    mode = (
        "quick: short runs to check the scripts and this page; the ratios are rough"
        if report.quick
        else "full: each script with its default sizes and rounds"
    )
    memory = f", {m.memory_gib:g} GiB memory" if m.memory_gib is not None else ""
    start = "unknown" if m.load_start is None else f"{m.load_start:g}"
    end = "unknown" if m.load_end is None else f"{m.load_end:g}"
    load = (
        f"one-minute load average {start} at the start, {end} at the end (the benchmarks'"
        f" own processes count in it), on {m.cores} cores. A shared machine with other work"
        " running: both sides of a comparison alternate in the same run, but ratios still"
        " move between runs"
    )
    took = "" if report.seconds is None else f", took {report.seconds / 60:.0f} min"
    return [
        "| | |",
        "|---|---|",
        f"| date | {report.date} (start of the run{took}) |",
        f"| mode | {mode} |",
        f"| CPU | {_cell(m.cpu)}, {m.cores} cores{memory} |",
        f"| OS | {_cell(m.os)} |",
        f"| Python | {_cell(m.python)} |",
        f"| load | {load} |",
    ]


def _scenario_section(report: Report, result: Result) -> list[str]:
    out = [f"## {result.scenario}", ""]
    if result.title:
        out += [f"{result.title}.", ""]
    command = report.commands.get(result.scenario)
    if command:
        took = "" if result.seconds is None else f" ({result.seconds:.0f} s)"
        out += [f"Run: `{command}`{took}", ""]
    if result.status != "ok":
        out += [f"**{result.status.capitalize()}**: {_cell(result.reason)}", ""]
        return out
    for index, group in enumerate(result.groups):
        if not group.figures:
            continue
        side = "below" if group.better == "lower" else "above"
        out += [
            f"### {group.title}",
            "",
            f"Ratio = {group.ratio_label}: {side} 1.0 favours {group.ours}.",
            "",
            f"![{group.title}: ratio = {group.ratio_label}]"
            f"({ASSETS}/{chart_name(result.scenario, index)})",
            "",
            f"| case | {_cell(group.ours)} | {_cell(group.baseline)} | ratio | goal |",
            "|---|---:|---:|---:|---|",
        ]
        for figure in group.figures:
            case = _cell(figure.case) + (f" ({_cell(figure.note)})" if figure.note else "")
            out.append(
                f"| {case} | {measured(figure.ours, figure.unit)}"
                f" | {measured(figure.baseline, figure.unit)}"
                f" | {ratio(figure.ratio)} | {_goal(group, figure)} |"
            )
        out.append("")
    out += [*result.notes, ""] if result.notes else []
    return out


def render_page(report: Report) -> str:
    """The Markdown of the benchmarks page."""
    out = [
        "# Benchmarks",
        "",
        "Each scenario measures our code and a baseline in the same run (the two sides"
        " alternate over several rounds) and compares them as a ratio, so load from other"
        " processes favours neither side. This page is written by `python -m bench.report`"
        " from its last run; the scripts are in `bench/`.",
        "",
        "## The run",
        "",
        *_machine_rows(report),
        "",
        "## Summary",
        "",
        "| scenario | compares | result |",
        "|---|---|---|",
    ]
    for result in report.results:
        anchor = result.scenario.lower()
        out.append(
            f"| [{result.scenario}](#{anchor}) | {_cell(result.title)} | {_status(result)} |"
        )
    for name in report.not_selected:
        out.append(f"| {name} | | not run this time |")
    out.append("")
    for result in report.results:
        out += _scenario_section(report, result)
    return "\n".join(out).rstrip("\n") + "\n"


@dataclass(frozen=True)
class Written:
    """What :func:`write_report` wrote and removed."""

    page: Path
    charts: list[Path]
    removed: list[Path]


def write_report(report: Report, docs: Path) -> Written:
    """Write the page, its charts and the run's figures under ``docs``.

    Charts left from an earlier run that this one does not draw are removed, so
    the directory holds the last run only.
    """
    assets = docs / ASSETS
    assets.mkdir(parents=True, exist_ok=True)
    charts = render_charts(report)
    written = []
    for name, svg in charts.items():
        path = assets / name
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    removed = [old for old in sorted(assets.glob("*.svg")) if old.name not in charts]
    for old in removed:
        old.unlink()
    encoded = msgspec.json.format(msgspec.json.encode(report)) + b"\n"
    (assets / RESULTS).write_bytes(encoded)
    page = docs / PAGE
    page.write_text(render_page(report), encoding="utf-8")
    return Written(page=page, charts=written, removed=removed)
