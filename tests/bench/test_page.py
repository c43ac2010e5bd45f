"""The benchmarks page rendered from given results: no benchmark runs here."""

from __future__ import annotations

import re
from pathlib import Path

from bench.report.numbers import TIMES as T
from bench.report.page import (
    ASSETS,
    PAGE,
    decode_report,
    render_page,
    write_report,
)

from .sample import failed_result, ok_result, report, skipped_result


def section(page: str, heading: str) -> str:
    return page.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_machine_date_and_load_lines() -> None:
    page = render_page(report(ok_result()))
    run = section(page, "## The run")
    assert "| date | 2026-12-05 20:31 UTC (start of the run, took 7 min) |" in run
    assert "| CPU | Example CPU @ 2.0GHz, 2 cores, 23.6 GiB memory |" in run
    assert "| OS | Debian GNU/Linux 12 (bookworm), Linux 6.1 x86_64 |" in run
    assert "| Python | CPython 3.11.7 |" in run
    assert "load average 1.5 at the start, 2.25 at the end" in run
    assert "on 2 cores. A shared machine with other work running" in run
    assert "| mode | full:" in run
    assert "| mode | quick:" in render_page(report(ok_result(), quick=True))


def test_tables_hold_both_values_the_ratio_and_the_goal() -> None:
    page = render_page(report(ok_result()))
    scenario = section(page, "## client_roundtrip")
    assert "Run: `python -m bench.client_roundtrip --n 100` (12 s)" in scenario
    assert "Ratio = client / raw: below 1.0 favours client." in scenario
    assert "| case | client | raw | ratio | goal |" in scenario
    assert f"| sequential insert | 21.0 ms | 20.0 ms | 1.05{T} | ≤ 1.05{T}: met |" in scenario
    assert f"| concurrent get | 13.0 ms | 10.0 ms | 1.30{T} | ≤ 1.2{T}: not met |" in scenario
    assert f"| get \\| piped | 9.00 ms | 10.0 ms | 0.90{T} |  |" in scenario
    assert f"| <insert> & co (errors 0/0) | 0.500 s | 4.00 s | 8.00{T} | ≥ 5{T}: met |" in scenario
    assert "100 requests per case." in scenario


def test_each_group_links_its_chart_relatively() -> None:
    page = render_page(report(ok_result()))
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert links == [f"{ASSETS}/client_roundtrip-1.svg", f"{ASSETS}/client_roundtrip-2.svg"]


def test_failed_and_skipped_scenarios_show_their_reason() -> None:
    page = render_page(report(ok_result(), failed_result(), skipped_result()))
    summary = section(page, "## Summary")
    assert (
        "| [nats_insert](#nats_insert) | Durable inserts |"
        " **failed**: RuntimeError: brainlessdb peer failed to start |"
    ) in summary
    assert "**skipped**: PostgreSQL not reachable at 127.0.0.1:5432" in summary
    assert "ok: 2 of 4 ratios on our side of 1.0; 2 of 3 goals met" in summary
    assert "| beaver_client | | not run this time |" in summary
    failed = section(page, "## nats_insert")
    assert "**Failed**: RuntimeError: brainlessdb peer failed to start" in failed
    assert "![" not in failed
    assert "**Skipped**: PostgreSQL not reachable" in section(page, "## adapters_postgres")


def test_write_report_puts_page_charts_and_figures_under_docs(tmp_path: Path) -> None:
    stale = tmp_path / ASSETS / "gone-1.svg"
    stale.parent.mkdir(parents=True)
    stale.write_text("<svg/>")
    first = report(ok_result(), failed_result())
    written = write_report(first, tmp_path)
    assert written.page == tmp_path / PAGE
    assert sorted(p.name for p in written.charts) == [
        "client_roundtrip-1.svg",
        "client_roundtrip-2.svg",
    ]
    assert written.removed == [stale]
    assert not stale.exists()
    for link in re.findall(r"\]\((assets/[^)]+)\)", written.page.read_text()):
        assert (tmp_path / link).is_file()
    saved = decode_report((tmp_path / ASSETS / "results.json").read_bytes())
    assert saved == first
    before = {p: p.read_bytes() for p in (tmp_path / ASSETS).iterdir()}
    write_report(saved, tmp_path)  # redrawn from the saved figures: not one byte moves
    assert {p: p.read_bytes() for p in (tmp_path / ASSETS).iterdir()} == before
