"""``store.jsonl``: every store data operation answers like the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_store_transcript() -> None:
    await replay(load("store"))
