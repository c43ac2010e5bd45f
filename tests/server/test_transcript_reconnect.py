"""``reconnect.jsonl``: a restart on the same port loses all state, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_reconnect_transcript() -> None:
    await replay(load("reconnect"))
