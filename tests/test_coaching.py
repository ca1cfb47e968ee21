"""Coaching over HTTP: what coaches, teachers and heads see, and what is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import Waypoint
from bot.settings import Settings
from storage.coaching.sessions import SessionDetails, record_coaching_session
from storage.conversations import save_reference
from storage.models import (
    AuditEvent,
    CoachingSession,
    CoachingStrand,
    Person,
)
from storage.strands import set_strands
from tests.support import (
    HEAD,
    SUBJECT_LEAD,
    TEACHER,
    TRUST_LEAD,
    card_text,
    cards_in,
    execute,
    loopback_connector,
    message,
    role_rows,
    seed_trust,
    serve_waypoint,
)

SETTINGS = Settings(_env_file=None)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
COACH = "cccccccc-0000-4000-8000-000000000001"
TEACHER_B = "cccccccc-0000-4000-8000-000000000002"
TEACHER_C = "cccccccc-0000-4000-8000-000000000003"
FORM_ID = "0123456789abcdef0123456789abcdef"


@dataclass
class World:
    client: TestClient  # type: ignore[type-arg]
    waypoint: Waypoint
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]
    schools: dict[str, int]
    strands: dict[str, int]

    async def say(self, text: str, user: str = COACH) -> dict[str, Any]:
        response = await self.client.post(
            "/api/messages", json=message(text, user=user, expect_replies=True)
        )
        assert response.status == 200
        [reply] = (await response.json())["activities"]
        return dict(reply)

    async def submit(self, data: dict[str, Any], user: str = COACH, **kw: Any) -> dict[str, Any]:
        """Action.Submit: the card's data merged with its inputs, as the activity's value."""
        response = await self.client.post(
            "/api/messages", json=message("", user=user, expect_replies=True, value=data, **kw)
        )
        assert response.status == 200
        [reply] = (await response.json())["activities"]
        return dict(reply)

    async def execute(self, verb: str, data: dict[str, Any], user: str = COACH) -> dict[str, Any]:
        response = await self.client.post("/api/messages", json=execute(verb, data, user=user))
        assert response.status == 200
        body = await response.json()
        assert body["statusCode"] == 200
        return dict(body)

    async def stored(self) -> list[CoachingSession]:
        async with self.sessions() as session:
            return list(await session.scalars(select(CoachingSession).order_by(CoachingSession.id)))


async def _add_person(
    session: AsyncSession, trust_id: int, aad: str, name: str, roles: list[str], schools: list[int]
) -> int:
    person = Person(
        trust_id=trust_id, aad_object_id=aad, email=f"{aad[:8]}@x.org", display_name=name
    )
    person.roles = role_rows(roles, schools)
    session.add(person)
    await session.flush()
    return person.id


@pytest.fixture
async def world(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[World]:
    seeded = await seed_trust(sessions)
    oakfield = seeded.school_ids["100001"]
    async with sessions.begin() as session:
        people = dict(seeded.person_ids)
        people[COACH] = await _add_person(
            session, seeded.trust_id, COACH, "Cara Coach", ["coach", "teacher"], [oakfield]
        )
        people[TEACHER_B] = await _add_person(
            session, seeded.trust_id, TEACHER_B, "Bea Teacher", ["teacher"], [oakfield]
        )
        people[TEACHER_C] = await _add_person(
            session, seeded.trust_id, TEACHER_C, "Cal Teacher", ["teacher"], [oakfield]
        )
        await set_strands(
            session, trust_id=seeded.trust_id, names=["Retrieval practice", "Oracy", "Modelling"]
        )
        strands = {s.name: s.id for s in await session.scalars(select(CoachingStrand))}
    async with serve_waypoint(engine, SETTINGS) as (client, waypoint):
        waypoint.bot.clock = lambda: NOW
        yield World(client, waypoint, sessions, people, seeded.school_ids, strands)


def _form_data(world: World, **overrides: Any) -> dict[str, Any]:
    data = {
        "verb": "coaching.save",
        "form_id": FORM_ID,
        "coachee": str(world.people[TEACHER]),
        "held_on": "2026-11-17",
        "status": "held",
        "strand": str(world.strands["Oracy"]),
        "action_step": "Use think-pair-share before every whole-class question",
        "notes": "Strong routines; questioning still goes to the same hands.",
        "next_session_on": "2026-12-01",
    }
    data.update(overrides)
    return data


def _inputs(card: dict[str, Any]) -> dict[str, Any]:
    return {item["id"]: item for item in card["body"] if item.get("type", "").startswith("Input.")}


def _error(card: dict[str, Any], field: str) -> str | None:
    for item in card["body"]:
        if item.get("id") == f"error_{field}":
            return str(item["text"])
    return None


async def test_log_coaching_opens_a_form_of_the_coachs_own_teachers(world: World) -> None:
    for typed in ("log coaching", "Log a session", "coaching"):
        [card] = cards_in([await world.say(typed)])
        inputs = _inputs(card)
        names = [c["title"] for c in inputs["coachee"]["choices"]]
        assert names == [
            "Bea Teacher — Oakfield Primary",
            "Cal Teacher — Oakfield Primary",
            "Tom Teacher — Oakfield Primary",
        ], typed
        assert inputs["coachee"]["style"] == "filtered"
        assert inputs["held_on"]["value"] == "2026-11-18"
        assert [c["title"] for c in inputs["strand"]["choices"]] == [
            "Retrieval practice",
            "Oracy",
            "Modelling",
        ]


async def test_a_coach_logs_a_session_and_it_is_stored_and_confirmed(world: World) -> None:
    [card] = cards_in([await world.submit(_form_data(world))])
    shown = card_text(card)
    assert "Coaching session saved" in shown
    assert "Tom Teacher" in shown and "Oracy" in shown
    assert "Use think-pair-share before every whole-class question" in shown
    [row] = await world.stored()
    assert row.coach_id == world.people[COACH]
    assert row.coachee_id == world.people[TEACHER]
    assert row.school_id == world.schools["100001"]
    assert (row.held_on, row.next_session_on, row.status) == (
        date(2026, 11, 17),
        date(2026, 12, 1),
        "held",
    )
    assert row.notes == "Strong routines; questioning still goes to the same hands."


async def test_action_execute_save_answers_with_the_confirmation_card(world: World) -> None:
    body = await world.execute("coaching.save", _form_data(world))
    assert "Coaching session saved" in card_text(body["value"])
    assert len(await world.stored()) == 1


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"action_step": "   "}, "action_step", "Write the one action step"),
        ({"coachee": "SUBJECT"}, "coachee", "from your own schools"),
        ({"held_on": "2028-11-17"}, "held_on", "in the future"),
        ({"notes": "n" * 20_000}, "notes", "limited to 4,000 characters (these are 20000)"),
        ({"held_on": "17/11/2026"}, "held_on", "like 2026-11-22"),
        ({"next_session_on": "2026-11-01"}, "next_session_on", "comes after this one"),
        ({"strand": "999999"}, "strand", "trust's focus strands"),
    ],
)
async def test_invalid_input_comes_back_on_the_card_with_values_kept_and_nothing_stored(
    world: World, change: dict[str, str], field: str, says: str
) -> None:
    if change.get("coachee") == "SUBJECT":
        change = {"coachee": str(world.people[SUBJECT_LEAD])}
    data = _form_data(world, **change)
    [card] = cards_in([await world.submit(data)])
    error = _error(card, field)
    assert error is not None and says in error
    inputs = _inputs(card)
    for key in ("coachee", "held_on", "strand", "action_step", "notes", "next_session_on"):
        assert inputs[key]["value"] == data[key].strip() or inputs[key]["value"] == data[key]
    assert await world.stored() == []


async def test_a_coachee_outside_the_coachs_schools_is_audited(world: World) -> None:
    await world.submit(_form_data(world, coachee=str(world.people[SUBJECT_LEAD])))
    async with world.sessions() as session:
        [event] = (await session.scalars(select(AuditEvent))).all()
    assert (event.action, event.outcome) == ("coaching.save", "refused")


async def test_the_same_submit_twice_and_a_double_click_store_one_session(world: World) -> None:
    data = _form_data(world)
    await world.submit(data, activity_id="same-activity")
    redelivered = await world.client.post(
        "/api/messages",
        json=message("", user=COACH, expect_replies=True, value=data, activity_id="same-activity"),
    )
    # Handled once: the redelivery is acknowledged and answered with nothing.
    assert (await redelivered.json())["activities"] == []
    second = await world.submit(data)  # a double click: a new activity, the same card
    assert "Already saved" in card_text(cards_in([second])[0])
    via_execute = await world.execute("coaching.save", data)
    assert "Already saved" in card_text(via_execute["value"])
    assert len(await world.stored()) == 1


async def test_the_coachee_gets_their_new_action_step(world: World) -> None:
    async with loopback_connector() as connector:
        async with world.sessions.begin() as session:
            await save_reference(
                session,
                trust_id=1,
                person_id=world.people[TEACHER],
                conversation_id="a:tom-personal",
                conversation_type="personal",
                channel_id="msteams",
                service_url=connector.url,
                bot_id="28:waypoint-bot",
                reference={},
            )
        await world.submit(_form_data(world))
        await world.waypoint.notifier.drain()
    [posted] = connector.posted
    assert posted["conversation"] == "a:tom-personal"
    shown = card_text(cards_in([posted["activity"]])[0])
    assert "Your new action step" in shown
    assert "Use think-pair-share before every whole-class question" in shown
    # The notes are for the coach and the teacher in the session, not in a notice.
    assert "Strong routines" not in shown


async def test_the_author_can_edit_for_seven_days_and_not_after(world: World) -> None:
    await world.submit(_form_data(world))
    [row] = await world.stored()
    opened = await world.execute("coaching.edit", {"session_id": row.id})
    inputs = _inputs(opened["value"])
    assert (
        inputs["action_step"]["value"] == "Use think-pair-share before every whole-class question"
    )
    new_form = opened["value"]["actions"][0]["data"]
    assert new_form["session_id"] == row.id and new_form["form_id"] != FORM_ID
    edited = {**new_form, **{k: v["value"] for k, v in inputs.items()}}
    edited["action_step"] = "Wait 5 seconds"
    saved = await world.execute("coaching.save", edited)
    assert "Wait 5 seconds" in card_text(saved["value"])
    [row] = await world.stored()
    assert row.action_step == "Wait 5 seconds"
    # Another coach, or eight days on, may not change it.
    world.waypoint.bot.clock = lambda: NOW + timedelta(days=8)
    late = await world.execute("coaching.edit", {"session_id": row.id})
    assert "within 7 days" in late["value"]
    late_save = await world.execute("coaching.save", dict(edited, action_step="Too late"))
    assert "within 7 days" in late_save["value"]
    [row] = await world.stored()
    assert row.action_step == "Wait 5 seconds"


async def _seed_sessions(world: World) -> None:
    """Oakfield has four teachers: Tom, Bea, Cal and Cara (a coach who teaches)."""
    plan = [
        (TEACHER, TODAY - timedelta(days=5), "held", "Oracy", "secret step one"),
        (TEACHER, TODAY - timedelta(days=50), "held", "Modelling", "secret old step"),
        (TEACHER_B, TODAY - timedelta(days=20), "held", "Retrieval practice", "secret step two"),
        (TEACHER_C, TODAY - timedelta(days=3), "cancelled", "Oracy", ""),
    ]
    async with world.sessions.begin() as session:
        for n, (who, held_on, status, strand, step) in enumerate(plan):
            await record_coaching_session(
                session,
                trust_id=1,
                coach_id=world.people[COACH],
                form_id=f"{n:032x}",
                details=SessionDetails(
                    coachee_id=world.people[who],
                    school_id=world.schools["100001"],
                    held_on=held_on,
                    strand_id=world.strands[strand],
                    status=status,
                    action_step=step,
                    notes=f"private note {n}",
                    next_session_on=None,
                ),
                logged_at=NOW,
            )


async def test_coverage_figures_are_right_and_show_no_content(world: World) -> None:
    await _seed_sessions(world)
    [card] = cards_in([await world.say("coaching coverage", user=HEAD)])
    shown = card_text(card)
    row = next(
        i for i in card["body"] if i["type"] == "ColumnSet" and "Oakfield Primary" in card_text(i)
    )
    # 4 teachers; coached in 2 weeks: Tom (1) = 25%; in 6 weeks: Tom, Bea = 50%;
    # 2 held in 6 weeks = 0.5 per teacher; 1 cancelled of 3 = 33%.
    assert [c["items"][0]["text"] for c in row["columns"]] == [
        "Oakfield Primary",
        "4",
        "25%",
        "50%",
        "0.5",
        "33%",
    ]
    assert "Oracy" in shown and "Retrieval practice" in shown
    assert "secret" not in shown and "private note" not in shown


async def test_trust_leads_see_every_school_and_any_one(world: World) -> None:
    await _seed_sessions(world)
    [whole] = cards_in([await world.say("coaching coverage", user=TRUST_LEAD)])
    assert "Oakfield Primary" in card_text(whole) and "St Mary's C of E" in card_text(whole)
    [one] = cards_in([await world.say("coaching coverage oakfeld", user=TRUST_LEAD)])
    assert "Coaching coverage — Oakfield Primary" in card_text(one)


async def test_a_head_is_refused_another_schools_coverage_and_teachers_any(world: World) -> None:
    refused = await world.say("coaching coverage st marys", user=HEAD)
    assert refused["text"] == "You don't have access to coaching coverage for St Mary's C of E."
    teacher = await world.say("coaching coverage", user=TEACHER)
    assert teacher["text"].startswith("You don't have access to Coaching coverage")


async def test_my_coaching_for_a_teacher_and_for_a_coach(world: World) -> None:
    await _seed_sessions(world)
    [mine] = cards_in([await world.say("my coaching", user=TEACHER)])
    shown = card_text(mine)
    assert "Your current action step" in shown and "secret step one" in shown
    [coach] = cards_in([await world.say("my coaching", user=COACH)])
    shown = card_text(coach)
    assert "Sessions you led" in shown and "Tom Teacher" in shown
    # Bea's last session was 20 days ago, past the 14-day interval; Tom's was 5.
    assert "Due a session" in shown and "Bea Teacher" in shown
    due = next(i for i in coach["body"] if i.get("type") == "FactSet")
    assert [f["title"] for f in due["facts"]] == ["Bea Teacher"]


async def test_a_teacher_asking_for_another_teachers_session_is_refused(world: World) -> None:
    await _seed_sessions(world)
    theirs = next(r for r in await world.stored() if r.coachee_id == world.people[TEACHER])
    bea_session = next(r for r in await world.stored() if r.coachee_id == world.people[TEACHER_B])
    refused = await world.submit(
        {"verb": "coaching.view", "session_id": bea_session.id}, user=TEACHER
    )
    assert refused["text"].startswith("You don't have access to that coaching session")
    assert "secret" not in str(refused)
    own = await world.submit({"verb": "coaching.view", "session_id": theirs.id}, user=TEACHER)
    assert "secret step one" in card_text(cards_in([own])[0])
    async with world.sessions() as session:
        refusals = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "coaching.view")
        )
    assert refusals == 1
