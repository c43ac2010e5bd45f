"""``client.procedures`` against the recorded real server and LocalServer's
procedures: every method returns the server's JSON as it is."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import NoexClientError
from tests.compat.servers import KINDS, session
from tests.transcripts import load


def recorded_procedure(seq: int) -> dict[str, Any]:
    """The procedure definition the recording registered at ``seq``."""
    (line,) = [line for line in load("procedures").of("send") if line.seq == seq]
    procedure: dict[str, Any] = line.frame["procedure"]
    return procedure


@pytest.mark.parametrize("kind", KINDS)
async def test_register_call_get_list_update_unregister(kind: str) -> None:
    async with session(kind, "procedures") as (client, _ids):
        await client.auth.login("admin")
        orders = client.store.bucket("orders")
        order = await orders.insert({"status": "new", "total": 0})
        for price in (10, 20, 30):
            await client.store.bucket("items").insert({"orderId": order["id"], "price": price})

        total = recorded_procedure(13)
        assert await client.procedures.register(total) == {
            "name": "order-total",
            "registered": True,
        }
        with pytest.raises(NoexClientError) as info:
            await client.procedures.register(total)
        assert info.value.code == "ALREADY_EXISTS"
        listing = await client.procedures.list()
        assert listing == {
            "procedures": [
                {
                    "name": "order-total",
                    "description": "Sum item prices and store on the order",
                    "stepsCount": 4,
                }
            ]
        }
        assert await client.procedures.get("order-total") == total

        result = await client.procedures.call("order-total", {"orderId": order["id"]})
        assert result["success"] is True
        assert result["result"]["total"] == 60
        with pytest.raises(NoexClientError) as info:
            await client.procedures.call("order-total")  # input defaults to {}
        assert info.value.code == "VALIDATION_ERROR"
        assert info.value.details == {"issues": ['Missing required input "orderId"']}

        updated = await client.procedures.update(
            "order-total", {"description": "v2", "transaction": True}
        )
        assert updated == {"name": "order-total", "updated": True}
        assert (await client.procedures.get("order-total"))["description"] == "v2"

        await client.procedures.register(recorded_procedure(42))
        assert await client.procedures.call("classify", {"n": 50}) == {
            "success": True,
            "result": "big",
            "results": {},
        }
        unregistered = await client.procedures.unregister("order-total")
        assert unregistered == {"name": "order-total", "unregistered": True}
        with pytest.raises(NoexClientError) as info:
            await client.procedures.unregister("order-total")
        assert (info.value.code, str(info.value)) == (
            "NOT_FOUND",
            'Procedure "order-total" not found',
        )
