"""Worker processes for the lock tests (see ``worker.py``), and polling with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

__all__ = ["Spawn", "Worker", "eventually", "workers"]

ROOT = Path(__file__).resolve().parents[3]
DEADLINE = 60.0


async def eventually(check: Callable[[], Awaitable[bool]], within: float = DEADLINE) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)  # polling interval, not a wait for the outcome


class Worker:
    """One worker process: lines out on stdout, commands in on stdin."""

    def __init__(self, proc: asyncio.subprocess.Process, tag: str) -> None:
        self.proc = proc
        self.tag = tag

    async def line(self, within: float = DEADLINE) -> str:
        """The next line the worker printed.

        Raises:
            AssertionError: the worker ended instead (its stderr is in the message).
        """
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), within)
        if not raw:
            assert self.proc.stderr is not None
            err = (await self.proc.stderr.read()).decode()
            raise AssertionError(f"worker {self.tag} ended without output; stderr:\n{err}")
        return raw.decode().rstrip("\n")

    async def expect(self, text: str, within: float = DEADLINE) -> str:
        """Wait for the next line and check that it starts with ``text``."""
        got = await self.line(within)
        assert got.startswith(text), f"worker {self.tag}: expected {text!r}, got {got!r}"
        return got

    async def send(self, text: str) -> None:
        """Write one line to the worker's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")
        await self.proc.stdin.drain()

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the worker (by its PID)."""
        os.kill(self.proc.pid, sig)

    async def finish(self, within: float = DEADLINE) -> str:
        """Wait for a clean exit; return what it wrote on stderr."""
        assert self.proc.stderr is not None
        err = await asyncio.wait_for(self.proc.stderr.read(), within)
        code = await asyncio.wait_for(self.proc.wait(), within)
        text = err.decode()
        assert code == 0, f"worker {self.tag} exited with {code}; stderr:\n{text}"
        assert "Traceback" not in text, text
        return text


Spawn = Callable[..., Awaitable[Worker]]


@contextlib.asynccontextmanager
async def workers() -> AsyncIterator[Spawn]:
    """Yield ``spawn(url, name, mode, *options, tag=...)``; kills leftover workers by PID."""
    started: list[Worker] = []

    async def spawn(url: str, name: str, mode: str, *options: str, tag: str) -> Worker:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.adapters.locks.worker",
            url,
            name,
            mode,
            "--tag",
            tag,
            *options,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        worker = Worker(proc, tag)
        started.append(worker)
        return worker

    try:
        yield spawn
    finally:
        for worker in started:
            if worker.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.proc.pid, signal.SIGCONT)  # a stopped worker cannot die
                    os.kill(worker.proc.pid, signal.SIGKILL)
                await worker.proc.wait()
