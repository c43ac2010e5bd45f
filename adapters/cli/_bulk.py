"""The bulk commands: ``export``, ``import`` and ``copy`` (registered by ``_app``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import EXIT_USAGE, Output, fail, open_file, run, shown_url, store_at
from ._options import Batch, Coll, Globals, Json, Options, Url, resolve
from ._progress import CopyProgress, ProgressMode
from ._transfer import OnConflict, copy_collection, export_lines, import_lines

__all__ = ["copy", "export_", "import_"]


def export_(
    ctx: typer.Context,
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
    opts = resolve(ctx, url, options=option)
    out = Output(True)

    with open_file(file, "w") as target:

        async def main() -> None:
            async with store_at(opts.url, opts.options) as store:
                written = await export_lines(store.collection(coll), target, batch_size)
            out.note(f"exported {written} records from {coll}")

        run(main)


def import_(
    ctx: typer.Context,
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
    opts = resolve(ctx, url, options=option)
    out = Output(True)

    with open_file(file, "r") as source:

        async def main() -> None:
            async with store_at(opts.url, opts.options) as store:
                stats = await import_lines(store.collection(coll), source, batch_size, mode)
            out.note(
                f"imported {stats.inserted} records into {coll} "
                f"(skipped {stats.skipped}, replaced {stats.replaced})"
            )

        run(main)


def copy(
    ctx: typer.Context,
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
    globals_ = ctx.find_object(Globals)
    if globals_ is not None and globals_.names_a_store:
        fail("copy takes its stores from --from/--to (and --from-option/--to-option)", EXIT_USAGE)
    json = resolve(ctx, json=json).json
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
