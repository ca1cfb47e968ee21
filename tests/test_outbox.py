"""The outbox against a fake Teams connector: nothing lost, nothing twice, no limit broken."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from tests.fake_teams import CONVERSATION_LIMITS, FakeTeams, fake_teams

# The sender's rate for the tenant: under Teams' 50 a second, with room for jitter.
RATE = 45.0


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
        unavailable_share=0.04, throttle_share=0.01, gone={"a:p3", "a:p77"}
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
    async with fake_teams() as teams:
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
    async with fake_teams() as teams:
        total = await _queue(sessions, teams, recipients=100, per_recipient=3)
        connector = _connector()
        try:
            first = asyncio.create_task(
                OutboxSender(sessions, connector, tenant_rate=RATE).run_once()
            )
            async with asyncio.timeout(60):
                while sum(teams.received.values()) < 60:  # noqa: ASYNC110 (the fake only counts)
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
        async with fake_teams() as teams:
            total = await _queue(sessions[0], teams, recipients=200, per_recipient=2)
            connectors = [_connector(), _connector()]
            try:
                runs = await asyncio.gather(
                    *(
                        # Two senders of one tenant share its limit.
                        OutboxSender(s, c, tenant_rate=RATE / 2).run_once()
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


async def test_twenty_five_notices_to_one_person_keep_within_teams_limits_per_conversation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Teams' smallest limit is 7 a second per conversation: 25 queued for one person
    (say a term's reminders at once) must be spread out, not sent as fast as claimed."""
    async with fake_teams() as teams:
        total = await _queue(sessions, teams, recipients=1, per_recipient=25)
        connector = _connector()
        try:
            await _drain(OutboxSender(sessions, connector, tenant_rate=RATE), sessions)
        finally:
            await connector.close()
    assert teams.violations == []
    assert await _statuses(sessions) == {SENT: total}
    assert teams.requests_to["a:p0"] == total == 25
    assert set(teams.received.values()) == {1}
    # The fake holds Teams' own figures, so it can catch a sender that keeps to its own.
    assert CONVERSATION_LIMITS[0] == (7, 1.0)


class SlowToStop(Connector):
    """A connector whose sends, once stopped, take a while to wind down (as a real one
    closes its connection and the store's driver finishes a statement under way)."""

    def __init__(self) -> None:
        super().__init__(TokenProvider(Settings(_env_file=None), BlockingWorker("test-tokens")))
        self.sending = 0
        self.all_sending = asyncio.Event()
        self.wound_down = asyncio.Event()

    async def send(self, **_: object) -> dict[str, object]:  # type: ignore[override]
        self.sending += 1
        if self.sending == 2:
            self.all_sending.set()
        try:
            await asyncio.Event().wait()
        finally:
            if self.sending == 1:
                await self.wound_down.wait()
            self.sending -= 1
        raise AssertionError("unreachable")


async def test_a_stopped_sender_returns_only_once_every_worker_has_stopped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The first worker to stop must not end the run while another is still at work:
    the run's caller (shutdown, a restarted sender) takes it as over, and a worker
    still inside the store would hold its write transaction past it."""
    async with fake_teams() as teams:
        await _queue(sessions, teams, recipients=2, per_recipient=1)
        connector = SlowToStop()
        try:
            first = asyncio.create_task(
                OutboxSender(sessions, connector, tenant_rate=RATE).run_once()
            )
            async with asyncio.timeout(30):
                await connector.all_sending.wait()
            first.cancel()
            done, _ = await asyncio.wait({first}, timeout=0.5)
            assert not done, "the stopped sender returned while a worker was still stopping"
            connector.wound_down.set()
            async with asyncio.timeout(30):
                with pytest.raises(asyncio.CancelledError):
                    await first
            assert connector.sending == 0
        finally:
            await connector.close()
    # Both were cut on the wire: unconfirmed at once (never resent), not left in
    # "sending" for the next sender to settle minutes later.
    assert await _statuses(sessions) == {UNCONFIRMED: 2}


async def test_a_sender_cancelled_anywhere_leaves_the_sqlite_file_free_for_the_next_writer(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Cancelled mid-statement, a transaction must still end (commit or roll back)
    before the sender stops: otherwise aiosqlite's dropped connection keeps SQLite's
    one write lock until it is collected, and the next writer waits out the busy
    timeout ("database is locked")."""
    path = tmp_path / "waypoint.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    still_locked = []
    try:
        async with fake_teams() as teams:
            await _queue(sessions, teams, recipients=60, per_recipient=5)
            connector = _connector()
            try:
                # Cancellation points spread over claims, sends and their bookkeeping.
                for point in range(60):
                    run = asyncio.create_task(
                        OutboxSender(sessions, connector, tenant_rate=1000).run_once()
                    )
                    await asyncio.sleep((point % 12) * 0.004)
                    run.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await run
                    writer = sqlite3.connect(path, timeout=0.3, isolation_level=None)
                    try:
                        writer.execute("BEGIN IMMEDIATE")
                        writer.execute("ROLLBACK")
                    except sqlite3.OperationalError:
                        still_locked.append(point)
                    finally:
                        writer.close()
            finally:
                await connector.close()
    finally:
        await engine.dispose()
    assert still_locked == []
