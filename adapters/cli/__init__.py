"""``noex-store``: the command line over the adapters Collection API.

Installed by the ``cli`` extra (``pip install 'noex-client[cli]'``), which
brings typer and rich. Run ``noex-store --help`` for the commands.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``noex-store`` console script."""
    try:
        from ._app import main as run_app
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        if exc.name not in ("typer", "rich", "click"):
            raise
        sys.stderr.write("noex-store needs the cli extra: pip install 'noex-client[cli]'\n")
        raise SystemExit(3) from exc
    run_app()
