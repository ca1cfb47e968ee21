"""Coaching over HTTP: what coaches, teachers and heads see, and what is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from storage.coaching.sessions import SessionDetails, record_coaching_session
from storage.engine import Sessions
from storage.models import AuditEvent, CoachingSession, CoachingStrand
from storage.strands import set_strands
from tests.support import (
    HEAD,
    SUBJECT_LEAD,
    TEACHER,
    TRUST_LEAD,
    Seeded,
    Served,
    add_person,
    card_text,
    cards_in,
    field_error,
    inputs,
    loopback_connector,
    message,
    only_card,
    seed_trust,
    serve,
)

SETTINGS = Settings(_env_file=None)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
COACH = "cccccccc-0000-4000-8000-000000000001"
TEACHER_B = "cccccccc-0000-4000-8000-000000000002"
TEACHER_C = "cccccccc-0000-4000-8000-000000000003"
FORM_ID = "0123456789abcdef0123456789abcdef"


@dataclass
class World(Served):
    """The seeded trust served, with a coach and two more teachers at Oakfield."""

    # The trust's focus strands, id by name.
    strands: dict[str, int] = field(default_factory=dict)


async def seed_coaching(sessions: Sessions) -> tuple[Seeded, dict[str, int]]:
    """seed_trust's trust with Cara (a coach who teaches), Bea and Cal teaching at
    Oakfield, and three focus strands; the strands' ids by name."""
    seeded = await seed_trust(sessions)
    oakfield = seeded.school_ids["100001"]
    async with sessions.begin() as session:
        for aad, name, roles in (
            (COACH, "Cara Coach", ["coach", "teacher"]),
            (TEACHER_B, "Bea Teacher", ["teacher"]),
            (TEACHER_C, "Cal Teacher", ["teacher"]),
        ):
            seeded.person_ids[aad] = await add_person(
                session, seeded.trust_id, aad, name, roles, [oakfield]
            )
        await set_strands(
            session, trust_id=seeded.trust_id, names=["Retrieval practice", "Oracy", "Modelling"]
        )
        strands = {s.name: s.id for s in await session.scalars(select(CoachingStrand))}
    return seeded, strands


@pytest.fixture
async def world(engine: AsyncEngine, sessions: Sessions) -> AsyncIterator[World]:
    seeded, strands = await seed_coaching(sessions)
    async with serve(
        engine, sessions, seeded, settings=SETTINGS, now=NOW, kind=World, strands=strands
    ) as served:
        yield served


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


async def test_log_coaching_opens_a_form_of_the_coachs_own_teachers(world: World) -> None:
    for typed in ("log coaching", "Log a session", "coaching"):
        card = only_card(await world.say(typed, COACH))
        fields = inputs(card)
        names = [c["title"] for c in fields["coachee"]["choices"]]
        assert names == [
            "Bea Teacher — Oakfield Primary",
            "Cal Teacher — Oakfield Primary",
            "Tom Teacher — Oakfield Primary",
        ], typed
        assert fields["coachee"]["style"] == "filtered"
        assert fields["held_on"]["value"] == "2026-11-18"
        assert [c["title"] for c in fields["strand"]["choices"]] == [
            "Retrieval practice",
            "Oracy",
            "Modelling",
        ]


async def test_a_coach_logs_a_session_and_it_is_stored_and_confirmed(world: World) -> None:
    card = only_card(await world.submit(_form_data(world), COACH))
    shown = card_text(card)
    assert "Coaching session saved" in shown
    assert "Tom Teacher" in shown and "Oracy" in shown
    assert "Use think-pair-share before every whole-class question" in shown
    [row] = await world.stored(CoachingSession)
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
    saved = await world.press("coaching.save", _form_data(world), COACH)
    assert "Coaching session saved" in card_text(saved)
    assert len(await world.stored(CoachingSession)) == 1


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
    card = only_card(await world.submit(data, COACH))
    error = field_error(card, field)
    assert error is not None and says in error
    fields = inputs(card)
    for key in ("coachee", "held_on", "strand", "action_step", "notes", "next_session_on"):
        assert fields[key]["value"] == data[key].strip() or fields[key]["value"] == data[key]
    assert await world.stored(CoachingSession) == []


async def test_a_coachee_outside_the_coachs_schools_is_audited(world: World) -> None:
    await world.submit(_form_data(world, coachee=str(world.people[SUBJECT_LEAD])), COACH)
    async with world.sessions() as session:
        [event] = (await session.scalars(select(AuditEvent))).all()
    assert (event.action, event.outcome) == ("coaching.save", "refused")


async def test_the_same_submit_twice_and_a_double_click_store_one_session(world: World) -> None:
    data = _form_data(world)
    await world.submit(data, COACH, activity_id="same-activity")
    redelivered = await world.post(
        message("", user=COACH, expect_replies=True, value=data, activity_id="same-activity")
    )
    # Handled once: the redelivery is acknowledged and answered with nothing.
    assert (await redelivered.json())["activities"] == []
    second = await world.submit(data, COACH)  # a double click: a new activity, the same card
    assert "Already saved" in card_text(only_card(second))
    via_execute = await world.press("coaching.save", data, COACH)
    assert "Already saved" in card_text(via_execute)
    assert len(await world.stored(CoachingSession)) == 1


