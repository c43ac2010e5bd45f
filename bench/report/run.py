"""Running one scenario script as a subprocess and reading what it recorded."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from bench.results import Result, decode_result

from .scenarios import Scenario

__all__ = ["ROOT", "command", "run_scenario", "why_it_stopped"]

#: The repository root: scripts run from here as ``python -m bench.<name>``.
ROOT = Path(__file__).resolve().parents[2]

_REASON_CHARS = 300


def command(scenario: Scenario, quick: bool, json_path: Path | None = None) -> list[str]:
    """The command line that runs ``scenario`` with this Python."""
    argv = [sys.executable, "-m", f"bench.{scenario.name}", *scenario.arguments(quick)]
    return argv if json_path is None else [*argv, "--json", str(json_path)]


def why_it_stopped(stderr: str, returncode: int) -> str:
    """A one-line reason from a failed script's error output (its last line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return f"exited with status {returncode} and no error output"
    reason = lines[-1]
    if len(reason) > _REASON_CHARS:
        reason = reason[: _REASON_CHARS - 1] + "…"
    return reason


def run_scenario(scenario: Scenario, quick: bool, timeout: float) -> tuple[Result, str]:
    """Run one script; return what it recorded and what it printed.

    A script that is missing what it needs, crashes, times out or records
    nothing gives a ``skipped`` or ``failed`` result with the reason; nothing
    here raises for it.
    """
    name = scenario.name
    for need in scenario.needs:
        missing = need()
        if missing is not None:
            return Result(scenario=name, status="skipped", reason=missing), ""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        json_path = Path(tmp) / f"{name}.json"
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command(scenario, quick, json_path),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            printed = expired.stdout if isinstance(expired.stdout, str) else ""
            reason = f"timed out after {timeout:.0f} s"
            return Result(scenario=name, status="failed", reason=reason), printed
        seconds = round(time.perf_counter() - started, 1)
        result: Result | None = None
        if json_path.exists():
            try:
                result = decode_result(json_path.read_bytes())
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                reason = f"wrote unreadable results: {exc}"
                result = Result(scenario=name, status="failed", reason=reason)
    if result is None or (done.returncode != 0 and result.status == "ok"):
        reason = (
            why_it_stopped(done.stderr, done.returncode)
            if done.returncode != 0
            else "exited without recording results"
        )
        result = Result(scenario=name, status="failed", reason=reason)
    result.scenario = name
    result.seconds = seconds
    return result, done.stdout
