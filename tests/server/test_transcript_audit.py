"""``audit.jsonl``: audit entries, every ``audit.query`` filter and the tiers, as recorded."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_audit_transcript() -> None:
    await replay(load("audit"))