async def test_the_coachee_gets_their_new_action_step(world: World) -> None:
    async with loopback_connector() as connector:
        await world.install_chat(TEACHER, connector.url, "a:tom-personal")
        await world.submit(_form_data(world), COACH)
        await world.waypoint.notifier.drain()
    [posted] = connector.posted
    assert posted["conversation"] == "a:tom-personal"
    shown = card_text(cards_in([posted["activity"]])[0])
    assert "Your new action step" in shown
    assert "Use think-pair-share before every whole-class question" in shown
    # The notes are for the coach and the teacher in the session, not in a notice.
    assert "Strong routines" not in shown


async def test_the_author_can_edit_for_seven_days_and_not_after(world: World) -> None:
    await world.submit(_form_data(world), COACH)
    [row] = await world.stored(CoachingSession)
    opened = await world.press("coaching.edit", {"session_id": row.id}, COACH)
    fields = inputs(opened)
    assert (
        fields["action_step"]["value"] == "Use think-pair-share before every whole-class question"
    )
    new_form = opened["actions"][0]["data"]
    assert new_form["session_id"] == row.id and new_form["form_id"] != FORM_ID
    edited = {**new_form, **{k: v["value"] for k, v in fields.items()}}
    edited["action_step"] = "Wait 5 seconds"
    saved = await world.press("coaching.save", edited, COACH)
    assert "Wait 5 seconds" in card_text(saved)
    [row] = await world.stored(CoachingSession)
    assert row.action_step == "Wait 5 seconds"
    # Another coach, or eight days on, may not change it.
    world.at(NOW + timedelta(days=8))
    late = await world.press("coaching.edit", {"session_id": row.id}, COACH)
    assert "within 7 days" in late
    late_save = await world.press("coaching.save", dict(edited, action_step="Too late"), COACH)
    assert "within 7 days" in late_save
    [row] = await world.stored(CoachingSession)
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
                trust_id=world.trust_id,
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
    card = only_card(await world.say("coaching coverage", HEAD))
    shown = card_text(card)
    row = next(
        i for i in card["body"] if i["type"] == "ColumnSet" and "Oakfield Primary" in card_text(i)
    )
    # 4 teachers; coached in 2 weeks: Tom (1) = 25%; in 6 weeks: Tom, Bea = 50%;
    # 2 held in 6 weeks = 0.5 per teacher; 1 cancelled of 3 = 33%.
    assert [[i["text"] for i in c["items"]] for c in row["columns"]] == [
        ["Oakfield Primary", "4 teachers · 0.5 sessions per teacher · 33% cancelled"],
        ["25%"],
        ["50%"],
    ]
    assert "Oracy" in shown and "Retrieval practice" in shown
    assert "secret" not in shown and "private note" not in shown


async def test_trust_leads_see_every_school_and_any_one(world: World) -> None:
    await _seed_sessions(world)
    whole = only_card(await world.say("coaching coverage", TRUST_LEAD))
    assert "Oakfield Primary" in card_text(whole) and "St Mary's C of E" in card_text(whole)
    one = only_card(await world.say("coaching coverage oakfeld", TRUST_LEAD))
    assert "Coaching coverage — Oakfield Primary" in card_text(one)


async def test_a_head_is_refused_another_schools_coverage_and_teachers_any(world: World) -> None:
    [refused] = await world.say("coaching coverage st marys", HEAD)
    assert refused["text"] == "You don't have access to coaching coverage for St Mary's C of E."
    [teacher] = await world.say("coaching coverage", TEACHER)
    assert teacher["text"].startswith("You don't have access to Coaching coverage")


async def test_my_coaching_for_a_teacher_and_for_a_coach(world: World) -> None:
    await _seed_sessions(world)
    mine = only_card(await world.say("my coaching", TEACHER))
    shown = card_text(mine)
    assert "Your current action step" in shown and "secret step one" in shown
    coach = only_card(await world.say("my coaching", COACH))
    shown = card_text(coach)
    assert "Sessions you led" in shown and "Tom Teacher" in shown
    # Bea's last session was 20 days ago, past the 14-day interval; Tom's was 5.
    assert "Due a session" in shown and "Bea Teacher" in shown
    due = next(i for i in coach["body"] if i.get("type") == "FactSet")
    assert [f["title"] for f in due["facts"]] == ["Bea Teacher"]


async def test_a_teacher_asking_for_another_teachers_session_is_refused(world: World) -> None:
    await _seed_sessions(world)
    theirs = next(
        r for r in await world.stored(CoachingSession) if r.coachee_id == world.people[TEACHER]
    )
    bea_session = next(
        r for r in await world.stored(CoachingSession) if r.coachee_id == world.people[TEACHER_B]
    )
    [refused] = await world.submit({"verb": "coaching.view", "session_id": bea_session.id}, TEACHER)
    assert refused["text"].startswith("You don't have access to that coaching session")
    assert "secret" not in str(refused)
    own = await world.submit({"verb": "coaching.view", "session_id": theirs.id}, TEACHER)
    assert "secret step one" in card_text(only_card(own))
    async with world.sessions() as session:
        refusals = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "coaching.view")
        )
    assert refusals == 1
