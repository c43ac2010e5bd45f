"""``nats://`` — NATS JetStream KV in brainlessdb's storage layout.

``nats://host:4222?namespace=app`` opens a store whose collections live in KV
buckets named and encoded exactly like brainlessdb 0.17.3's (``<Name>``,
``<Name>-State``, ``<Name>-<LocalClass>``; lower-case UUID keys; ``{"d", "l",
"m"}`` JSON values), so brainlessdb applications and this library can share
them. Every collection is mirrored in memory by one KV watch per bucket, loaded
from the latest value of each key; reads are served from the mirror (also
synchronously: ``NatsCollection.lookup``/``lookup_one``), writes are pipelined
compare-and-set puts that return once JetStream has stored them.
Options are the fields of :class:`Options` (URL query or keyword arguments).
"""

from ._collection import NatsCollection
from ._conn import Options
from ._layout import Flag
from ._store import NatsStore, open_store

__all__ = ["Flag", "NatsCollection", "NatsStore", "Options", "open_store"]
