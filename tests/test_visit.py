"""`visit`: a note of visit creates its actions; earlier actions are RAG-rated with history.
Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from storage.actions import action_history
from storage.engine import Sessions
from storage.models import AuditEvent, SchoolAction, Visit
from storage.visits import VisitNumberTaken, record_visit
from tests.improvement import SIA, add_actions, seed_improvement
from tests.support import (
    HEAD,
    TRUST_LEAD,
    card_text,
    field_error,
    find,
    only_card,
    seed_trust,
    serve,
    stored_rows,
    submit_data,
    texts,
)

SETTINGS = Settings(_env_file=None)
# A day of the academic year of the visits tests/improvement.py seeds (15 September 2025).
IN_2025_26 = datetime(2026, 1, 20, 10, tzinfo=UTC)


def note(card: dict[str, Any], **inputs: str) -> dict[str, Any]:
    """The form's submit data with these inputs filled in (as Teams merges them)."""
    return {**submit_data(card), **inputs}


async def actions_of(sessions: Sessions, visit_number: int) -> list[SchoolAction]:
    async with sessions() as session:
        rows = await session.scalars(
            select(SchoolAction)
            .join(Visit, Visit.id == SchoolAction.visit_id)
            .where(Visit.number == visit_number)
            .order_by(SchoolAction.id)
        )
        return list(rows)


