"""``transactions.jsonl``: store.transaction results, rollback and CONFLICT, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_transactions_transcript() -> None:
    await replay(load("transactions"))
