"""``auth.jsonl``: token auth, tiers, permissions, revocation, expiry, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_auth_transcript() -> None:
    await replay(load("auth"))
