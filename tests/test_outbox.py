"""The outbox against a fake Teams connector: nothing lost, nothing twice, no limit broken."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.connector import Connector, TokenProvider
from bot.offloop import BlockingWorker
from bot.sender import OutboxSender
from bot.settings import Settings
from storage.conversations import save_reference
from storage.engine import create_engine, session_factory
from storage.models import Delivery, Person, SendThrottle, Trust
from storage.outbox import GONE, SENT, UNCONFIRMED, enqueue
from tests.conftest import POSTGRES_URL, _truncate
from tests.fake_teams import FakeTeams, fake_teams

RATE = 200.0


def _connector() -> Connector:
    settings = Settings(_env_file=None)
    return Connector(TokenProvider(settings, BlockingWorker("test-tokens")))


async def _queue(
    sessions: async_sessionmaker[AsyncSession],
    teams: FakeTeams,
    *,
    recipients: int,
    per_recipient: int,
) -> int:
    """A trust whose people have installed Waypoint, with messages queued for each."""
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        trust = Trust(tenant_id="outbox-tenant", name="Outbox Trust")
        session.add(trust)
        await session.flush()
        people = [
            Person(
                trust_id=trust.id,
                aad_object_id=f"p{n}",
                email=f"p{n}@x.org",
                display_name=f"Person {n:04d}",
            )
            for n in range(recipients)
        ]
        session.add_all(people)
        await session.flush()
        for person in people:
            await save_reference(
                session,
                trust_id=trust.id,
                person_id=person.id,
                conversation_id=f"a:{person.aad_object_id}",
                conversation_type="personal",
                channel_id="msteams",
                service_url=teams.url,
                bot_id="28:waypoint",
                reference={},
            )
            for k in range(per_recipient):
                await enqueue(
                    session,
                    trust_id=trust.id,
                    kind=f"notice-{k}",
                    period="2026-W47",
                    recipient_id=person.id,
                    payload={"text": f"delivery {person.id}/{k}"},
                    now=now,
                )
    return recipients * per_recipient


async def _statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {status: int(count) for status, count in rows}


async def _drain(sender: OutboxSender, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Run the sender until nothing is pending (retries come due within seconds)."""
    for _ in range(200):
        await sender.run_once()
        if (await _statuses(sessions)).get("pending", 0) == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("deliveries still pending")


async def test_a_thousand_deliveries_end_sent_or_gone_once_each_within_limits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with fake_teams(
        tenant_rate=RATE, unavailable_share=0.04, throttle_share=0.01, gone={"a:p3", "a:p77"}
    ) as teams:
        total = await _queue(sessions, teams, recipients=250, per_recipient=4)
        connector = _connector()
        sender = OutboxSender(sessions, connector, tenant_rate=RATE, concurrency=8, max_attempts=10)
        try:
            await _drain(sender, sessions)
        finally:
            await connector.close()
    statuses = await _statuses(sessions)
    assert total == 1000
    assert statuses == {SENT: 992, GONE: 8}
    assert teams.violations == []
    # Sent once each: every delivered text arrived exactly once.
    assert len(teams.received) == 992 and set(teams.received.values()) == {1}
    # A recipient who blocked the app is asked once, then never again.
    assert teams.requests_to["a:p3"] == 1 and teams.requests_to["a:p77"] == 1
    assert teams.injected[503] > 0 and teams.injected[429] > 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SendThrottle)) == 1


async def test_enqueueing_the_same_period_twice_queues_it_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with fake_teams(tenant_rate=RATE) as teams:
        await _queue(sessions, teams, recipients=3, per_recipient=1)
        async with sessions.begin() as session:
            person_id = await session.scalar(select(Person.id).limit(1))
            assert person_id is not None
            again = await enqueue(
                session,
                trust_id=1,
                kind="notice-0",
                period="2026-W47",
                recipient_id=person_id,
                payload={"text": "again"},
                now=datetime.now(UTC),
            )
    assert again is False
    assert sum((await _statuses(sessions)).values()) == 3


async def test_a_sender_stopped_mid_run_and_started_again_sends_the_rest_none_twice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with fake_teams(tenant_rate=RATE) as teams:
        total = await _queue(sessions, teams, recipients=100, per_recipient=3)
        connector = _connector()
        try:
            first = asyncio.create_task(
                OutboxSender(sessions, connector, tenant_rate=RATE).run_once()
            )
            while sum(teams.received.values()) < 60:  # noqa: ASYNC110 (the fake server only counts)
                await asyncio.sleep(0.01)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            assert 60 <= sum(teams.received.values()) < total
            later = datetime.now(UTC) + timedelta(minutes=6)
            restarted = OutboxSender(sessions, connector, tenant_rate=RATE, clock=lambda: later)
            await _drain(restarted, sessions)
        finally:
            await connector.close()
    statuses = await _statuses(sessions)
    assert set(teams.received.values()) == {1}
    # Rows the stopped sender held mid-send are never sent again: unconfirmed.
    assert statuses.get(SENT, 0) + statuses.get(UNCONFIRMED, 0) == total
    assert statuses.get(UNCONFIRMED, 0) <= 8
    assert sum(teams.received.values()) >= statuses[SENT]


async def test_two_senders_on_postgresql_never_send_one_row_twice(postgres_schema: str) -> None:
    """SQLite runs one sender; this is PostgreSQL's FOR UPDATE SKIP LOCKED at work."""
    await _truncate(POSTGRES_URL, postgres_schema)
    engines: list[AsyncEngine] = [
        create_engine(POSTGRES_URL, schema=postgres_schema) for _ in range(2)
    ]
    sessions = [session_factory(engine) for engine in engines]
    try:
        async with fake_teams(tenant_rate=2 * RATE) as teams:
            total = await _queue(sessions[0], teams, recipients=200, per_recipient=2)
            connectors = [_connector(), _connector()]
            try:
                runs = await asyncio.gather(
                    *(
                        OutboxSender(s, c, tenant_rate=RATE).run_once()
                        for s, c in zip(sessions, connectors, strict=True)
                    )
                )
            finally:
                for connector in connectors:
                    await connector.close()
        assert all(run.sent > 0 for run in runs)
        assert sum(run.sent for run in runs) == total
        assert len(teams.received) == total and set(teams.received.values()) == {1}
        assert set(runs[0].outcomes).isdisjoint(runs[1].outcomes)
    finally:
        for engine in engines:
            await engine.dispose()
