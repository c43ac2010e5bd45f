"""Running scenarios: failures and skips become results with a reason; one real quick run."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.report.__main__ import main
from bench.report.page import ASSETS, PAGE
from bench.report.run import ROOT, run_scenario, why_it_stopped
from bench.report.scenarios import Scenario, reachable


def test_the_reason_is_the_last_line_of_the_error_output() -> None:
    stderr = "Traceback (most recent call last):\n  ...\nRuntimeError: peer exited\n\n"
    assert why_it_stopped(stderr, 1) == "RuntimeError: peer exited"
    assert why_it_stopped("", 3) == "exited with status 3 and no error output"
    assert len(why_it_stopped("x" * 1000, 1)) == 300


def test_a_missing_service_skips_the_scenario_without_running_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # closed again: nothing listens on that port now
    need = reachable("PostgreSQL", f"postgresql://127.0.0.1:{port}", 5432)
    scenario = Scenario("no_such_script", "nothing", needs=(need,))
    result, printed = run_scenario(scenario, quick=True, timeout=30)
    assert result.status == "skipped"
    assert result.reason.startswith(f"PostgreSQL not reachable at 127.0.0.1:{port}")
    assert printed == ""


def test_a_crashing_script_is_a_failure_with_its_error() -> None:
    result, _ = run_scenario(Scenario("no_such_script", "nothing"), quick=True, timeout=60)
    assert result.status == "failed"
    assert result.reason == f"{sys.executable}: No module named bench.no_such_script"
    assert result.seconds is not None


def test_unknown_scenario_names_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--quick", "client_roundtrip", "nats_nope"])
    assert stopped.value.code == 2
    assert "unknown scenario nats_nope; known: client_roundtrip, transports" in (
        capsys.readouterr().err
    )


ONE = ["client_roundtrip"]  # the embedded LocalServer only: no other service needed


def test_quick_report_of_one_scenario_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.report", "--quick", "--docs", str(tmp_path), *ONE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "-> ok" in done.stdout
    page = (tmp_path / PAGE).read_text(encoding="utf-8")
    assert "## client_roundtrip" in page
    assert "| mode | quick:" in page
    assert "| vs_published | | not run this time |" in page
    assert re.search(r"\| sequential insert \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+", page)
    charts = sorted((tmp_path / ASSETS).glob("*.svg"))
    assert [c.name for c in charts] == ["client_roundtrip-1.svg"]
    assert f"]({ASSETS}/client_roundtrip-1.svg)" in page
    bars = ET.parse(charts[0]).getroot().iter("{http://www.w3.org/2000/svg}rect")
    assert len([b for b in bars if b.get("fill") != "#ffffff"]) == 6


def test_an_unreadable_saved_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "results.json"
    saved.write_text('{"date": "today"}')
    with pytest.raises(SystemExit) as stopped:
        main(["--from-json", str(saved), "--docs", str(tmp_path)])
    assert stopped.value.code == 2
    assert f"cannot read the saved run {saved}: Object missing required field" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / PAGE).exists()
