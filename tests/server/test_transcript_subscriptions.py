"""``subscriptions.jsonl``: store.subscribe, pushes and unsubscribe, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_subscriptions_transcript() -> None:
    await replay(load("subscriptions"))
