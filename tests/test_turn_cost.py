"""What the benchmarks' fixes to a turn's cost keep true (bench/README.md, "Profiles and fixes").

- The person behind a turn is read in one statement, with the same reach as before.
- A reply's card goes to the connector as it was rendered, the rest as msrest has it.
- A coaching save shows, and sends the coachee, what a fresh read of the session shows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, Attachment, HeroCard
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapter import serialize_activity
from bot.settings import Settings
from cards.render import ADAPTIVE_CARD, render_card
from storage.conversations import save_reference
from storage.directory import actor_for
from storage.models import CoachingStrand, Person, PersonRole, PersonSchool, Role, Trust
from storage.strands import set_strands
from tests.support import (
    ADMIN,
    HEAD,
    SUBJECT_LEAD,
    TEACHER,
    TRUST_LEAD,
    cards_in,
    loopback_connector,
    message,
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
        many.roles = [PersonRole(role="head"), PersonRole(role="coach")]
        many.schools = [PersonSchool(school_id=s) for s in both]
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
            assert actor.school_ids == {s.school_id for s in person.schools}
            assert actor.subjects == {s.subject for s in person.subjects}
        assert await actor_for(session, trust=trust, aad_object_id="nobody") is None
    subject_lead = seeded.person_ids[SUBJECT_LEAD]
    async with sessions() as session:
        trust = await session.get(Trust, seeded.trust_id)
        assert trust is not None
        actor = await actor_for(session, trust=trust, aad_object_id=SUBJECT_LEAD)
    assert actor is not None and actor.person_id == subject_lead
    assert actor.roles == {Role.subject_lead, Role.teacher} and actor.subjects == {"History"}


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
        coach.roles = [PersonRole(role="coach"), PersonRole(role="teacher")]
        coach.schools = [PersonSchool(school_id=oakfield)]
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
