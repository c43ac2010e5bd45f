"""``shutdown.jsonl``: graceful shutdown, draining, immediate stop, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_shutdown_transcript() -> None:
    await replay(load("shutdown"))