async def test_a_note_of_visit_creates_its_actions(engine: AsyncEngine, sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with serve(engine, sessions, settings=SETTINGS) as world:
        # The adviser has one school: the form is for it, numbered 1, the head as owner.
        form = only_card(await world.say("visit", SIA))
        shown = card_text(form)
        assert "Note of visit" in shown and "Oakfield Primary" in shown
        assert find(form, id="number")[0]["value"] == 1
        assert find(form, id="owner_id")[0]["value"] == str(seeded.person_ids[HEAD])
        assert find(form, id="rag_1") == []
        values = note(
            form,
            number="1",
            visited_on="2025-09-30",
            focus="Early reading; safeguarding update",
            strengths="Phonics teaching is consistent.",
            risks="Attendance of disadvantaged pupils.",
            next_steps="Train all TAs in the phonics scheme\n\n  Audit reading books  \n"
            "Attendance plan for PP pupils",
            owner_id=str(seeded.person_ids[HEAD]),
            next_visit_on="2025-11-20",
            due_on="",
        )
        saved = card_text(only_card(await world.submit(values, SIA)))
        # Teams may deliver the submit twice: stored once, same answer.
        again = card_text(only_card(await world.submit(values, SIA)))
    assert "Note of visit saved" in saved
    assert "3, due 20 November 2025" in saved
    assert again == saved
    actions = await actions_of(sessions, 1)
    assert [a.description for a in actions] == [
        "Train all TAs in the phonics scheme",
        "Audit reading books",
        "Attendance plan for PP pupils",
    ]
    assert {(a.owner_id, a.due_on, a.status, a.rag) for a in actions} == {
        (seeded.person_ids[HEAD], date(2025, 11, 20), "open", None)
    }
    async with sessions() as session:
        [visit] = (await session.scalars(select(Visit))).all()
    assert (visit.number, visit.visited_on, visit.adviser_id) == (
        1,
        date(2025, 9, 30),
        seeded.person_ids[SIA],
    )
    assert visit.strengths == "Phonics teaching is consistent."


async def test_without_a_next_visit_steps_are_due_in_six_weeks(sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with sessions.begin() as session:
        recorded = await record_visit(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids["100001"],
            adviser_id=seeded.person_ids[SIA],
            number=1,
            visited_on=date(2025, 9, 30),
            focus="Maths",
            strengths="",
            risks="",
            next_visit_on=None,
            next_steps=["Fluency starters"],
            owner_id=None,
            due_on=None,
            ratings={},
            form_id="x" * 32,
            at=datetime(2025, 9, 30, tzinfo=UTC),
        )
    assert recorded.actions[0].due_on == date(2025, 9, 30) + timedelta(weeks=6)


async def test_ratings_at_the_next_visit_are_stored_with_their_history(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    first, second = await add_actions(
        sessions, seeded, "100001", ["Phonics training", "Book audit"], due_on=date(2025, 11, 1)
    )
    [elsewhere] = await add_actions(
        sessions, seeded, "100002", ["St Mary's plan"], due_on=date(2025, 11, 1)
    )
    # In 2025-26, the year of the first visit: the form numbers the next visit 2.
    async with serve(engine, sessions, settings=SETTINGS, now=IN_2025_26) as world:
        form = only_card(await world.say("note of visit oakfield", SIA))
        assert find(form, id="number")[0]["value"] == 2
        assert {
            i["id"] for i in find(form, type="Input.ChoiceSet") if i["id"].startswith("rag_")
        } == {
            f"rag_{first}",
            f"rag_{second}",
        }
        assert "Phonics training" in card_text(form)
        values = note(
            form,
            number="2",
            visited_on="2025-11-20",
            focus="Reading at KS2",
            next_steps="",
            owner_id="",
            **{
                f"rag_{first}": "amber",
                f"rag_{second}": "",
                # A tampered card: another school's action must not change.
                f"rag_{elsewhere}": "green",
            },
        )
        saved = card_text(only_card(await world.submit(values, SIA)))
        assert "Earlier actions rated" in saved

        form = only_card(await world.say("visit", SIA))
        third = note(
            form,
            number="3",
            visited_on="2026-01-15",
            focus="Inclusion",
            owner_id="",
            **{f"rag_{first}": "green", f"rag_{second}": "red"},
        )
        only_card(await world.submit(third, SIA))

    async with sessions() as session:
        visits = {v.number: v.id for v in await session.scalars(select(Visit))}
        history = await action_history(session, action_id=first)
        rated_second = await action_history(session, action_id=second)
        untouched = await session.get(SchoolAction, elsewhere)
        untouched_history = await action_history(session, action_id=elsewhere)
        refused = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "visit.rate"))
        ).all()
        current = await session.get(SchoolAction, first)
    sia = seeded.person_ids[SIA]
    assert [(e.kind, e.value, e.by_person_id, e.visit_id) for e in history] == [
        ("rag", "amber", sia, visits[2]),
        ("rag", "green", sia, visits[3]),
    ]
    assert all(e.at is not None for e in history)
    assert [(e.value, e.visit_id) for e in rated_second] == [("red", visits[3])]
    assert current is not None and current.rag == "green" and current.status == "open"
    assert untouched is not None and untouched.rag is None
    assert untouched_history == []
    assert [(e.outcome, e.school_id) for e in refused] == [("refused", seeded.school_ids["100001"])]


