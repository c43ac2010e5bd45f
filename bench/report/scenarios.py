"""The scenario scripts the report runs, their arguments and what they need."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["SCENARIOS", "Scenario", "installed", "reachable", "scenario_names"]

#: Returns why a scenario cannot run here, or ``None`` when it can.
Need = Callable[[], str | None]


def reachable(name: str, url: str, default_port: int) -> Need:
    """A need: a TCP service at ``url`` accepts connections."""

    def check() -> str | None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or default_port
        try:
            with socket.create_connection((host, port), timeout=2):
                return None
        except OSError as exc:
            return f"{name} not reachable at {host}:{port} ({exc.strerror or exc})"

    return check


def installed(name: str, path: str) -> Need:
    """A need: the program ``path`` is installed."""

    def check() -> str | None:
        return None if os.access(path, os.X_OK) else f"{name} not installed ({path})"

    return check


POSTGRES = reachable("PostgreSQL", "postgresql://127.0.0.1:5432", 5432)
NATS = reachable("NATS", os.environ.get("NOEX_NATS_URL", "nats://127.0.0.1:4222"), 4222)
NATS_SERVER = installed("nats-server", "/usr/sbin/nats-server")


@dataclass(frozen=True)
class Scenario:
    """One script in ``bench/``: ``python -m bench.<name> <args> --json PATH``."""

    name: str
    compares: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    needs: tuple[Need, ...] = ()

    def arguments(self, quick: bool) -> tuple[str, ...]:
        """The script's arguments in the given mode (without ``--json``)."""
        return self.quick if quick else self.full


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "client_roundtrip",
        "NoexClient (websockets transport) vs a raw websockets loop sending the same frames",
        quick=("--n", "200", "--rounds", "1"),
    ),
    Scenario(
        "transports",
        "client CPU and wall time per request: the picows transport vs websockets",
        quick=("--n", "200", "--rounds", "1"),
    ),
    Scenario(
        "vs_published",
        "our client vs the published noex-client 0.1.1 on the same server",
        quick=("--n", "100", "--rounds", "1"),
    ),
    Scenario(
        "adapters_postgres",
        "the PostgreSQL adapter vs the same statements through raw psycopg",
        quick=("--quick",),
        needs=(POSTGRES,),
    ),
    Scenario(
        "nats_insert",
        "durable inserts: the NATS backend vs brainlessdb 0.17.3",
        quick=("500",),
        needs=(NATS,),
    ),
    Scenario(
        "nats_cold_load",
        "cold load of records with five revisions: the NATS backend vs brainlessdb",
        quick=("500",),
        needs=(NATS,),
    ),
    Scenario(
        "nats_find",
        "indexed lookups on the in-memory mirror vs brainlessdb's find",
        quick=("1000",),
        needs=(NATS,),
    ),
    Scenario(
        "nats_latency",
        "propagation latency between two processes vs brainlessdb",
        quick=("20",),
        needs=(NATS,),
    ),
    Scenario(
        "nats_cluster",
        "inserts on a three-server cluster (replicas 1 and 3) vs a single server; the stall of a leader kill",
        quick=("500",),
        needs=(NATS_SERVER,),
    ),
    Scenario(
        "beaver_client",
        "our BeaverDB clients vs beaver's own client on the same server",
        quick=("--ops", "100", "--rounds", "1"),
    ),
)


def scenario_names() -> list[str]:
    """Every scenario's name, in report order."""
    return [scenario.name for scenario in SCENARIOS]
