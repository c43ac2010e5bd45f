"""``rules_unavailable.jsonl``: every rules.* op without a rule engine, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_rules_unavailable_transcript() -> None:
    await replay(load("rules_unavailable"))