async def test_an_invalid_note_comes_back_with_values_and_errors(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_improvement(sessions, await seed_trust(sessions))
    before = await stored_rows(sessions)
    async with serve(engine, sessions, settings=SETTINGS) as world:
        form = only_card(await world.say("visit", SIA))
        values = note(
            form,
            number="1",
            visited_on="2025-09-30",
            focus="",
            strengths="Kept",
            next_steps="Do a thing",
            next_visit_on="2025-09-01",
        )
        again = only_card(await world.submit(values, SIA))
    texts_shown = card_text(again)
    assert "Say what the visit focused on." in texts_shown
    assert "The next visit must come after this one." in texts_shown
    assert find(again, id="strengths")[0]["value"] == "Kept"
    assert find(again, id="next_steps")[0]["value"] == "Do a thing"
    assert field_error(again, "focus") == "Say what the visit focused on."
    assert await stored_rows(sessions) == before


async def test_a_visit_number_already_used_is_refused_under_the_field(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await add_actions(sessions, seeded, "100001", ["One"], due_on=date(2025, 11, 1))
    async with serve(engine, sessions, settings=SETTINGS) as world:
        form = only_card(await world.say("visit", SIA))
        values = note(form, number="1", visited_on="2025-10-01", focus="Maths", next_steps="Two")
        again = only_card(await world.submit(values, SIA))
    assert "Visit 1 of 2025-26 is recorded already; give the next number." in card_text(again)
    assert len(await actions_of(sessions, 1)) == 1
    try:
        async with sessions.begin() as session:
            await record_visit(
                session,
                trust_id=seeded.trust_id,
                school_id=seeded.school_ids["100001"],
                adviser_id=seeded.person_ids[SIA],
                number=1,
                visited_on=date(2025, 10, 1),
                focus="",
                strengths="",
                risks="",
                next_visit_on=None,
                next_steps=["x"],
                owner_id=None,
                due_on=None,
                ratings={},
                form_id="y" * 32,
                at=datetime(2025, 10, 1, tzinfo=UTC),
            )
    except VisitNumberTaken as taken:
        assert (taken.number, taken.academic_year) == (1, "2025-26")
    else:
        raise AssertionError("a second visit 1 was stored")


async def test_advisers_write_notes_only_for_their_schools(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with serve(engine, sessions, settings=SETTINGS) as world:
        form = only_card(await world.say("visit", SIA))
        before = await stored_rows(sessions)
        refused = await world.say("visit st marys", SIA)
        forged = await world.submit(
            note(
                form,
                school_id=str(seeded.school_ids["100002"]),
                number="1",
                visited_on="2025-09-30",
                focus="Maths",
                next_steps="Something",
            ),
            SIA,
        )
        head = await world.say("visit", HEAD)
        after = await stored_rows(sessions)
        # Trust leads may write a note for any school.
        lead = only_card(await world.say("visit st marys", TRUST_LEAD))
    assert texts(refused) == "You don't have access to St Mary's C of E's visits."
    assert texts(forged) == "You don't have access to St Mary's C of E's visits."
    assert "You don't have access to Note of visit" in texts(head)
    assert after == {**before, "audit_event": before["audit_event"] + 3}
    assert "St Mary's C of E" in card_text(lead)


async def test_the_visit_form_stays_small_with_many_open_actions(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await add_actions(
        sessions,
        seeded,
        "100001",
        [f"Step {n}: " + "x" * 480 for n in range(40)],
        due_on=date(2025, 11, 1),
    )
    async with serve(engine, sessions, settings=SETTINGS) as world:
        form = only_card(await world.say("visit", SIA))
        # The longest a form can come back: every text at its limit, one field wrong.
        full = note(
            form,
            number="1",
            visited_on="2025-10-01",
            focus="",
            strengths="s" * 3000,
            risks="r" * 3000,
            next_steps=("n" * 399 + "\n") * 10,
        )
        again = only_card(await world.submit(full, SIA))
    assert len(json.dumps(form).encode()) < 28_000
    assert "25 more open actions can be rated at the next visit." in card_text(form)
    assert "Say what the visit focused on." in card_text(again)
    assert len(json.dumps(again).encode()) < 28_000


async def test_saving_a_note_of_visit_replaces_its_form_and_says_only_what_is_true(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    """Save is an Action.Execute, as coaching's: the invoke's answer is the confirmation
    Teams draws in place of the form. With no next steps, it claims no actions."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with serve(engine, sessions, settings=SETTINGS) as world:
        form = only_card(await world.say("visit", SIA))
        [save] = form["actions"]
        assert save["type"] == "Action.Execute" and save["verb"] == "visit.save"
        values = note(
            form,
            number="1",
            visited_on="2025-09-30",
            focus="Early reading",
            strengths="Phonics teaching is consistent.",
            risks="",
            next_steps="",
            owner_id=str(seeded.person_ids[HEAD]),
            next_visit_on="",
            due_on="",
        )
        replaced = await world.press("visit.save", values, SIA)
    shown = card_text(replaced)
    assert "Note of visit saved" in shown
    assert "No next steps were given, so no actions were made." in shown
    assert "now an action" not in shown
    assert not find(replaced, id="focus")
