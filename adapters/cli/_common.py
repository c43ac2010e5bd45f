"""Shared CLI plumbing: exit codes, error reporting, JSON parsing, output and store opening."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from typing import IO, Any, Literal, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

import adapters

from .._connect import DEFAULT_URL

__all__ = [
    "EXIT_CONFLICT",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "Output",
    "dumps",
    "fail",
    "open_file",
    "open_store",
    "parse_document",
    "parse_filter",
    "parse_options",
    "record_json",
    "run",
    "shown_url",
    "store_at",
]

T = TypeVar("T")

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_CONFLICT = 4
EXIT_INTERRUPTED = 130

_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    _stderr.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def shown_url(url: str | None) -> str:
    """The URL as it may be shown: credentials removed, the default spelled out."""
    return adapters.redact_url(DEFAULT_URL if url is None else url)


def run(main: Callable[[], Awaitable[T]], *, stop_on_ctrl_c: bool = False) -> T:
    """Run the coroutine ``main()``, mapping library errors to exit codes.

    Exit codes: 1 not found (also a ``watch --since`` cursor whose changes are
    no longer kept), 2 usage, 3 backend unavailable, 4 conflict.
    Ctrl-C ends a stream that is meant to be stopped that way
    (``stop_on_ctrl_c``, e.g. ``watch``) quietly with code 0; any other
    command reports the interruption and exits with 130, as shells do.
    """
    try:
        return asyncio.run(_interruptible(_guarded(main)))
    except KeyboardInterrupt:
        if stop_on_ctrl_c:
            raise typer.Exit(EXIT_OK) from None
        _stderr.print("interrupted", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None


async def _interruptible(main: Awaitable[T]) -> T:
    """Await ``main``; Ctrl-C cancels it and then raises ``KeyboardInterrupt``.

    The handler runs as an event-loop callback. The default one of
    ``asyncio.run`` runs between any two bytecodes instead, so it can cancel a
    future in the middle of the callback that completes it (a result arriving
    from a worker thread), which asyncio then reports on stderr.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        interrupted = True
        if task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):
        return await main  # no loop signal handlers here (Windows, not the main thread)
    try:
        return await main
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def _guarded(main: Callable[[], Awaitable[T]]) -> T:
    try:
        return await main()
    except (adapters.NotFound, adapters.CursorExpired) as exc:
        fail(str(exc), EXIT_NOT_FOUND)
    except (adapters.Conflict, adapters.AlreadyExists) as exc:
        fail(str(exc), EXIT_CONFLICT)
    except adapters.BackendUnavailable as exc:
        fail(str(exc), EXIT_UNAVAILABLE)
    except adapters.MissingExtra as exc:
        fail(str(exc), EXIT_UNAVAILABLE)
    except adapters.FilterError as exc:
        where = f" at {exc.path!r}" if exc.path else ""
        fail(f"invalid filter{where}: {exc}", EXIT_USAGE)
    except (adapters.ValidationError, adapters.InvalidValue) as exc:
        fail(str(exc), EXIT_USAGE)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, like other Unix tools.
        sys.stderr.close()
        raise typer.Exit(EXIT_OK) from None
    except OSError as exc:
        # A FILE argument that cannot be opened (the backends' own I/O errors
        # arrive as BackendUnavailable, handled above).
        fail(f"{exc.filename or 'file'}: {exc.strerror or exc}", EXIT_USAGE)


def _parse_json(text: str, param: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Show where it failed: the message has line/column, the caret the spot.
        snippet = text if len(text) <= 60 else text[max(0, exc.pos - 30) : exc.pos + 30]
        start = 0 if len(text) <= 60 else max(0, exc.pos - 30)
        caret = " " * (exc.pos - start) + "^"
        raise typer.BadParameter(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}\n"
            f"  {snippet}\n  {caret}",
            param_hint=param,
        ) from None


def parse_document(text: str, param: str) -> dict[str, Any]:
    """Parse a JSON object argument (``-`` reads it from stdin)."""
    if text == "-":
        text = sys.stdin.read()
    value = _parse_json(text, param)
    if not isinstance(value, dict):
        raise typer.BadParameter(
            f"expected a JSON object, got {type(value).__name__}", param_hint=param
        )
    return value


def parse_filter(text: str | None) -> dict[str, Any] | None:
    """Parse the optional FILTER_JSON argument."""
    if text is None:
        return None
    return parse_document(text, "'FILTER_JSON'")


def parse_options(pairs: Iterable[str], param: str) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` backend options; values are JSON when they parse, else strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=param)
        try:
            out[name] = json.loads(raw)
        except json.JSONDecodeError:
            out[name] = raw
    return out


async def open_store(url: str | None, options: dict[str, Any], param: str) -> adapters.Store:
    """Open the store, turning a bad URL or option into a usage error naming ``param``."""
    try:
        return await adapters.connect(url, **options)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, adapters.AdapterError):
            raise
        fail(f"invalid value for {param} ({shown_url(url)}): {exc}", EXIT_USAGE)
    except ImportError as exc:
        if isinstance(exc, adapters.AdapterError):
            raise
        fail(f"no backend available for {shown_url(url)} in this installation", EXIT_UNAVAILABLE)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def record_json(record: adapters.Record[Any]) -> dict[str, Any]:
    """The JSON form of a record (also the ``export``/``import`` line format)."""
    return {
        "key": record.key,
        "version": record.version,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "data": record.data,
    }


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Output:
    """Writes results: a table on a terminal, JSON Lines when piped or with ``--json``."""

    def __init__(self, force_json: bool) -> None:
        self.json = force_json or not sys.stdout.isatty()
        self._console = Console(highlight=False)

    def line(self, value: Any) -> None:
        """Write one JSON line and flush (so followers see it at once)."""
        sys.stdout.write(dumps(value) + "\n")
        sys.stdout.flush()

    def records(self, records: Iterable[adapters.Record[Any]]) -> None:
        """Write records as JSON lines or as one table."""
        if self.json:
            for record in records:
                self.line(record_json(record))
            return
        table = Table("key", "version", "updated", "data", show_lines=False)
        for record in records:
            table.add_row(
                record.key, str(record.version), _iso(record.updated_at), dumps(record.data)
            )
        self._console.print(table)

    def rows(self, columns: list[str], rows: list[list[Any]]) -> None:
        """Write generic rows: JSON objects per row, or a table."""
        if self.json:
            for row in rows:
                self.line(dict(zip(columns, row, strict=True)))
            return
        table = Table(*columns)
        for row in rows:
            table.add_row(*(str(v) for v in row))
        self._console.print(table)

    def note(self, message: str) -> None:
        """A human-facing status message on stderr (never mixed into the data)."""
        _stderr.print(message, markup=False)


@contextlib.asynccontextmanager
async def store_at(url: str | None, options: list[str] | None) -> AsyncIterator[adapters.Store]:
    """Open the store at ``url`` with ``-o`` options for the duration of the block."""
    store = await open_store(url, parse_options(options or (), "'--option'"), "'--url'")
    try:
        yield store
    finally:
        await store.close()


def open_file(name: str, mode: Literal["r", "w"]) -> contextlib.AbstractContextManager[IO[str]]:
    """``-`` is stdin/stdout; a file that cannot be opened is a usage error naming FILE."""
    if name == "-":
        return contextlib.nullcontext(sys.stdin if mode == "r" else sys.stdout)
    try:
        return open(name, mode, encoding="utf-8", newline="\n" if mode == "w" else None)
    except OSError as exc:
        raise typer.BadParameter(f"{name}: {exc.strerror or exc}", param_hint="'FILE'") from None
