"""Run the benchmark scenarios and write ``docs/benchmarks.md`` with its charts.

Usage: ``python -m bench.report [--quick] [--skip NAME] [--docs DIR] [NAME ...]``.
Each scenario script runs as its own subprocess; one that fails or lacks what it
needs is shown on the page with the reason, and the others still run.
``--from-json`` redraws the page from a saved run without running anything.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from .machine import describe_machine, load_average
from .page import Report, decode_report, write_report
from .run import ROOT, command, run_scenario
from .scenarios import SCENARIOS, scenario_names

FULL_TIMEOUT = 1200.0
QUICK_TIMEOUT = 180.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.report", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "scenarios", nargs="*", metavar="NAME", help="run only these scenarios (default: all)"
    )
    parser.add_argument(
        "--skip", action="append", default=[], metavar="NAME", help="leave a scenario out"
    )
    parser.add_argument("--quick", action="store_true", help="short runs: rough ratios")
    parser.add_argument(
        "--docs",
        type=Path,
        default=ROOT / "docs",
        metavar="DIR",
        help="where benchmarks.md and assets/benchmarks/ go (default: docs/)",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per scenario before it is stopped"
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        metavar="PATH",
        help="redraw the page from a saved run (assets/benchmarks/results.json)",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        for scenario in SCENARIOS:
            print(f"{scenario.name:<18} {scenario.compares}")
        return 0
    if args.from_json is not None:
        try:
            report = decode_report(args.from_json.read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            parser.error(f"cannot read the saved run {args.from_json}: {exc}")
        written = write_report(report, args.docs)
        print(f"wrote {written.page} and {len(written.charts)} charts")
        return 0
    known = scenario_names()
    unknown = [name for name in [*args.scenarios, *args.skip] if name not in known]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [
        s
        for s in SCENARIOS
        if (not args.scenarios or s.name in args.scenarios) and s.name not in args.skip
    ]
    timeout = args.timeout or (QUICK_TIMEOUT if args.quick else FULL_TIMEOUT)
    started = time.perf_counter()
    machine = describe_machine()
    report = Report(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        quick=args.quick,
        machine=machine,
        results=[],
        not_selected=[s.name for s in SCENARIOS if s not in chosen],
    )
    for scenario in chosen:
        shown = shlex.join(["python", *command(scenario, args.quick)[1:]])
        report.commands[scenario.name] = shown
        print(f"== {shown}", flush=True)
        result, printed = run_scenario(scenario, args.quick, timeout)
        if not result.title:
            result.title = scenario.compares
        sys.stdout.write(printed)
        took = "" if result.seconds is None else f" in {result.seconds:.0f} s"
        reason = f": {result.reason}" if result.reason else ""
        print(f"-> {result.status}{took}{reason}", flush=True)
        report.results.append(result)
    machine.load_end = load_average()
    report.seconds = round(time.perf_counter() - started, 1)
    written = write_report(report, args.docs)
    print(f"wrote {written.page} and {len(written.charts)} charts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
