"""The row engine: write and query semantics for the backends that evaluate in Python.

memory, SQLite, the BeaverDB log fold and noex-server keep the same rules in
one place. A backend describes *how it stores rows*; the engine decides *what
a write does*:

* :mod:`._rules` — an operation (:data:`Op`) applied to the current rows
  (:class:`RowView`): key clash, ``if_version``, shallow merge, unique fields,
  version and timestamps. Pure; the result is the list of changes to persist.
* :mod:`._query` — filter, order, offset and limit over a row set. Pure.
* :mod:`._rowmap` — :class:`RowMap`, a row set held in a ``dict`` (memory,
  the BeaverDB mirror, rows a backend loaded for one decision).
* :mod:`._collection` — :class:`EngineCollection`, the Collection primitives
  on top of two backend hooks: ``_commit`` (decide atomically, persist) and
  ``_query`` (feed the stored rows to a query).
"""

from ._collection import EngineCollection
from ._query import count, page, select
from ._rowmap import RowMap, copy_change, copy_doc, copy_row
from ._rules import CLEAR, Clear, Delete, Insert, Op, RowView, Write, apply, check_unique

__all__ = [
    "CLEAR",
    "Clear",
    "Delete",
    "EngineCollection",
    "Insert",
    "Op",
    "RowMap",
    "RowView",
    "Write",
    "apply",
    "check_unique",
    "copy_change",
    "copy_doc",
    "copy_row",
    "count",
    "page",
    "select",
]
