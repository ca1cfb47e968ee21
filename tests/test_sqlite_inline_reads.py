"""On SQLite a turn's reads run on the event loop's thread, everything else on
aiosqlite's (issue 18, item 3; storage/sqlite_inline.py).

Where a statement ran is seen by SQLite itself: each connection's trace callback is
called on the thread that executes the statement (a `before_cursor_execute` listener
would not do: SQLAlchemy's listeners run on the loop's thread either way).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import Sessions, TurnSessions
from storage.models import School, Trust
from tests.support import (
    HEAD,
    TEACHER,
    cards_in,
    loopback_connector,
    message,
    seed_trust,
    serve,
)
from tests.test_coaching import COACH, NOW, SETTINGS, World, seed_coaching

pytestmark = pytest.mark.parametrize("store", ["sqlite"])

# Counts to 300,000 in SQLite's VM: tens of milliseconds, far longer than a lookup.
SLOW = text(
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000) "
    "SELECT count(*) FROM n"
)


@dataclass
class Where:
    """Each statement SQLite ran, with the thread it ran on and its connection."""

    loop: int = field(default_factory=threading.get_ident)
    ran: list[tuple[str, bool, int]] = field(default_factory=list)

    def clear(self) -> None:
        self.ran.clear()

    def on_loop(self, starts: str) -> list[bool]:
        """For each statement starting with `starts`, whether it ran on the loop's thread.

        The outbox's sender, woken in a task of its own when a chat is installed,
        reads and writes `delivery` on the thread meanwhile: not the turn's."""
        return [
            loop
            for sql, loop, _ in self.ran
            if sql.upper().startswith(starts.upper()) and " delivery" not in sql
        ]

    def connections(self) -> set[int]:
        return {conn for *_, conn in self.ran}


@pytest.fixture
def where(engine: AsyncEngine) -> Where:
    seen = Where()

    def trace(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        sqlite = record.driver_connection._conn
        conn = id(sqlite)

        def ran(sql: str) -> None:
            seen.ran.append((" ".join(sql.split()), threading.get_ident() == seen.loop, conn))

        sqlite.set_trace_callback(ran)

    event.listen(engine.sync_engine, "checkout", trace)
    return seen


@pytest.fixture
async def world(engine: AsyncEngine, sessions: Sessions) -> AsyncIterator[World]:
    seeded, strands = await seed_coaching(sessions)
    async with (
        loopback_connector() as connector,
        serve(
            engine, sessions, seeded, settings=SETTINGS, now=NOW, kind=World, strands=strands
        ) as served,
    ):
        await served.install_chat(TEACHER, connector.url)
        yield served
        await served.waypoint.notifier.drain()


async def test_a_read_turn_reads_on_the_loop_and_writes_its_claim_on_the_thread(
    world: World, where: Where
) -> None:
    where.clear()
    [card] = cards_in(
        await world.replies(message("category oakfield", user=HEAD, expect_replies=True))
    )
    assert "Oakfield Primary has no category yet" in card["body"][0]["text"]
    reads = where.on_loop("SELECT")
    assert reads and all(reads), where.ran
    # The claim's INSERT and its finish's UPDATE, each in a BEGIN IMMEDIATE of its own.
    assert where.on_loop("INSERT INTO processed_activity") == [False], where.ran
    assert where.on_loop("UPDATE processed_activity") == [False], where.ran
    assert not any(where.on_loop("BEGIN IMMEDIATE")), where.ran


async def test_a_turn_that_writes_runs_all_of_it_on_the_thread(world: World, where: Where) -> None:
    data = {
        "verb": "coaching.save",
        "form_id": "cd" * 16,
        "coachee": str(world.people[TEACHER]),
        "held_on": "2026-11-17",
        "status": "held",
        "strand": str(world.strands["Oracy"]),
        "action_step": "Cold call after think time",
        "notes": "Private notes",
        "next_session_on": "2026-12-01",
    }
    where.clear()
    [card] = cards_in(await world.replies(message("", user=COACH, expect_replies=True, value=data)))
    assert "Coaching session saved" in card["body"][0]["text"]
    # Who is asking is read inside the save's write transaction (its BEGIN IMMEDIATE
    # may wait on another process's lock): none of it on the loop.
    assert where.on_loop("SELECT") and not any(where.on_loop("SELECT")), where.ran
    assert where.on_loop("INSERT INTO coaching_session") == [False], where.ran


async def _name(session_factory: Any) -> str | None:
    async with session_factory() as session:
        name: str | None = await session.scalar(select(School.name).where(School.urn == "100001"))
        return name


@pytest.mark.parametrize("failure", ["raised after a read", "a statement failed"])
async def test_a_failed_turn_leaves_no_inline_connection_in_the_pool(
    sessions: Sessions, where: Where, failure: str
) -> None:
    await seed_trust(sessions)
    where.clear()
    turn = TurnSessions(sessions)
    with pytest.raises((RuntimeError, OperationalError)):
        async with turn() as session:
            await session.scalar(select(School.name).where(School.urn == "100001"))
            if failure == "a statement failed":
                await session.execute(text("SELECT * FROM no_such_table"))
            raise RuntimeError("the handler failed")
    await turn.close()
    assert where.on_loop("SELECT")[0], where.ran
    [pooled] = where.connections()

    where.clear()
    await _name(sessions)
    async with sessions.begin() as session:
        await session.execute(update(Trust).values(name="Renamed"))
    # The same pooled connection, back on the thread for a plain read and a write.
    assert where.connections() == {pooled}
    assert where.on_loop("SELECT") == [False], where.ran
    assert where.on_loop("UPDATE trust SET name") == [False], where.ran


async def test_each_turn_reads_a_new_snapshot_that_sees_other_connections_writes(
    sessions: Sessions, where: Where
) -> None:
    await seed_trust(sessions)
    first = TurnSessions(sessions)
    before = await _name(first)
    # Another connection commits while the turn's read is open.
    async with sessions.begin() as session:
        await session.execute(
            update(School).where(School.urn == "100001").values(name="Oakfield Academy")
        )
    # The open read keeps its snapshot; the next turn's read sees the write.
    assert await _name(first) == before != "Oakfield Academy"
    await first.close()
    second = TurnSessions(sessions)
    assert await _name(second) == "Oakfield Academy"
    await second.close()
    assert all(where.on_loop("SELECT")), where.ran


async def test_a_long_read_sends_the_rest_of_its_turn_back_to_the_thread(
    sessions: Sessions, where: Where
) -> None:
    await seed_trust(sessions)
    where.clear()
    turn = TurnSessions(sessions)
    async with turn() as session:
        await session.scalar(select(School.name).where(School.urn == "100001"))
        assert await session.scalar(SLOW) == 300000
        await session.scalar(select(School.name).where(School.urn == "100001"))
    await turn.close()
    # The lookup, the long count, then the lookup again: the loop stalled once.
    assert where.on_loop("SELECT") == [True, False], where.ran
    assert where.on_loop("WITH") == [True], where.ran
