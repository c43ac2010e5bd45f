"""The ``noex-store`` commands (typer), each a thin shell over the Collection API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ._common import (
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    Output,
    fail,
    open_file,
    parse_document,
    parse_filter,
    run,
    shown_url,
    store_at,
)
from ._follow import follow
from ._progress import CopyProgress, ProgressMode
from ._transfer import OnConflict, copy_collection, export_lines, import_lines

__all__ = ["app", "main"]

app = typer.Typer(
    name="noex-store",
    help=(
        "Look at and move data in any adapters backend: SQLite (the default), memory, "
        "PostgreSQL, NATS, noex-server, BeaverDB.\n\n"
        "Exit codes: 0 ok, 1 not found, 2 usage error, 3 backend unavailable, 4 conflict."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="NOEX_STORE_URL",
        show_default=False,
        help="Store URL, e.g. postgresql://host/db (default: sqlite:///noex-store.db).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="JSON Lines even on a terminal.")]
Options = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", metavar="KEY=VALUE", help="Backend option (repeatable)."),
]
Coll = Annotated[str, typer.Argument(help="Collection name.", show_default=False)]
Key = Annotated[str, typer.Argument(help="Record key.", show_default=False)]
Filter = Annotated[
    str | None,
    typer.Argument(
        metavar="FILTER_JSON", help='Filter, e.g. \'{"age": {"$gte": 18}}\'.', show_default=False
    ),
]
IfVersion = Annotated[
    int | None, typer.Option("--if-version", min=1, help="Only if the record is at this version.")
]
Batch = Annotated[int, typer.Option("--batch-size", min=1, help="Documents per write batch.")]


@app.command()
def collections(url: Url = None, json: Json = False, option: Options = None) -> None:
    """List the collections that hold records, with their record counts.

    Example: noex-store collections --url sqlite:///app.db
    """
    out = Output(json)

    async def main() -> None:
        async with store_at(url, option) as store:
            names = await store.collections()
            rows = [[name, await store.collection(name).count()] for name in names]
        out.rows(["collection", "records"], rows)

    run(main)


@app.command()
def get(coll: Coll, key: Key, url: Url = None, json: Json = False, option: Options = None) -> None:
    """Show one record; exit code 1 when it does not exist.

    Example: noex-store get users alice
    """
    out = Output(json)

    async def main() -> None:
        async with store_at(url, option) as store:
            record = await store.collection(coll).get(key)
        if record is None:
            fail(f"no record {key!r} in collection {coll!r}", EXIT_NOT_FOUND)
        out.records([record])

    run(main)


@app.command()
def put(
    coll: Coll,
    key_or_json: Annotated[
        str,
        typer.Argument(
            metavar="KEY|JSON", help="The record key, or the document when no key is given."
        ),
    ],
    document: Annotated[
        str | None,
        typer.Argument(metavar="JSON", help="The document (after KEY); - reads stdin."),
    ] = None,
    url: Url = None,
    json: Json = False,
    option: Options = None,
) -> None:
    """Write a whole document: insert it, or replace the record KEY if it exists.

    Without KEY a UUID key is generated. "-" reads the JSON from stdin.

    Example: noex-store put users alice '{"name": "Alice", "role": "admin"}'
    """
    key = key_or_json if document is not None else None
    doc = parse_document(document if document is not None else key_or_json, "'JSON'")
    out = Output(json)

    async def main() -> None:
        async with store_at(url, option) as store:
            users = store.collection(coll)
            if key is not None and await users.exists(key):
                record = await users.replace(key, doc)
            else:
                record = await users.insert(doc, key=key)
        out.records([record])

    run(main)


@app.command()
def update(
    coll: Coll,
    key: Key,
    changes: Annotated[str, typer.Argument(metavar="JSON|-", help="Fields to merge.")],
    if_version: IfVersion = None,
    url: Url = None,
    json: Json = False,
    option: Options = None,
) -> None:
    """Merge fields into a record (exit 1 if missing, 4 on a version conflict).

    Example: noex-store update users alice '{"role": "user"}' --if-version 1
    """
    patch = parse_document(changes, "'JSON'")
    out = Output(json)

    async def main() -> None:
        async with store_at(url, option) as store:
            record = await store.collection(coll).update(key, patch, if_version=if_version)
        out.records([record])

    run(main)


@app.command()
def rm(
    coll: Coll,
    key: Key,
    if_version: IfVersion = None,
    url: Url = None,
    option: Options = None,
) -> None:
    """Delete a record (exit 1 if it does not exist, 4 on a version conflict).

    Example: noex-store rm users alice
    """

    async def main() -> None:
        async with store_at(url, option) as store:
            existed = await store.collection(coll).delete(key, if_version=if_version)
        if not existed:
            fail(f"no record {key!r} in collection {coll!r}", EXIT_NOT_FOUND)

    run(main)


@app.command()
def find(
    coll: Coll,
    where: Filter = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", metavar="FIELD", help="Sort field, -FIELD descending."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="At most N.")] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip N first.")] = 0,
    url: Url = None,
    json: Json = False,
    option: Options = None,
) -> None:
    """List the records matching a filter (all records without one).

    Example: noex-store find users '{"role": "admin"}' --order-by -age --limit 10
    """
    flt = parse_filter(where)
    out = Output(json)

    async def main() -> None:
        async with store_at(url, option) as store:
            found = await store.collection(coll).find(
                flt, order_by=order_by or None, limit=limit, offset=offset
            )
        out.records(found)

    run(main)


@app.command()
def count(coll: Coll, where: Filter = None, url: Url = None, option: Options = None) -> None:
    """Count the records matching a filter (all records without one).

    Example: noex-store count users '{"role": "admin"}'
    """
    flt = parse_filter(where)

    async def main() -> None:
        async with store_at(url, option) as store:
            total = await store.collection(coll).count(flt)
        sys.stdout.write(f"{total}\n")

    run(main)


Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="CURSOR",
        help="Resume after this change (the cursor of a line printed before).",
        show_default=False,
    ),
]


@app.command()
def watch(
    coll: Coll, where: Filter = None, since: Since = None, url: Url = None, option: Options = None
) -> None:
    """Follow changes: one JSON line per change ({"kind", "key", "cursor", "record"}).

    Keep the cursor of the last line you handled: --since CURSOR first prints
    every change after it, then follows live, without gaps or repeats. Runs
    until Ctrl-C. Exit code 1 if the changes after CURSOR are no longer kept.

    Example: noex-store watch orders '{"status": "open"}' --since "$(cat last.cursor)"
    """
    flt = parse_filter(where)
    run(
        lambda: follow(store_at(url, option), shown_url(url), coll, flt, since), stop_on_ctrl_c=True
    )


@app.command("export")
def export_(
    coll: Coll,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Output file; stdout when omitted or -.")
    ] = "-",
    batch_size: Batch = 500,
    url: Url = None,
    option: Options = None,
) -> None:
    """Write every record as JSON Lines ({"key", "version", ..., "data"}), streaming.

    Example: noex-store export users users.jsonl
    """
    out = Output(True)

    with open_file(file, "w") as target:

        async def main() -> None:
            async with store_at(url, option) as store:
                written = await export_lines(store.collection(coll), target, batch_size)
            out.note(f"exported {written} records from {coll}")

        run(main)


@app.command("import")
def import_(
    coll: Coll,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="JSON Lines input; stdin when omitted or -.")
    ] = "-",
    on_conflict: Annotated[
        str,
        typer.Option(
            "--on-conflict", help="Existing key: fail (exit 4), skip, or replace.", metavar="MODE"
        ),
    ] = "fail",
    batch_size: Batch = 500,
    url: Url = None,
    option: Options = None,
) -> None:
    """Insert documents from JSON Lines, streaming in batches.

    Lines are export lines ({"key", "data", ...}) or plain JSON documents (new UUID keys).

    Example: noex-store import users users.jsonl --on-conflict skip
    """
    if on_conflict not in ("fail", "skip", "replace"):
        raise typer.BadParameter("expected fail, skip or replace", param_hint="'--on-conflict'")
    mode: OnConflict = on_conflict  # type: ignore[assignment]
    out = Output(True)

    with open_file(file, "r") as source:

        async def main() -> None:
            async with store_at(url, option) as store:
                stats = await import_lines(store.collection(coll), source, batch_size, mode)
            out.note(
                f"imported {stats.inserted} records into {coll} "
                f"(skipped {stats.skipped}, replaced {stats.replaced})"
            )

        run(main)


@app.command()
def copy(
    coll: Coll,
    src: Annotated[str, typer.Option("--from", metavar="SRC_URL", help="Source store URL.")],
    dst: Annotated[str, typer.Option("--to", metavar="DST_URL", help="Destination store URL.")],
    new_name: Annotated[
        str | None, typer.Option("--as", metavar="NAME", help="Destination collection name.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Skip documents already copied unchanged; replace changed ones."
        ),
    ] = False,
    batch_size: Batch = 500,
    progress: Annotated[
        ProgressMode,
        typer.Option("--progress", help="bar (terminal default), lines, or none."),
    ] = ProgressMode.auto,
    from_option: Annotated[
        list[str] | None, typer.Option("--from-option", metavar="KEY=VALUE")
    ] = None,
    to_option: Annotated[list[str] | None, typer.Option("--to-option", metavar="KEY=VALUE")] = None,
    json: Json = False,
) -> None:
    """Copy a collection from one backend to another, in batches, with progress.

    Example: noex-store copy users --from nats://localhost:4222 --to postgresql://localhost/app
    """
    target = new_name or coll
    same_store = src == dst and sorted(from_option or ()) == sorted(to_option or ())
    if same_store and target == coll:
        fail("--from and --to name the same collection; use --as NAME", EXIT_USAGE)
    out = Output(json)

    async def main() -> None:
        async with (
            store_at(src, from_option) as source,
            store_at(dst, to_option) as dest,
        ):
            with CopyProgress(progress, coll) as bar:
                stats = await copy_collection(
                    source.collection(coll),
                    dest.collection(target),
                    batch=batch_size,
                    resume=resume,
                    progress=bar.update,
                )
        rate = stats.done / stats.seconds if stats.seconds > 0 else 0.0
        summary = {
            "collection": coll,
            "to": target,
            "from_url": shown_url(src),
            "to_url": shown_url(dst),
            "source_records": stats.total,
            "copied": stats.copied,
            "skipped": stats.skipped,
            "updated": stats.updated,
            "seconds": round(stats.seconds, 3),
        }
        if out.json:
            out.line(summary)
        else:
            out.note(
                f"copied {stats.copied} of {stats.total} records {coll} -> {target} "
                f"({shown_url(src)} -> {shown_url(dst)}); skipped {stats.skipped} unchanged, "
                f"updated {stats.updated}; {stats.seconds:.1f} s, {rate:.0f} records/s"
            )

    run(main)


def main() -> None:
    """Entry point of the ``noex-store`` console script."""
    app()
