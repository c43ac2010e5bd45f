"""``python -m adapters.cli``: the same as the ``noex-store`` console script."""

from . import main

main()
