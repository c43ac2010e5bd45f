"""What the benchmarks ran on: CPU, cores, memory, OS, Python, and how busy it was."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import msgspec

__all__ = ["Machine", "describe_machine", "load_average"]


class Machine(msgspec.Struct, kw_only=True):
    """The machine of one report run."""

    cpu: str
    cores: int
    memory_gib: float | None
    os: str
    python: str
    load_start: float | None = None
    """One-minute load average when the run started."""
    load_end: float | None = None
    """One-minute load average when the run ended."""


def _field(path: Path, key: str, sep: str) -> str | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        name, found, value = line.partition(sep)
        if found and name.strip() == key:
            return value.strip().strip('"')
    return None


def load_average() -> float | None:
    """The one-minute load average, where the OS has one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def describe_machine() -> Machine:
    """Describe this machine (the load at the start is taken now)."""
    cpu = _field(Path("/proc/cpuinfo"), "model name", ":") or platform.processor()
    memory = _field(Path("/proc/meminfo"), "MemTotal", ":")
    memory_gib = round(int(memory.split()[0]) / 2**20, 1) if memory else None
    distro = _field(Path("/etc/os-release"), "PRETTY_NAME", "=")
    kernel = f"{platform.system()} {platform.release()} {platform.machine()}"
    return Machine(
        cpu=cpu or platform.machine() or "unknown",
        cores=os.cpu_count() or 1,
        memory_gib=memory_gib,
        os=f"{distro}, {kernel}" if distro else kernel,
        python=f"{platform.python_implementation()} {platform.python_version()}",
        load_start=load_average(),
    )
