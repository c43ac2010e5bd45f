"""A process using ``store.lock``, driven by the lock tests over stdin and stdout.

``python -m tests.adapters.locks.worker URL NAME MODE [options]``; it prints
``ready`` once its store is open, then:

* ``contend``: waits for ``go`` on stdin, then ``--rounds`` times takes the
  lock and, inside, appends ``enter TAG`` to ``--log``, increments the number
  in ``--log.counter`` with a read, a few event-loop turns and a write (an
  unprotected read-modify-write: overlapping holders would lose increments),
  and appends ``exit TAG``. Prints ``done``.
* ``hold``: takes the lock (``--timeout``; prints ``timeout`` when it expires),
  appends ``TAG`` to ``--log`` and prints ``acquired``; then, unless
  ``--at-once``, waits for a line on stdin. Prints ``released`` after a clean
  exit or ``lost: REASON`` when the block ended with ``LockLost``.

``interrupted`` is printed after a SIGINT (Ctrl-C) ended the run. Every
expected outcome exits 0; anything else is a traceback and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import adapters


def _say(text: str) -> None:
    print(text, flush=True)


def _append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _count(path: Path) -> int:
    return int(path.read_text()) if path.exists() else 0


def _store_count(path: Path, count: int) -> None:
    path.write_text(str(count))


async def _stdin() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def _contend(store: adapters.Store, args: argparse.Namespace) -> None:
    counter = Path(args.log + ".counter")
    for _ in range(args.rounds):
        async with store.lock(args.name, ttl=args.ttl):
            _append(args.log, f"enter {args.tag}")
            count = _count(counter)
            for _ in range(3):
                await asyncio.sleep(0)  # let other tasks (the renewal) run mid-update
            _store_count(counter, count + 1)
            _append(args.log, f"exit {args.tag}")
    _say("done")


async def _hold(
    store: adapters.Store, args: argparse.Namespace, stdin: asyncio.StreamReader
) -> None:
    try:
        async with store.lock(args.name, ttl=args.ttl, timeout=args.timeout):
            _append(args.log, args.tag)
            _say("acquired")
            if not args.at_once:
                await stdin.readline()
    except adapters.LockTimeout:
        _say("timeout")
        return
    except adapters.LockLost as exc:
        _say(f"lost: {exc.reason}")
        return
    _say("released")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("name")
    parser.add_argument("mode", choices=["contend", "hold"])
    parser.add_argument("--ttl", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--log", required=True)
    parser.add_argument("--tag", default=str(os.getpid()))
    parser.add_argument("--at-once", action="store_true")
    args = parser.parse_args()
    stdin = await _stdin()
    async with adapters.connect(args.url) as store:
        _say("ready")
        if args.mode == "contend":
            await stdin.readline()  # "go"
            await _contend(store, args)
        else:
            await _hold(store, args, stdin)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # Ctrl-C: asyncio.run cancelled main() first
        _say("interrupted")
