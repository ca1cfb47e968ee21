"""What the benchmarks' fixes to a turn's cost keep true (bench/README.md, "Profiles and fixes").

- The person behind a turn is read in one statement, with the same reach as before.
- A reply's card goes to the connector as it was rendered, the rest as msrest has it.
- A coaching save shows, and sends the coachee, what a fresh read of the session shows.
- On SQLite a read takes no write lock, so it never waits for a writer; the writers of
  one process queue on an asyncio lock, not in SQLite's busy handler.
- The sender starts a claimer for each row due (up to its concurrency), not always eight.
(The digest's one INSERT for the week is in tests/test_digest.py.)
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, Attachment, HeroCard
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapter import serialize_activity
from bot.connector import Connector, TokenProvider
from bot.offloop import BlockingWorker
from bot.sender import OutboxSender
from bot.settings import Settings
from cards.render import ADAPTIVE_CARD, render_card
from storage.conversations import save_reference
from storage.directory import Actor, KnownTrust, actor_for, who_is
from storage.models import CoachingStrand, Person, Role, Trust
from storage.outbox import Claimed, claim_next, enqueue
from storage.strands import set_strands
from tests.support import (
    ADMIN,
    HEAD,
    SUBJECT_LEAD,
    TEACHER,
    TENANT,
    TRUST_LEAD,
    cards_in,
    loopback_connector,
    message,
    role_rows,
    seed_trust,
    serve_waypoint,
)

COACH = "dddddddd-0000-4000-8000-000000000001"
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


async def test_the_actor_is_read_in_one_statement_with_the_reach_of_its_rows(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    async with sessions.begin() as session:
        both = [seeded.school_ids["100001"], seeded.school_ids["100002"]]
        # Someone with two roles at two schools, and someone with none at all yet.
        many = Person(
            trust_id=seeded.trust_id, aad_object_id="m" * 8, email="m@x", display_name="M"
        )
        many.roles = role_rows(["head", "coach"], both)
        bare = Person(
            trust_id=seeded.trust_id, aad_object_id="b" * 8, email="b@x", display_name="B"
        )
        session.add_all([many, bare])
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async with sessions() as session:
        trust = await session.get(Trust, seeded.trust_id)
        assert trust is not None
        for aad in (HEAD, TEACHER, ADMIN, TRUST_LEAD, SUBJECT_LEAD, "m" * 8, "b" * 8):
            person = await session.scalar(select(Person).where(Person.aad_object_id == aad))
            assert person is not None
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            try:
                actor = await actor_for(session, trust=trust, aad_object_id=f" {aad.upper()} ")
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count)
            assert len(statements) == 1
            statements.clear()
            assert actor is not None
            assert (actor.person_id, actor.display_name) == (person.id, person.display_name)
            assert actor.roles == {Role(r.role) for r in person.roles}
            # Each role where it is held: at its school, or for the trust.
            assert actor.trust_roles == {Role(r.role) for r in person.roles if r.school_id is None}
            assert actor.school_roles == {
                school_id: {Role(r.role) for r in person.roles if r.school_id == school_id}
                for school_id in {r.school_id for r in person.roles if r.school_id is not None}
            }
            assert actor.subjects == {s.subject for s in person.subjects}
        assert await actor_for(session, trust=trust, aad_object_id="nobody") is None
    subject_lead = seeded.person_ids[SUBJECT_LEAD]
    async with sessions() as session:
        trust = await session.get(Trust, seeded.trust_id)
        assert trust is not None
        actor = await actor_for(session, trust=trust, aad_object_id=SUBJECT_LEAD)
    assert actor is not None and actor.person_id == subject_lead
    assert actor.roles == {Role.subject_lead, Role.teacher} and actor.subjects == {"History"}


async def test_who_writes_from_a_tenant_is_read_in_one_statement_trust_included(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async with sessions() as session:
        trust = await session.get(Trust, seeded.trust_id)
        assert trust is not None
        cases = [(TENANT, HEAD), (TENANT, "nobody"), (TENANT, None), ("elsewhere", HEAD)]
        seen: list[Actor | KnownTrust | None] = []
        for tenant, aad in cases:
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            try:
                seen.append(await who_is(session, tenant_id=tenant, aad_object_id=aad))
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count)
            assert len(statements) == 1
            statements.clear()
        assert seen[0] == await actor_for(session, trust=trust, aad_object_id=HEAD)
    known = KnownTrust(trust_id=seeded.trust_id, trust_name="Test Trust")
    assert seen[1:] == [known, known, None]


def _reply(content: Any) -> Activity:
    activity = MessageFactory.attachment(
        Attachment(content_type=ADAPTIVE_CARD, content=content), text="Here you are"
    )
    incoming = Activity().deserialize(message("x"))
    activity.conversation = incoming.conversation
    activity.recipient = incoming.from_property
    activity.from_property = incoming.recipient
    activity.reply_to_id = incoming.id
    activity.service_url = incoming.service_url
    return activity


def test_a_reply_is_serialised_as_msrest_would_with_its_card_as_rendered() -> None:
    card = render_card(
        "notice",
        title='A "quoted" title — é',
        text="Line one\nline two",
        facts=[("Due", "1 December 2026")],
        buttons=[{"title": "Help", "command": "help"}],
    )
    for activity in (
        _reply(card),
        _reply(HeroCard(title="not a dict: msrest serialises it")),
        MessageFactory.text("just text"),
    ):
        expected = activity.serialize()
        assert json.dumps(serialize_activity(activity), sort_keys=True) == json.dumps(
            expected, sort_keys=True
        )
        # The activity itself is left as it was.
        assert activity.serialize() == expected
    assert serialize_activity(_reply(card))["attachments"][0]["content"] is card


async def test_a_saved_session_shows_and_sends_what_a_fresh_read_shows(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_trust(sessions)
    oakfield = seeded.school_ids["100001"]
    async with sessions.begin() as session:
        coach = Person(
            trust_id=seeded.trust_id, aad_object_id=COACH, email="c@x", display_name="Cara Coach"
        )
        coach.roles = role_rows(["coach", "teacher"], [oakfield])
        session.add(coach)
        await set_strands(session, trust_id=seeded.trust_id, names=["Retrieval practice", "Oracy"])
        oracy = await session.scalar(
            select(CoachingStrand.id).where(CoachingStrand.name == "Oracy")
        )
    async with (
        loopback_connector() as connector,
        serve_waypoint(engine, Settings(_env_file=None)) as (client, waypoint),
    ):
        waypoint.bot.clock = lambda: NOW
        async with sessions.begin() as session:
            await save_reference(
                session,
                trust_id=seeded.trust_id,
                person_id=seeded.person_ids[TEACHER],
                conversation_id="a:tom",
                conversation_type="personal",
                channel_id="msteams",
                service_url=connector.url,
                bot_id="28:waypoint-bot",
                reference={},
            )

        async def submit(data: dict[str, Any]) -> dict[str, Any]:
            response = await client.post(
                "/api/messages", json=message("", user=COACH, expect_replies=True, value=data)
            )
            assert response.status == 200
            [card] = cards_in((await response.json())["activities"])
            return card

        saved = await submit(
            {
                "verb": "coaching.save",
                "form_id": "ab" * 16,
                "coachee": str(seeded.person_ids[TEACHER]),
                "held_on": "2026-11-17",
                "status": "held",
                "strand": str(oracy),
                "action_step": "Cold call after think time",
                "notes": "Private notes",
                "next_session_on": "2026-12-01",
            }
        )
        session_id = saved["actions"][0]["data"]["session_id"]
        opened = await submit({"verb": "coaching.view", "session_id": session_id})
        await waypoint.notifier.drain()

    def facts(card: dict[str, Any]) -> list[tuple[str, str]]:
        [fact_set] = [item for item in card["body"] if item["type"] == "FactSet"]
        return [(f["title"], f["value"]) for f in fact_set["facts"]]

    assert facts(saved) == facts(opened)
    assert ("Teacher", "Tom Teacher") in facts(saved) and ("Coach", "Cara Coach") in facts(saved)
    assert ("Focus", "Oracy") in facts(saved)
    [posted] = connector.posted
    step = json.dumps(cards_in([posted["activity"]])[0])
    assert "Cold call after think time" in step and "Private notes" not in step


async def test_a_read_does_not_wait_for_a_writer(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """SQLite has one write lock: a read that took it (BEGIN IMMEDIATE) queued behind
    every writer. A read now sees the last committed state while a write is open."""
    seeded = await seed_trust(sessions)
    async with sessions() as session:
        committed = await session.scalar(select(Trust.name).where(Trust.id == seeded.trust_id))
    async with sessions.begin() as writing:
        writing.add(Trust(tenant_id="other-tenant", name="Trust being added"))
        await writing.flush()

        async def read() -> list[str]:
            async with sessions() as session:
                return list(await session.scalars(select(Trust.name).order_by(Trust.id)))

        # Were the read to wait for the writer, it would wait for this block to end.
        seen = await asyncio.wait_for(read(), timeout=10)
        assert seen == [committed]
    async with sessions() as session:
        names = set(await session.scalars(select(Trust.name)))
    assert names == {committed, "Trust being added"}


async def test_the_sender_starts_a_claimer_for_each_row_due_and_no_more(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each claim is a write transaction: a single notice woke eight of them."""
    seeded = await seed_trust(sessions)
    claims: list[bool] = []

    async def counted(*args: Any, **kwargs: Any) -> Claimed | None:
        claimed = await claim_next(*args, **kwargs)
        claims.append(claimed is not None)
        return claimed

    monkeypatch.setattr("bot.sender.claim_next", counted)
    async with loopback_connector() as connector:
        teacher, head = seeded.person_ids[TEACHER], seeded.person_ids[HEAD]
        async with sessions.begin() as session:
            for person_id in (teacher, head):
                await save_reference(
                    session,
                    trust_id=seeded.trust_id,
                    person_id=person_id,
                    conversation_id=f"a:{person_id}",
                    conversation_type="personal",
                    channel_id="msteams",
                    service_url=connector.url,
                    bot_id="28:waypoint-bot",
                    reference={},
                )
        sending = Connector(TokenProvider(Settings(_env_file=None), BlockingWorker("tokens")))
        sender = OutboxSender(sessions, sending, concurrency=8)

        async def queue(kind: str, *people: int) -> None:
            async with sessions.begin() as session:
                for person_id in people:
                    await enqueue(
                        session,
                        trust_id=seeded.trust_id,
                        kind=kind,
                        period="2026-W47",
                        recipient_id=person_id,
                        payload={"text": f"{kind} for {person_id}"},
                        now=NOW,
                    )

        try:
            await queue("one", teacher)
            first = await sender.run_once()
            # One claimer: it takes the notice, then finds nothing more.
            assert (first.sent, claims) == (1, [True, False])
            claims.clear()
            assert (await sender.run_once()).sent == 0 and claims == []
            await queue("two", teacher, head)
            second = await sender.run_once()
            # Two rows due, two claimers: each takes one and ends on one empty claim.
            assert second.sent == 2 and sorted(claims) == [False, False, True, True]
        finally:
            await sending.close()
    texts = sorted(p["activity"]["text"] for p in connector.posted)
    assert texts == sorted([f"one for {teacher}", f"two for {teacher}", f"two for {head}"])


