"""An activity is answered once across replicas, and a replica killed mid-turn does not
lose it: its unfinished claim is taken over by the channel's retry after the lease."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage.deliveries import CLAIM_LEASE, Claim, claim_delivery, finish_delivery
from storage.models import ProcessedActivity
from storage.models.base import utcnow
from tests.support import card_text, message, seed_trust, serve_waypoint

SETTINGS = Settings(_env_file=None)
KEY = {"channel_id": "msteams", "conversation_id": "a:chat", "activity_id": "act-1"}


async def _claimed_ago(sessions: async_sessionmaker[AsyncSession], ago: timedelta) -> None:
    """Every claim made `ago` before now."""
    async with sessions.begin() as session:
        await session.execute(update(ProcessedActivity).values(received_at=utcnow() - ago))


async def test_a_claim_is_first_then_in_flight_then_handled_once_finished(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await claim_delivery(sessions, **KEY) is Claim.first
    assert await claim_delivery(sessions, **KEY) is Claim.in_flight
    await finish_delivery(sessions, **KEY)
    assert await claim_delivery(sessions, **KEY) is Claim.handled
    # A finished activity stays handled however old its claim.
    await _claimed_ago(sessions, CLAIM_LEASE * 2)
    assert await claim_delivery(sessions, **KEY) is Claim.handled


async def test_an_unfinished_claim_past_its_lease_is_taken_over_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await claim_delivery(sessions, **KEY) is Claim.first
    await _claimed_ago(sessions, CLAIM_LEASE - timedelta(seconds=2))
    assert await claim_delivery(sessions, **KEY) is Claim.in_flight
    await _claimed_ago(sessions, CLAIM_LEASE + timedelta(seconds=1))
    # The replica that claimed it is gone: the retry takes it over, and only one retry.
    assert await claim_delivery(sessions, **KEY) is Claim.first
    assert await claim_delivery(sessions, **KEY) is Claim.in_flight


async def test_a_retry_of_an_activity_whose_replica_died_mid_turn_is_answered(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    activity = message("help", expect_replies=True)
    # What a replica killed mid-turn leaves behind: the claim, never finished.
    left = {
        "channel_id": activity["channelId"],
        "conversation_id": activity["conversation"]["id"],
        "activity_id": activity["id"],
    }
    assert await claim_delivery(sessions, **left) is Claim.first
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        # Within the lease the activity may still be answered there: try again shortly.
        busy = await client.post("/api/messages", json=activity)
        assert busy.status == 503
        assert busy.headers["Retry-After"] == "1"
        assert (await busy.json())["error"]["code"] == "ActivityInFlight"

        await _claimed_ago(sessions, CLAIM_LEASE + timedelta(seconds=1))
        retried = await client.post("/api/messages", json=activity)
        assert retried.status == 200
        [reply] = (await retried.json())["activities"]
        assert "All commands" in card_text(reply["attachments"][0]["content"])

        # Answered now: a further delivery is a redelivery, dropped without an answer.
        again = await client.post("/api/messages", json=activity)
        assert again.status in (200, 201)
        body = await again.text()
        assert "All commands" not in body
