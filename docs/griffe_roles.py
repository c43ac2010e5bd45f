"""A griffe extension for the API reference: Sphinx roles in docstrings become code spans.

The docstrings cross-reference with ``:class:`Name``` and the like; Markdown has no
such roles, so ``:class:`Name``` is rendered as the code span ```Name```.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|exc|data|obj):`~?\.?([^`]+)`")


class SphinxRoles(griffe.Extension):
    """Rewrites the roles of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"`\1`", obj.docstring.value)
