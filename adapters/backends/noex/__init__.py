"""``ws://`` / ``wss://`` — collections stored in a noex-server, through ``noex_client``.

URL: ``ws://host:port`` or ``wss://host:port``, optionally ``?token=...`` to log in
with ``auth.login`` (the token is stripped from the URL that is dialled and never
shown). Options of :func:`open_store`: ``token=``, ``client_options=`` (a
:class:`noex_client.ClientOptions`) and ``lock_timeout_s=``.

Layout on the server
--------------------
Each collection is one bucket of the same name, defined on first write as
``{"key": "key", "schema": {"key": string, "doc": object}}``: the record key
lives in ``key``, the user's document in ``doc``, and noex's own metadata
(``_version``, ``_createdAt``, ``_updatedAt``) becomes the Record's
``version``, ``created_at`` and ``updated_at``. Nesting the document keeps user
field names (even ``_version`` or ``key``) apart from noex's, and makes
``replace`` a plain one-field update, so the version keeps counting.

Semantics and how the contract is kept
--------------------------------------
noex-server differs from the Collection contract in three places; this backend
bridges each of them:

* ``store.insert`` over an existing key silently overwrites. Inserts therefore
  go through ``store.transaction``, whose commit fails with ``CONFLICT`` when
  the key exists; that becomes :class:`~adapters.AlreadyExists`.
* ``store.update`` of a missing key is ``INTERNAL_ERROR``; the backend reads
  first and raises :class:`~adapters.NotFound`.
* There is no compare-and-set outside transactions, and a transaction only
  checks the version *it* read. Writes to existing records (update, replace,
  delete, clear) and inserts into collections with ``unique`` fields take a
  per-collection write lock: a record in the bucket ``_adapters.locks``,
  created with a transactional insert (so exactly one writer holds it) and
  removed in the same transaction that commits the write. Under the lock the
  backend reads the record, checks ``if_version`` and unique fields, and writes.
  The lock bucket has a 30 s TTL, so a writer that dies holding the lock
  blocks that collection for at most about 30 s.

Remaining races, stated plainly: the lock only coordinates writers that use
this library; a program writing the same buckets directly with ``store.update``
bypasses ``if_version`` and unique checks. A writer stalled for longer than the
lock TTL loses its exclusivity. ``insert_many`` is one atomic transaction up to
about 512 KiB of documents (the server's request size limit is 1 MiB); larger
batches are split into several transactions, each atomic on its own.

Reads and filters
-----------------
``get`` is ``store.get``. ``find``, ``count`` with a filter, and ``page`` read
the bucket with ``store.paginate`` in chunks and evaluate the filter, the order
and the key-order paging in the client with the shared filter evaluator, so
every operator and dotted paths behave exactly as on the other backends (noex
filters cannot reach into the nested document). Each of these calls therefore
costs one scan of the bucket; ``page`` keeps only ``limit`` records in memory.
Reads take no lock: a scan whose cursor record is deleted meanwhile starts
over, and a record deleted and re-inserted during a scan (which moves it to
the end of noex's table order) can make that one scan miss records.

Watch
-----
``watch`` subscribes to a declarative query ``_adapters.watch.<collection>``
(defined on first use) returning the whole bucket, and derives changes by
diffing each pushed result against the previous one per key and ``_version``.
The server coalesces bursts, so several writes to one record in quick
succession may arrive as one ``updated`` change carrying the final state, and
an insert quickly followed by a delete may not be seen at all. After a
reconnect the fresh result is diffed the same way, so net changes made while
disconnected are delivered, not lost. Each push carries the whole bucket:
watch suits collections of moderate size. Dropping the bucket ends the
server-side subscription without notice.

Collection names starting with ``_adapters.`` are reserved.
"""

from ._store import NoexOptions, NoexStore, open_store

__all__ = ["NoexOptions", "NoexStore", "open_store"]
