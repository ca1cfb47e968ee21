"""Coaching at the `Turn -> Reply` seam: the dialogs called as the edge calls them,
with no HTTP and no botbuilder (tests/support.py's `Turns`). What a coach, a teacher
and a coachee would notice: the card's words, the row stored, the notice sent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dialogs.turn import Reply
from storage.engine import Sessions
from storage.models import AuditEvent, CoachingSession
from tests.support import (
    SUBJECT_LEAD,
    TEACHER,
    Seeded,
    Turns,
    card_text,
    field_error,
    inputs,
    stored_rows,
)
from tests.test_coaching import COACH, NOW, seed_coaching

STEP = "Use think-pair-share before every whole-class question"
NOTES = "Strong routines; questioning still goes to the same hands."


def card_of(reply: Reply) -> dict[str, object]:
    assert reply.card is not None, reply.text
    return reply.card


async def _world(sessions: Sessions) -> tuple[Seeded, dict[str, int], Turns]:
    seeded, strands = await seed_coaching(sessions)
    return seeded, strands, Turns(sessions, now=NOW)


async def _form(turns: Turns) -> dict[str, object]:
    return card_of(await turns.say("log coaching", COACH))


async def _sessions(sessions: Sessions) -> list[CoachingSession]:
    async with sessions() as session:
        return list(await session.scalars(select(CoachingSession).order_by(CoachingSession.id)))


async def test_log_coaching_offers_the_coachs_own_teachers_dated_today(
    sessions: Sessions,
) -> None:
    _, _, turns = await _world(sessions)
    form = await _form(turns)
    fields = inputs(form)
    assert "Log a coaching session" in card_text(form)
    # Oakfield's teachers, the coach who teaches there left out; not St Mary's.
    assert [c["title"] for c in fields["coachee"]["choices"]] == [
        "Bea Teacher — Oakfield Primary",
        "Cal Teacher — Oakfield Primary",
        "Tom Teacher — Oakfield Primary",
    ]
    assert fields["held_on"]["value"] == NOW.date().isoformat()
    assert [c["title"] for c in fields["strand"]["choices"]] == [
        "Retrieval practice",
        "Oracy",
        "Modelling",
    ]


async def test_a_saved_session_is_stored_once_and_the_coachee_told_the_step_only(
    sessions: Sessions,
) -> None:
    seeded, strands, turns = await _world(sessions)
    tom = seeded.person_ids[TEACHER]
    saved = await turns.submit(
        await _form(turns),
        COACH,
        coachee=str(tom),
        held_on="2026-11-17",
        strand=str(strands["Oracy"]),
        action_step=STEP,
        notes=NOTES,
        next_session_on="2026-12-01",
    )
    shown = card_text(card_of(saved))
    assert "Coaching session saved" in shown
    assert "Tom Teacher" in shown and "Oracy" in shown and STEP in shown
    [row] = await _sessions(sessions)
    assert (row.coach_id, row.coachee_id, row.school_id) == (
        seeded.person_ids[COACH],
        tom,
        seeded.school_ids["100001"],
    )
    assert (row.held_on, row.next_session_on, row.status) == (
        date(2026, 11, 17),
        date(2026, 12, 1),
        "held",
    )
    assert (row.action_step, row.notes) == (STEP, NOTES)
    # Tom hears of the step; the notes are for the session, never a notice.
    [notice] = turns.notices.to(tom)
    told = card_text(card_of(notice))
    assert "Your new action step" in told and STEP in told
    assert "Strong routines" not in told
    assert [person for person, _ in turns.notices.sent] == [tom]


async def test_the_same_card_submitted_twice_stores_and_tells_once(sessions: Sessions) -> None:
    seeded, strands, turns = await _world(sessions)
    form = await _form(turns)
    typed = {
        "coachee": str(seeded.person_ids[TEACHER]),
        "strand": str(strands["Oracy"]),
        "action_step": STEP,
    }
    first = await turns.submit(form, COACH, **typed)
    again = await turns.submit(form, COACH, **typed)
    assert "Coaching session saved" in card_text(card_of(first))
    assert "Already saved" in card_text(card_of(again))
    assert len(await _sessions(sessions)) == 1
    assert len(turns.notices.sent) == 1


async def test_a_missing_action_step_comes_back_with_what_was_typed_and_stores_nothing(
    sessions: Sessions,
) -> None:
    seeded, strands, turns = await _world(sessions)
    form = await _form(turns)
    typed = {
        "coachee": str(seeded.person_ids[TEACHER]),
        "strand": str(strands["Modelling"]),
        "notes": NOTES,
    }
    before = await stored_rows(sessions)
    again = card_of(await turns.submit(form, COACH, action_step="   ", **typed))
    error = field_error(again, "action_step")
    assert error is not None and "Write the one action step" in error
    fields = inputs(again)
    assert {key: fields[key]["value"] for key in typed} == typed
    assert await stored_rows(sessions) == before
    assert turns.notices.sent == []
    # Corrected on the card that came back: stored, once.
    saved = await turns.submit(again, COACH, action_step=STEP)
    assert "Coaching session saved" in card_text(card_of(saved))
    [row] = await _sessions(sessions)
    assert (row.action_step, row.notes, row.strand_id) == (STEP, NOTES, strands["Modelling"])


async def test_my_coaching_shows_the_teacher_their_step_and_the_coach_their_sessions(
    sessions: Sessions,
) -> None:
    seeded, strands, turns = await _world(sessions)
    await turns.submit(
        await _form(turns),
        COACH,
        coachee=str(seeded.person_ids[TEACHER]),
        strand=str(strands["Oracy"]),
        action_step=STEP,
        notes=NOTES,
    )
    teacher = card_text(card_of(await turns.say("my coaching", TEACHER)))
    assert "Your current action step" in teacher and STEP in teacher
    coach = card_text(card_of(await turns.say("my coaching", COACH)))
    assert "Sessions you led" in coach and "Tom Teacher" in coach


async def test_a_coachee_outside_the_coachs_schools_is_refused_audited_and_not_stored(
    sessions: Sessions,
) -> None:
    seeded, strands, turns = await _world(sessions)
    before = await stored_rows(sessions)
    # Sam teaches at St Mary's, where Cara does not coach: only a tampered card names him.
    refused = card_of(
        await turns.submit(
            await _form(turns),
            COACH,
            coachee=str(seeded.person_ids[SUBJECT_LEAD]),
            strand=str(strands["Oracy"]),
            action_step=STEP,
        )
    )
    error = field_error(refused, "coachee")
    assert error is not None and "from your own schools" in error
    assert "Sam Subject" not in card_text(refused)
    assert await stored_rows(sessions) == {**before, "audit_event": before["audit_event"] + 1}
    async with sessions() as session:
        [event] = (await session.scalars(select(AuditEvent))).all()
    assert (event.action, event.outcome, event.person_id) == (
        "coaching.save",
        "refused",
        seeded.person_ids[COACH],
    )
    assert turns.notices.sent == []