async def test_writers_of_one_process_take_turns_without_sqlites_busy_wait(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A writer that finds SQLite's file locked sleeps in its busy handler, however soon
    the lock is free again. With no busy wait allowed at all (busy_timeout 0, which
    fails a writer at once on a locked file), twenty writers at once still all commit:
    they queue in the process, not on the file. On PostgreSQL (no wait for a lock
    either: lock_timeout 1 ms) they write side by side, each on a connection of the
    pool, and all commit too."""
    postgres = engine.dialect.name == "postgresql"

    def no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET lock_timeout = 1" if postgres else "PRAGMA busy_timeout=0")
        cursor.close()

    await engine.dispose()
    event.listen(engine.sync_engine, "connect", no_busy_wait)
    try:

        async def add(n: int) -> None:
            async with sessions.begin() as session:
                session.add(Trust(tenant_id=f"tenant-{n}", name=f"Trust {n}"))
                await session.flush()
                # Hold the lock across a turn of the loop, as a real write does.
                await asyncio.sleep(0)
                await session.scalar(select(Trust.id).where(Trust.tenant_id == f"tenant-{n}"))

        await asyncio.gather(*(add(n) for n in range(20)))
    finally:
        event.remove(engine.sync_engine, "connect", no_busy_wait)
    async with sessions() as session:
        names = set(await session.scalars(select(Trust.name)))
    assert names == {f"Trust {n}" for n in range(20)}
