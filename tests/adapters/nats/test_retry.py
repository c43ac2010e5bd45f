"""Which failures count as a leader election, and the retry loop around them (no I/O)."""

from __future__ import annotations

import nats.errors
import nats.js.errors
import pytest

from adapters.backends.nats._kv import KVUnavailable
from adapters.backends.nats._retry import Patience, is_transient


def _api(code: int, err_code: int | None = None) -> nats.js.errors.APIError:
    return nats.js.errors.APIError(code=code, err_code=err_code, description="x")


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (nats.errors.TimeoutError(), True),
        (TimeoutError(), True),
        (nats.errors.NoRespondersError(), True),
        (nats.js.errors.NoStreamResponseError(), True),
        (_api(503), True),  # no leader / JetStream not ready
        (_api(500, 10008), True),  # JetStream system temporarily unavailable
        (_api(503, 10023), False),  # insufficient resources: too few servers
        (_api(404, 10059), False),  # stream not found
        (_api(400, 10058), False),
        (ValueError("bad"), False),
    ],
)
def test_transient_failures(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


async def test_retries_transient_failures_until_success() -> None:
    failures = [nats.errors.NoRespondersError(), _api(503)]

    async def op() -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    assert await Patience(timeout=5, delay=0.001, attempt=1).run("op", op) == "done"
    assert failures == []


async def test_gives_up_at_the_deadline_naming_the_operation() -> None:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        raise nats.errors.TimeoutError

    with pytest.raises(KVUnavailable, match=r"binding bucket B: JetStream did not answer") as info:
        await Patience(timeout=0.05, delay=0.01, attempt=1).run("binding bucket B", op)
    assert calls > 1
    assert isinstance(info.value.__cause__, nats.errors.TimeoutError)


async def test_other_failures_are_raised_at_once() -> None:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        raise _api(404, 10059)

    with pytest.raises(nats.js.errors.APIError):
        await Patience(timeout=5, delay=0.01, attempt=1).run("op", op)
    assert calls == 1
