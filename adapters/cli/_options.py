"""The CLI's options and arguments, and the global ones shared by every command.

``--url``, ``--json`` and ``-o/--option`` are accepted before the command
(``noex-store --url URL count users``) and after it (``noex-store count users
--url URL``). After the command wins for ``--url``; ``--json`` is on if given in
either place; ``-o`` options from both places are merged, the later ones winning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import typer

__all__ = [
    "Batch",
    "Coll",
    "Filter",
    "GlobalUrl",
    "Globals",
    "IfVersion",
    "Json",
    "Key",
    "Options",
    "Since",
    "Url",
    "resolve",
]

_URL_HELP = "Store URL, e.g. postgresql://host/db (default: sqlite:///noex-store.db)."

GlobalUrl = Annotated[
    str | None,
    typer.Option("--url", envvar="NOEX_STORE_URL", show_default=False, help=_URL_HELP),
]
Url = Annotated[str | None, typer.Option("--url", show_default=False, help=_URL_HELP)]
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
Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="CURSOR",
        help="Resume after this change (the cursor of a line printed before).",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Globals:
    """The global options given before the command (``--url`` also from ``NOEX_STORE_URL``)."""

    url: str | None = None
    json: bool = False
    options: list[str] = field(default_factory=list)
    url_on_command_line: bool = False

    @property
    def names_a_store(self) -> bool:
        """Whether ``--url`` or ``-o`` was typed before the command."""
        return self.url_on_command_line or bool(self.options)


@dataclass(frozen=True)
class Resolved:
    """The store URL, output mode and backend options a command runs with."""

    url: str | None
    json: bool
    options: list[str]


def resolve(
    ctx: typer.Context, url: str | None = None, json: bool = False, options: list[str] | None = None
) -> Resolved:
    """Combine a command's own options with the global ones (see the module doc)."""
    globals_ = ctx.find_object(Globals) or Globals()
    return Resolved(
        url if url is not None else globals_.url,
        json or globals_.json,
        [*globals_.options, *(options or ())],
    )
