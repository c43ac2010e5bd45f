"""The ``noex-store`` commands (typer), each a thin shell over the Collection API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ._bulk import copy, export_, import_
from ._common import (
    EXIT_NOT_FOUND,
    Output,
    fail,
    parse_document,
    parse_filter,
    run,
    shown_url,
    store_at,
)
from ._follow import follow
from ._options import (
    Coll,
    Filter,
    Globals,
    GlobalUrl,
    IfVersion,
    Json,
    Key,
    Options,
    Since,
    Url,
    resolve,
)

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


@app.callback()
def global_options(
    ctx: typer.Context, url: GlobalUrl = None, json: Json = False, option: Options = None
) -> None:
    """--url, --json and -o go before the command or after it."""
    source = ctx.get_parameter_source("url")  # click's ParameterSource (typer vendors click)
    on_command_line = source is not None and source.name == "COMMANDLINE"
    ctx.obj = Globals(url, json, list(option or ()), on_command_line)


@app.command()
def collections(
    ctx: typer.Context, url: Url = None, json: Json = False, option: Options = None
) -> None:
    """List the collections that hold records, with their record counts.

    Example: noex-store collections --url sqlite:///app.db
    """
    opts = resolve(ctx, url, json, option)
    out = Output(opts.json)

    async def main() -> None:
        async with store_at(opts.url, opts.options) as store:
            names = await store.collections()
            rows = [[name, await store.collection(name).count()] for name in names]
        out.rows(["collection", "records"], rows)

    run(main)


@app.command()
def get(
    ctx: typer.Context,
    coll: Coll,
    key: Key,
    url: Url = None,
    json: Json = False,
    option: Options = None,
) -> None:
    """Show one record; exit code 1 when it does not exist.

    Example: noex-store get users alice
    """
    opts = resolve(ctx, url, json, option)
    out = Output(opts.json)

    async def main() -> None:
        async with store_at(opts.url, opts.options) as store:
            record = await store.collection(coll).get(key)
        if record is None:
            fail(f"no record {key!r} in collection {coll!r}", EXIT_NOT_FOUND)
        out.records([record])

    run(main)


@app.command()
def put(
    ctx: typer.Context,
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
    opts = resolve(ctx, url, json, option)
    key = key_or_json if document is not None else None
    doc = parse_document(document if document is not None else key_or_json, "'JSON'")
    out = Output(opts.json)

    async def main() -> None:
        async with store_at(opts.url, opts.options) as store:
            users = store.collection(coll)
            if key is not None and await users.exists(key):
                record = await users.replace(key, doc)
            else:
                record = await users.insert(doc, key=key)
        out.records([record])

    run(main)


@app.command()
def update(
    ctx: typer.Context,
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
    opts = resolve(ctx, url, json, option)
    patch = parse_document(changes, "'JSON'")
    out = Output(opts.json)

    async def main() -> None:
        async with store_at(opts.url, opts.options) as store:
            record = await store.collection(coll).update(key, patch, if_version=if_version)
        out.records([record])

    run(main)


@app.command()
def rm(
    ctx: typer.Context,
    coll: Coll,
    key: Key,
    if_version: IfVersion = None,
    url: Url = None,
    option: Options = None,
) -> None:
    """Delete a record (exit 1 if it does not exist, 4 on a version conflict).

    Example: noex-store rm users alice
    """
    opts = resolve(ctx, url, options=option)

    async def main() -> None:
        async with store_at(opts.url, opts.options) as store:
            existed = await store.collection(coll).delete(key, if_version=if_version)
        if not existed:
            fail(f"no record {key!r} in collection {coll!r}", EXIT_NOT_FOUND)

    run(main)


@app.command()
def find(
    ctx: typer.Context,
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
    opts = resolve(ctx, url, json, option)
    flt = parse_filter(where)
    out = Output(opts.json)

    async def main() -> None:
        async with store_at(opts.url, opts.options) as store:
            found = await store.collection(coll).find(
                flt, order_by=order_by or None, limit=limit, offset=offset
            )
        out.records(found)

    run(main)


@app.command()
def count(
    ctx: typer.Context, coll: Coll, where: Filter = None, url: Url = None, option: Options = None
) -> None:
    """Count the records matching a filter (all records without one).

    Example: noex-store count users '{"role": "admin"}'
    """
    opts = resolve(ctx, url, options=option)
    flt = parse_filter(where)

    async def main() -> None:
        async with store_at(opts.url, opts.options) as store:
            total = await store.collection(coll).count(flt)
        sys.stdout.write(f"{total}\n")

    run(main)


@app.command()
def watch(
    ctx: typer.Context,
    coll: Coll,
    where: Filter = None,
    since: Since = None,
    url: Url = None,
    option: Options = None,
) -> None:
    """Follow changes: one JSON line per change ({"kind", "key", "cursor", "record"}).

    Keep the cursor of the last line you handled: --since CURSOR first prints
    every change after it, then follows live, without gaps or repeats. Runs
    until Ctrl-C. Exit code 1 if the changes after CURSOR are no longer kept.

    Example: noex-store watch orders '{"status": "open"}' --since "$(cat last.cursor)"
    """
    opts = resolve(ctx, url, options=option)
    flt = parse_filter(where)
    run(
        lambda: follow(store_at(opts.url, opts.options), shown_url(opts.url), coll, flt, since),
        stop_on_ctrl_c=True,
    )


# The bulk commands live in _bulk; registered here, after the record commands, so
# --help lists them in this order.
app.command("export")(export_)
app.command("import")(import_)
app.command()(copy)


def main() -> None:
    """Entry point of the ``noex-store`` console script."""
    app()
