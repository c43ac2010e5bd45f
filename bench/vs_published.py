"""Benchmark: our client against the published ``noex-client`` 0.1.1, same server.

Run: ``.venv/bin/python -m bench.vs_published [--n 2000] [--rounds 5]``.

The published client is installed from PyPI into its own virtualenv
(``~/.cache/noex-client/published-client-venv-0.1.1``, created on first use;
``NOEX_PUBLISHED_VENV`` overrides the path). Our code never imports it: each
client runs ``bench/published_driver.py`` as a separate process with its own
virtualenv's Python, against one LocalServer process started here, and the
driver prints its timings as JSON. Contestants: the published client, ours
with ``transport="websockets"`` and ours with ``transport="picows"`` (when the
fast extra is installed). Rounds alternate the contestants in a rotating
order; each keeps its best wall and CPU time per scenario (push latency: the
best median and 99th percentile), and the ratios are published / ours
(above 1: ours is faster or cheaper).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.results import Recorder, add_json_option
from bench.server_process import local_server_process

__all__ = ["main", "published_python"]

VERSION = "0.1.1"
DRIVER = Path(__file__).with_name("published_driver.py")


def published_python() -> Path:
    """The Python of the published client's virtualenv, created if missing.

    Raises:
        SystemExit: The virtualenv could not be created or the install failed.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = Path(
        os.environ.get("NOEX_PUBLISHED_VENV")
        or cache / "noex-client" / f"published-client-venv-{VERSION}"
    )
    python = venv / "bin" / "python"
    check = [
        str(python),
        "-c",
        f"import importlib.metadata as m; assert m.version('noex-client') == '{VERSION}'",
    ]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing noex-client=={VERSION} into {venv}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    install = [str(python), "-m", "pip", "install", "-q", f"noex-client=={VERSION}"]
    done = subprocess.run(install, capture_output=True, text=True, check=False)
    if subprocess.run(check, capture_output=True).returncode != 0:
        sys.exit(f"noex-client=={VERSION} did not install into {venv}:\n{done.stderr}")
    return python


def run_driver(python: Path, url: str, n: int, transport: str | None) -> dict[str, Any]:
    command = [str(python), str(DRIVER), url, str(n)] + ([transport] if transport else [])
    # Outside the repository, so that the published venv cannot find our package.
    done = subprocess.run(command, capture_output=True, text=True, cwd=DRIVER.parent, check=False)
    if done.returncode != 0:
        sys.exit(f"driver failed ({' '.join(command[1:])}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def best(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for scenario in runs[0]:
        out[scenario] = {
            metric: min(run[scenario][metric] for run in runs) for metric in runs[0][scenario]
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    add_json_option(parser)
    args = parser.parse_args()
    recorder = Recorder(
        "vs_published",
        f"Our client vs the published noex-client {VERSION}",
        args.json,
        n=args.n,
        rounds=args.rounds,
    )
    try:
        published = published_python()
    except SystemExit as missing:
        recorder.unavailable(str(missing.code))
    ours = Path(sys.executable)
    contestants: dict[str, tuple[Path, str | None]] = {
        f"published {VERSION}": (published, None),
        "ours/websockets": (ours, "websockets"),
    }
    if importlib.util.find_spec("picows") is not None:
        contestants["ours/picows"] = (ours, "picows")
    names = list(contestants)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with local_server_process() as url:
        for round_no in range(args.rounds):
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                python, transport = contestants[name]
                runs[name].append(run_driver(python, url, args.n, transport))
    results = {name: best(runs[name]) for name in names}
    report(results, args.n, args.rounds)
    record(results, recorder)
    recorder.write()


ROWS = [
    ("sequential wall ms", "sequential", "wall", 1e3),
    ("sequential CPU ms", "sequential", "cpu", 1e3),
    ("concurrent wall ms", "concurrent", "wall", 1e3),
    ("concurrent CPU ms", "concurrent", "cpu", 1e3),
    ("push median us", "push", "median_us", 1),
    ("push p99 us", "push", "p99_us", 1),
    ("push CPU ms", "push", "cpu", 1e3),
]


def record(results: dict[str, dict[str, dict[str, float]]], recorder: Recorder) -> None:
    """Put the ratios that ``report`` prints into ``recorder``: one group per transport."""
    names = list(results)
    base = results[names[0]]
    for name in names[1:]:
        group = recorder.group(
            f"{names[0]} vs {name}", ours=name, baseline=names[0], better="higher"
        )
        for label, scenario, metric, scale in ROWS:
            case, unit = label.rsplit(" ", 1)
            group.add(
                case,
                results[name][scenario][metric] * scale,
                base[scenario][metric] * scale,
                unit,
            )
    n = int(recorder.result.params["n"])
    recorder.note(
        f"{n} requests per scenario (push: {n // 5} inserts), best of"
        f" {recorder.result.params['rounds']} rounds, one LocalServer process;"
        " each client runs in its own process with its own virtualenv."
    )


def report(results: dict[str, dict[str, dict[str, float]]], n: int, rounds: int) -> None:
    names = list(results)
    base = results[names[0]]
    print(f"n={n} (push: {n // 5} inserts), best of {rounds} rounds, one LocalServer process")
    print(f"{'scenario':<24}" + "".join(f"{name:>22}" for name in names))
    for label, scenario, metric, scale in ROWS:
        cells = ""
        for name in names:
            value = results[name][scenario][metric]
            ratio = "" if name == names[0] else f" ({base[scenario][metric] / value:.2f}x)"
            cells += f"{value * scale:>14.0f}{ratio:>8}"
        print(f"{label:<24}{cells}")
    print("(x) = published / ours: above 1 means ours takes less time or CPU")


if __name__ == "__main__":
    main()
