"""What a turn costs the store, counted, not timed (issue 18, item 1).

Each turn below is posted to the real app and the statements it runs are counted
with an SQLAlchemy event listener, on SQLite and PostgreSQL. The counts are pinned:
a change that adds a statement or a transaction to a turn fails here, and one that
removes one updates the table (so the next change cannot quietly take it back).

Only the turn's own statements count: the sender, woken by a queued notice, runs
in a task of its own (its claim and post are the notice's cost, not the turn's).
`BEGIN`/`COMMIT` (emitted as SQL on SQLite) are transactions, not statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import Sessions, TurnSessions
from storage.models import Trust
from tests.support import HEAD, TEACHER, Served, cards_in, loopback_connector, message, serve
from tests.test_coaching import COACH, NOW, SETTINGS, World, seed_coaching

# The turn's own work, (statements, transactions): it starts with one statement, its
# trust's row with its directory version and settings, the person and the trust's
# term dates coming from this replica's cache (storage/directory_cache.py); a
# read-only turn's reads all share one read transaction (storage/engine.py
# `TurnSessions`). Issue 18 asks for at most 3 statements in one read transaction:
# category and my actions; coaching coverage (each school with its counts in one
# statement, then the strands); QA status (the schools, their subject leads and the
# term's summaries as one UNION ALL, storage/qa_compliance.py; which term it is comes
# from the cached calendar); help, a head's home card with its live counts
# (storage/home.py): its single counts (overdue actions, teachers due a session, open
# concerns) as scalar subqueries of one SELECT, then its schools with their counts
# and current category in one. A coaching save is one write transaction of 6: who is
# asking, the coachee and the strand checked, the session stored once, the coachee's
# chat looked up and the notice queued (its verb says it writes, so the sender is
# identified inside it: dialogs/registry.py `Verb.writes`, storage/engine.py
# `TurnSessions.writing`).
BUDGET: dict[str, tuple[int, int]] = {
    "category oakfield": (3, 1),
    "my actions": (3, 1),
    "qa status": (2, 1),
    "coaching coverage": (3, 1),
    "help": (3, 1),
    "coaching save": (6, 1),
}
# Counted apart from the turn's own work: every turn claims its activity first (one
# INSERT … ON CONFLICT, its own write transaction) and marks it finished last (an
# UPDATE, another); storage/deliveries.py says why they cannot share the turn's
# transaction. A redelivery costs the claim's one statement, which finds the
# activity finished.
BOOKKEEPING = (2, 2)
REDELIVERY = (1, 1)
# What each turn's answer shows first, so a cheaper turn is still the same turn.
SHOWS = {
    "category oakfield": "Oakfield Primary has no category yet",
    "my actions": "Your open actions",
    "qa status": "QA summaries at Oakfield Primary",
    "coaching coverage": "Coaching coverage — Oakfield Primary",
    "help": "What I can do for you, Hana",
    "coaching save": "Coaching session saved",
}
_BOUNDARIES = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0

    @property
    def cost(self) -> tuple[int, int]:
        return len(self.statements), self.transactions


@dataclass
class Meter:
    """Counts what the turn's own task runs on the engine. Made before the app is
    served (then given its `world`): its listeners are added once, before the sender
    runs, since adding one while the sender's transaction was running its `begin`
    listeners broke that transaction ("deque mutated during iteration"). Only the
    turn's task is counted, so they may stay for the engine's (the test's) life."""

    engine: AsyncEngine
    world: Served | None = None
    turn_task: asyncio.Task[Any] | None = None
    counted: Counted = field(default_factory=Counted)

    def __post_init__(self) -> None:
        sync = self.engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "begin", self._begin)

    def _mine(self) -> bool:
        try:
            return asyncio.current_task() is self.turn_task
        except RuntimeError:
            return False

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        text = " ".join(statement.split())
        if self._mine() and text.upper() not in _BOUNDARIES:
            self.counted.statements.append(text)

    def _begin(self, _conn: Any) -> None:
        if self._mine():
            self.counted.transactions += 1

    async def post(self, body: dict[str, Any]) -> tuple[Counted, list[dict[str, Any]]]:
        assert self.world is not None, "serve the app, then give the meter its world"
        bot = self.world.waypoint.bot
        on_turn = bot.on_turn

        async def marked(context: Any) -> None:
            self.turn_task = asyncio.current_task()
            await on_turn(context)

        self.counted = Counted()
        bot.on_turn = marked  # type: ignore[method-assign]
        try:
            response = await self.world.post(body)
            assert response.status == 200, await response.text()
            answer = await response.json() if response.content_length else {}
        finally:
            bot.on_turn = on_turn  # type: ignore[method-assign]
            self.turn_task = None
        return self.counted, list(answer.get("activities", []))


