"""The ``replicas`` option on the shared single server (cluster behaviour: ``test_cluster``)."""

from __future__ import annotations

import pytest

import adapters
from adapters.backends.nats import NatsStore

from .factory import fresh_url

pytestmark = pytest.mark.nats


async def _replicas(store: adapters.Store, bucket: str) -> int:
    assert isinstance(store, NatsStore)
    info = await store._conn.js.stream_info(f"KV_{store.options.prefix}{bucket}")
    return info.config.num_replicas or 1


async def test_auto_is_one_on_a_single_server() -> None:
    async with fresh_url() as url, adapters.connect(url) as store:
        assert isinstance(store, NatsStore)
        assert store.options.replicas == "auto"
        assert store._conn.replicas == 1
        await store.collection("plain").insert({"a": 1})
        assert await _replicas(store, "plain") == 1


@pytest.mark.parametrize("existing", [False, True])
async def test_more_replicas_than_servers_fail_clearly_at_once(existing: bool) -> None:
    async with fresh_url() as url:
        if existing:
            async with adapters.connect(url) as store:
                await store.collection("plain").insert({"a": 1})
        async with adapters.connect(url, replicas=3) as store:
            with pytest.raises(
                adapters.BackendError, match=r"cannot have 3 replicas: .* not part of a cluster"
            ):
                await store.collection("plain").insert({"a": 2})
            if existing:
                assert await _replicas(store, "plain") == 1  # left as it was
