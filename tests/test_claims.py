"""An activity is answered once across replicas, and a replica killed mid-turn does not
lose it: its unfinished claim is taken over by the channel's retry after the lease."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage.deliveries import (
    CLAIM_LEASE,
    Claim,
    claim_delivery,
    claim_token,
    finish_delivery,
    release_delivery,
)
from storage.engine import create_engine, session_factory
from storage.models import ProcessedActivity
from storage.models.base import utcnow
from tests.support import card_text, message, seed_trust, serve_waypoint

SETTINGS = Settings(_env_file=None)
KEY = {"channel_id": "msteams", "conversation_id": "a:chat", "activity_id": "act-1"}


async def _claimed_ago(
    sessions: async_sessionmaker[AsyncSession], ago: timedelta, since: datetime | None = None
) -> None:
    """Every claim made `ago` before now (or before `since`)."""
    async with sessions.begin() as session:
        await session.execute(
            update(ProcessedActivity).values(received_at=(since or utcnow()) - ago)
        )


async def _claim(sessions: async_sessionmaker[AsyncSession], token: str | None = None) -> Claim:
    """A turn's claim of KEY, under a token of its own unless given one."""
    return await claim_delivery(sessions, **KEY, token=token or claim_token())


async def test_a_claim_is_first_then_in_flight_then_handled_once_finished(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    mine = claim_token()
    assert await _claim(sessions, mine) is Claim.first
    assert await _claim(sessions) is Claim.in_flight
    await finish_delivery(sessions, **KEY, token=mine)
    assert await _claim(sessions) is Claim.handled
    # A finished activity stays handled however old its claim.
    await _claimed_ago(sessions, CLAIM_LEASE * 2)
    assert await _claim(sessions) is Claim.handled


async def test_an_unfinished_claim_past_its_lease_is_taken_over_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await _claim(sessions) is Claim.first
    await _claimed_ago(sessions, CLAIM_LEASE - timedelta(seconds=2))
    assert await _claim(sessions) is Claim.in_flight
    await _claimed_ago(sessions, CLAIM_LEASE + timedelta(seconds=1))
    # The replica that claimed it is gone: the retry takes it over, and only one retry.
    assert await _claim(sessions) is Claim.first
    assert await _claim(sessions) is Claim.in_flight


async def test_a_hung_turn_ending_late_leaves_the_claim_of_the_turn_that_took_it_over(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    hung, retry = claim_token(), claim_token()
    assert await _claim(sessions, hung) is Claim.first
    await _claimed_ago(sessions, CLAIM_LEASE + timedelta(seconds=1))
    assert await _claim(sessions, retry) is Claim.first
    # The hung turn fails at last: the retry's claim stays, so a third delivery waits.
    await release_delivery(sessions, **KEY, token=hung)
    assert await _claim(sessions) is Claim.in_flight
    # Or it finishes at last: the activity is not handled until the retry's turn is.
    await finish_delivery(sessions, **KEY, token=hung)
    assert await _claim(sessions) is Claim.in_flight
    await finish_delivery(sessions, **KEY, token=retry)
    assert await _claim(sessions) is Claim.handled


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
    assert await claim_delivery(sessions, **left, token=claim_token()) is Claim.first
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


async def _at_once(
    replicas: list[async_sessionmaker[AsyncSession]],
    key: dict[str, str],
    tokens: list[str] | None = None,
) -> list[Claim]:
    tokens = tokens or [claim_token() for _ in replicas]
    return list(
        await asyncio.gather(
            *(claim_delivery(r, **key, token=t) for r, t in zip(replicas, tokens, strict=True))
        )
    )


async def test_replicas_claiming_one_activity_at_once_get_one_first(
    database_url: tuple[str, str | None],
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Of several replicas (engines of their own) claiming one activity at the same
    moment, one answers it and the others hear it is in flight, whether the activity
    is new or its claim was left stale by a replica that died; even when their clocks
    read the same instant (the cluster run saw two replicas claim one redelivered
    activity in the same microsecond, and both answered it)."""
    same_instant = utcnow()
    monkeypatch.setattr("storage.deliveries.utcnow", lambda: same_instant)
    url, schema = database_url
    others = [create_engine(url, schema=schema) for _ in range(3)]
    replicas = [sessions, *(session_factory(engine) for engine in others)]
    try:
        for round_ in range(5):
            key = {**KEY, "activity_id": f"at-once-{round_}"}
            claims = await _at_once(replicas, key)
            assert sorted(claims) == sorted([Claim.first] + [Claim.in_flight] * 3)
            await _claimed_ago(sessions, CLAIM_LEASE + timedelta(seconds=1), since=same_instant)
            tokens = [claim_token() for _ in replicas]
            claims = await _at_once(replicas, key, tokens)
            assert sorted(claims) == sorted([Claim.first] + [Claim.in_flight] * 3)
            winner = claims.index(Claim.first)
            await finish_delivery(replicas[winner], **key, token=tokens[winner])
            assert await _at_once(replicas, key) == [Claim.handled] * 4
    finally:
        for engine in others:
            await engine.dispose()


async def test_more_turns_at_once_than_the_pool_has_connections_are_all_answered(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Each turn holds a pooled connection for its reads and needs another to mark its
    claim finished: with every connection held by a turn's read, they waited for each
    other until the pool timed out (the bench's 16 connections on SQLite's 15)."""
    await seed_trust(sessions)
    # More than either store's pool holds (storage/engine.py: SQLite's default 5 + 10
    # overflow, PostgreSQL's 10 + 10).
    at_once = 30
    async with serve_waypoint(engine, SETTINGS) as (client, _):

        async def turn() -> int:
            response = await client.post("/api/messages", json=message("help", expect_replies=True))
            await response.read()
            return response.status

        async with asyncio.timeout(20):
            statuses = await asyncio.gather(*(turn() for _ in range(at_once)))
    assert statuses == [200] * at_once
