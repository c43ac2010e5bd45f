"""Figures for the report tests, built as the scripts build them."""

from __future__ import annotations

from bench.report.machine import Machine
from bench.report.page import Report
from bench.results import Recorder, Result


def ok_result() -> Result:
    """Two groups: times against a floor (lower is better) and a speed-up."""
    recorder = Recorder("client_roundtrip", "NoexClient vs a raw loop", None, n=100)
    floor = recorder.group("Round trips", ours="client", baseline="raw", better="lower")
    floor.add("sequential insert", 21.0, 20.0, "ms", goal=1.05)
    floor.add("concurrent get", 13.0, 10.0, "ms", goal=1.2)
    floor.add("get | piped", 9.0, 10.0, "ms")
    speed = recorder.group("Speed-up", ours="ours", baseline="theirs", better="higher")
    speed.add("<insert> & co", 0.5, 4.0, "s", goal=5.0, note="errors 0/0")
    recorder.note("100 requests per case.")
    recorder.result.seconds = 12.3
    return recorder.result


def report(*results: Result, quick: bool = False) -> Report:
    """A report of ``results`` on a fixed machine and date."""
    return Report(
        date="2026-12-05 20:31 UTC",
        quick=quick,
        machine=Machine(
            cpu="Example CPU @ 2.0GHz",
            cores=2,
            memory_gib=23.6,
            os="Debian GNU/Linux 12 (bookworm), Linux 6.1 x86_64",
            python="CPython 3.11.7",
            load_start=1.5,
            load_end=2.25,
        ),
        results=list(results),
        commands={r.scenario: f"python -m bench.{r.scenario} --n 100" for r in results},
        not_selected=["beaver_client"],
        seconds=421.0,
    )


def failed_result() -> Result:
    return Result(
        scenario="nats_insert",
        title="Durable inserts",
        status="failed",
        reason="RuntimeError: brainlessdb peer failed to start",
        seconds=3.0,
    )


def skipped_result() -> Result:
    return Result(
        scenario="adapters_postgres",
        title="PostgreSQL adapter vs raw psycopg",
        status="skipped",
        reason="PostgreSQL not reachable at 127.0.0.1:5432 (Connection refused)",
    )