@pytest.fixture
async def meter(engine: AsyncEngine, sessions: Sessions) -> AsyncIterator[Meter]:
    seeded, strands = await seed_coaching(sessions)
    meter = Meter(engine)
    async with (
        loopback_connector() as connector,
        serve(
            engine, sessions, seeded, settings=SETTINGS, now=NOW, kind=World, strands=strands
        ) as world,
    ):
        # Tom has a chat, so the coaching save queues his notice.
        await world.install_chat(TEACHER, connector.url)
        meter.world = world
        # A replica that has served someone once keeps who they are while their
        # trust's directory stands still (storage/directory_cache.py): the budgets
        # are a running replica's, and the first turn's extra statement (reading the
        # person) is tests/test_directory_cache.py's.
        for user in (HEAD, COACH):
            await meter.post(message("help", user=user, expect_replies=True))
        yield meter
        await world.waypoint.notifier.drain()


def _body(meter: Meter, turn: str) -> dict[str, Any]:
    if turn != "coaching save":
        return message(turn, user=HEAD, expect_replies=True)
    world = meter.world
    assert isinstance(world, World)
    data = {
        "verb": "coaching.save",
        "form_id": "ab" * 16,
        "coachee": str(world.people[TEACHER]),
        "held_on": "2026-11-17",
        "status": "held",
        "strand": str(world.strands["Oracy"]),
        "action_step": "Cold call after think time",
        "notes": "Private notes",
        "next_session_on": "2026-12-01",
    }
    return message("", user=COACH, expect_replies=True, value=data)


def _explain(turn: str, counted: Counted, budget: tuple[int, int]) -> str:
    lines = "\n".join(f"  {s[:150]}" for s in counted.statements)
    return f"{turn}: {counted.cost} (statements, transactions), budget {budget}\n{lines}"


@pytest.mark.parametrize("turn", list(SHOWS))
async def test_a_turn_runs_its_budget_of_statements(meter: Meter, turn: str) -> None:
    counted, activities = await meter.post(_body(meter, turn))
    [card] = cards_in(activities)
    assert SHOWS[turn] in card["body"][0]["text"]
    # The claim first, its finish last; the turn's own work between them.
    claim, *_, finish = counted.statements
    assert claim.startswith("INSERT INTO processed_activity"), claim
    assert finish.startswith("UPDATE processed_activity"), finish
    statements, transactions = BUDGET[turn]
    budget = (statements + BOOKKEEPING[0], transactions + BOOKKEEPING[1])
    assert counted.cost == budget, _explain(turn, counted, budget)


async def test_a_redelivered_activity_runs_its_budget_of_statements(meter: Meter) -> None:
    body = message("my actions", user=HEAD, expect_replies=True)
    _, first = await meter.post(body)
    assert cards_in(first)
    counted, again = await meter.post(body)
    # Answered once: the redelivery gets nothing.
    assert again == []
    assert counted.cost == REDELIVERY, _explain("redelivery", counted, REDELIVERY)


async def test_a_turn_that_writes_reads_its_own_write_and_keeps_all_or_nothing(
    sessions: Sessions,
) -> None:
    """A coaching save's one write transaction (`TurnSessions.writing`): the turn's
    reads see what it wrote, nobody else does before it commits, and a failure keeps
    nothing of it."""
    turn = TurnSessions(sessions)

    async def name_of(tenant_id: str) -> str | None:
        async with sessions() as other:
            return await other.scalar(select(Trust.name).where(Trust.tenant_id == tenant_id))

    async with turn.writing():
        async with turn.begin() as session:
            session.add(Trust(tenant_id="written", name="Written"))
        async with turn() as session:
            seen = await session.scalar(select(Trust.name).where(Trust.tenant_id == "written"))
        assert seen == "Written"
        assert await name_of("written") is None
    assert await name_of("written") == "Written"

    with pytest.raises(RuntimeError):
        async with turn.writing():
            async with turn.begin() as session:
                session.add(Trust(tenant_id="lost", name="Lost"))
                await session.flush()
            raise RuntimeError("the turn failed after its write")
    assert await name_of("lost") is None
