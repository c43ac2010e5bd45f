"""``admin_store.jsonl``: bucket and declarative-query administration, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_admin_store_transcript() -> None:
    await replay(load("admin_store"))
