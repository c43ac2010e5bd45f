"""``rules.jsonl``: facts, events, topic subscriptions and event rules, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_rules_transcript() -> None:
    await replay(load("rules"))
