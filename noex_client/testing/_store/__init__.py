"""The in-memory noex store engine: schema, filters, buckets, queries (sans-I/O)."""

from .buckets import Bucket
from .errors import StoreError
from .queries import QueryContext, QueryFunction
from .reactive import Reactive
from .store import Store
from .transactions import Transaction, run_transaction

__all__ = [
    "Bucket",
    "QueryContext",
    "QueryFunction",
    "Reactive",
    "Store",
    "StoreError",
    "Transaction",
    "run_transaction",
]
