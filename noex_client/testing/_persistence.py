"""Persistence of a server's store and built-in identity data in a directory.

noex-store persists buckets through a storage adapter: a bucket restores its
records when it is defined (``persistent`` defaults to true; ``persistent:
false`` opts out), and ``store.stats`` reports ``persistence.enabled``. The
test server does the same with files, so a server restarted with the same
``persistence`` path (a ``serve`` process on the same port, or a new
:class:`LocalServer`) finds the records again once the buckets are defined
(the configured ones at start, the others on ``store.defineBucket``). The
built-in identity data (users, password hashes, roles, role assignments,
sessions, ACL entries, owners), which the real server keeps in its system
buckets, persists too. Queries, facts, rules, timers, procedures and logic
definitions live in memory, as on the real server.

Layout: ``<path>/buckets/<url-quoted name>.json`` (``{"bucket", "counter",
"records"}``) and ``<path>/identity.json``. Every change is written before
the response that made it is sent, each file replaced atomically, with
owner-only permissions (the files hold password hashes and session tokens).
A dropped bucket's file is deleted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec

from ._errors import ConfigError
from ._identity import IdentityEngine
from ._store import Store
from ._store.buckets import Bucket

__all__ = ["Persistence"]


class Persistence:
    """Saves persistent buckets and identity data under ``path`` (created if missing).

    Args:
        path: The data directory.

    Raises:
        ConfigError: The directory cannot be created.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._buckets = self.path / "buckets"
        try:
            self._buckets.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"persistence path {str(self.path)!r}: {exc}") from exc
        self._saved: dict[str, tuple[Bucket, int]] = {}
        self._identity: bytes | None = None

    def __repr__(self) -> str:
        return f"Persistence({str(self.path)!r})"

    def _file(self, bucket: str) -> Path:
        return self._buckets / f"{quote(bucket, safe='')}.json"

    def _read(self, file: Path) -> Any:
        try:
            return msgspec.json.decode(file.read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            raise ConfigError(f"persistence file {str(file)!r} cannot be read: {exc}") from exc

    def _write(self, file: Path, data: bytes) -> None:
        temp = file.with_name(file.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, file)

    # -- buckets (the store's BucketStorage) ------------------------------------
    def load(self, bucket: Bucket) -> None:
        """Restore a bucket's saved records and counter (nothing saved: nothing to do).

        Raises:
            ConfigError: The saved file cannot be read.
        """
        file = self._file(bucket.name)
        if file.exists():
            saved = self._read(file)
            try:
                bucket.load(list(saved["records"]), int(saved["counter"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"persistence file {str(file)!r} is malformed: {exc}") from exc
        self._saved[bucket.name] = (bucket, bucket.revision)

    def forget(self, name: str) -> None:
        """Delete a dropped bucket's file."""
        self._saved.pop(name, None)
        self._file(name).unlink(missing_ok=True)

    # -- saving --------------------------------------------------------------------
    def save(self, store: Store, identity: IdentityEngine | None) -> None:
        """Write every persistent bucket changed since its last save, and changed identity data."""
        for name, bucket in store.buckets.items():
            saved = self._saved.get(name)
            if not bucket.persistent or saved == (bucket, bucket.revision):
                continue
            data = {"bucket": name, "counter": bucket.counter, "records": bucket.records()}
            self._write(self._file(name), msgspec.json.encode(data))
            self._saved[name] = (bucket, bucket.revision)
        if identity is not None:
            blob = msgspec.json.encode(identity.snapshot())
            if blob != self._identity:
                self._write(self.path / "identity.json", blob)
                self._identity = blob

    def load_identity(self, identity: IdentityEngine) -> None:
        """Restore saved identity data (nothing saved: the fresh data stays).

        Raises:
            ConfigError: The saved file cannot be read.
        """
        file = self.path / "identity.json"
        if file.exists():
            try:
                identity.restore(self._read(file))
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"persistence file {str(file)!r} is malformed: {exc}") from exc
            self._identity = msgspec.json.encode(identity.snapshot())
