"""`review [school]`: a trust lead records a standards review, on SQLite and PostgreSQL.

What a trust lead and the school's head would notice: the form for the school, a
confirmation that tells no one, a new category that is a categorisation (the same
history, the same card to the head as `categorise`), each stored once.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from dialogs.category import category_card, last_change
from dialogs.review import ReviewVerb
from dialogs.turn import Reply
from storage.academic_calendar import Term, default_terms
from storage.categories import record_categorisation, school_category
from storage.engine import Sessions
from storage.models import AuditEvent, School, SchoolCategorisation, StandardsReview
from storage.standards import term_of
from tests.improvement import OTHER_HEAD, SIA, seed_improvement
from tests.support import (
    HEAD,
    OTHER_TENANT,
    TEACHER,
    TRUST_LEAD,
    Seeded,
    Turns,
    add_person,
    add_school,
    card_actions,
    card_text,
    facts,
    field_error,
    inputs,
    seed_trust,
    stored_rows,
)

# Wednesday 9 December 2026: the autumn term ends on Friday the 18th.
NOW = datetime(2026, 12, 9, 10, tzinfo=UTC)
MEETING = {
    "held_on": "2026-12-08",
    "attendees": "Mo Head, Chair of Governors, Director of Education, Revd Okafor (trustee)",
    "trustees": "true",
    "notes": "Reading is secure; maths still needs the trust's support.",
}


def card_of(reply: Reply) -> dict[str, Any]:
    assert reply.card is not None, reply.text
    return reply.card


async def _world(sessions: Sessions) -> tuple[Seeded, Turns]:
    """seed_improvement's trust: St Mary's (100002, its head Mo) in Recovery since July."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with sessions.begin() as session:
        await record_categorisation(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids["100002"],
            category_key="recovery",
            decided_on=date(2026, 7, 9),
            attendees="Mo Head, DE",
            rationale="Outcomes fell sharply.",
            recorded_by=None,
            form_id="a" * 32,
        )
    return seeded, Turns(sessions, now=NOW)


async def _rows(sessions: Sessions, model: Any) -> list[Any]:
    async with sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def test_a_trust_lead_opens_the_review_form_for_a_school(sessions: Sessions) -> None:
    seeded, turns = await _world(sessions)
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    shown = card_text(form)
    assert "Standards review" in shown and "St Mary's C of E" in shown
    assert facts(form)["Category"] == "Recovery, since 9 July 2026; a review every term"
    assert facts(form)["Last review"] == "None recorded"
    fields = inputs(form)
    assert fields["held_on"]["value"] == "2026-12-09"
    assert fields["outcome"]["value"] == "confirmed"
    # Confirm Recovery, or any other category of the framework.
    assert [c["title"] for c in fields["outcome"]["choices"]] == [
        "Category confirmed: Recovery",
        "New category: Excellence",
        "New category: Refinement",
        "New category: Reinforcement",
        "New category: Repair",
    ]
    [(verb, data)] = card_actions(form)
    assert (verb, data["school_id"]) == (ReviewVerb.save, seeded.school_ids["100002"])


async def test_review_with_no_school_asks_which(sessions: Sessions) -> None:
    _, turns = await _world(sessions)
    choice = card_of(await turns.command("review", TRUST_LEAD))
    assert "Choose the school for the standards review" in card_text(choice)
    [(verb, _)] = card_actions(choice)
    assert verb == ReviewVerb.start
    form = card_of(await turns.submit(choice, TRUST_LEAD))
    assert "Standards review" in card_text(form)


async def test_a_confirmed_category_is_stored_once_and_tells_no_one(sessions: Sessions) -> None:
    seeded, turns = await _world(sessions)
    st_marys = seeded.school_ids["100002"]
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    saved = card_of(await turns.submit(form, TRUST_LEAD, **MEETING))
    shown = card_text(saved)
    assert "Standards review recorded" in shown
    assert "nothing changes and no one else is told" in shown
    assert facts(saved) == {
        "School": "St Mary's C of E",
        "For": "Autumn term 2026-27",
        "Held": "8 December 2026",
        "Who attended": MEETING["attendees"],
        "Trustees": "Attended",
        "Outcome": "Recovery confirmed",
    }
    # The same card again (a double click, a retry): the same review, not a second.
    again = card_of(await turns.submit(form, TRUST_LEAD, **MEETING))
    assert facts(again) == facts(saved)
    [review] = await _rows(sessions, StandardsReview)
    assert (review.school_id, review.academic_year, review.term, review.term_name) == (
        st_marys,
        "2026-27",
        1,
        "Autumn term",
    )
    assert (review.held_on, review.trustees_attended, review.outcome) == (
        date(2026, 12, 8),
        True,
        "confirmed",
    )
    assert (review.category_name, review.categorisation_id) == ("Recovery", None)
    assert (review.attendees, review.notes) == (MEETING["attendees"], MEETING["notes"])
    assert review.recorded_by == seeded.person_ids[TRUST_LEAD]
    # No category-change card to anyone, and the category and its history stand.
    assert turns.notices.sent == []
    assert len(await _rows(sessions, SchoolCategorisation)) == 1
    async with sessions() as session:
        standing = await school_category(session, trust_id=seeded.trust_id, school_id=st_marys)
        events = list(await session.scalars(select(AuditEvent)))
    assert standing is not None and standing.current.decided_on == date(2026, 7, 9)
    assert [(e.action, e.outcome, e.subject_type) for e in events] == [
        ("review", "done", "standards_review")
    ]
    # The form shows the review next time.
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    assert facts(form)["Last review"] == (
        "8 December 2026 (Autumn term 2026-27): Recovery confirmed"
    )


async def test_a_new_category_is_a_categorisation_and_the_head_is_told_as_categorise_tells(
    sessions: Sessions,
) -> None:
    seeded, turns = await _world(sessions)
    st_marys = seeded.school_ids["100002"]
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    changed = MEETING | {"outcome": "to:reinforcement", "trustees": "false"}
    saved = card_of(await turns.submit(form, TRUST_LEAD, **changed))
    assert facts(saved)["Outcome"] == "New category: Reinforcement"
    assert facts(saved)["Trustees"] == "Not present"
    # The same card again: St Mary's is in Reinforcement now, yet the answer is the
    # review it recorded, not "choose Category confirmed".
    again = card_of(await turns.submit(form, TRUST_LEAD, **changed))
    assert facts(again) == facts(saved)

    # One review, one categorisation made from it, exactly as categorise makes one.
    [review] = await _rows(sessions, StandardsReview)
    [_, categorisation] = await _rows(sessions, SchoolCategorisation)
    assert review.categorisation_id == categorisation.id
    assert (review.outcome, review.category_name) == ("changed", "Reinforcement")
    assert (categorisation.school_id, categorisation.category_name) == (st_marys, "Reinforcement")
    assert (categorisation.decided_on, categorisation.recorded_by) == (
        date(2026, 12, 8),
        seeded.person_ids[TRUST_LEAD],
    )
    assert (categorisation.attendees, categorisation.rationale) == (
        MEETING["attendees"],
        MEETING["notes"],
    )
    # St Mary's head, once, with the card categorise sends; nobody else.
    [notice] = turns.notices.to(seeded.person_ids[OTHER_HEAD])
    assert len(turns.notices.sent) == 1
    async with sessions() as session:
        school = await session.get(School, st_marys)
        standing = await school_category(session, trust_id=seeded.trust_id, school_id=st_marys)
        events = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert school is not None and standing is not None
    assert notice.card == category_card(
        school,
        standing,
        intro=f"St Mary's C of E's category has been updated: {last_change(standing)}",
    )
    told = card_text(card_of(notice))
    assert "Recovery → Reinforcement on 8 December 2026" in told
    assert [(e.action, e.subject_type) for e in events] == [
        ("review", "standards_review"),
        ("categorise", "school_categorisation"),
    ]
    # The category card reads the new category, the review form the review.
    shown = card_text(card_of(await turns.say("category st marys", TRUST_LEAD)))
    assert "Reinforcement" in shown
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    assert facts(form)["Category"] == "Reinforcement, since 8 December 2026"
    assert facts(form)["Last review"] == (
        "8 December 2026 (Autumn term 2026-27): moved to Reinforcement"
    )


async def test_categorise_and_a_review_that_changes_the_category_send_the_same_card(
    sessions: Sessions,
) -> None:
    """The head reads the same card whichever way the decision was recorded."""
    seeded, turns = await _world(sessions)
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    await turns.submit(form, TRUST_LEAD, **(MEETING | {"outcome": "to:reinforcement"}))
    [by_review] = turns.notices.to(seeded.person_ids[OTHER_HEAD])

    other_seeded = await seed_improvement(
        sessions, await seed_trust(sessions, tenant=OTHER_TENANT, name="Test Trust")
    )
    async with sessions.begin() as session:
        await record_categorisation(
            session,
            trust_id=other_seeded.trust_id,
            school_id=other_seeded.school_ids["100002"],
            category_key="recovery",
            decided_on=date(2026, 7, 9),
            attendees="Mo Head, DE",
            rationale="Outcomes fell sharply.",
            recorded_by=None,
            form_id="b" * 32,
        )
    other = Turns(sessions, now=NOW, tenant=OTHER_TENANT)
    decision = card_of(await other.say("categorise st marys", TRUST_LEAD))
    await other.submit(
        decision,
        TRUST_LEAD,
        category="reinforcement",
        decided_on=MEETING["held_on"],
        attendees=MEETING["attendees"],
        rationale=MEETING["notes"],
    )
    [by_categorise] = other.notices.to(other_seeded.person_ids[OTHER_HEAD])
    # The same card but for its History button, which names each trust's own school.
    assert by_review.card is not None and by_categorise.card is not None
    assert _without_school_ids(by_review.card) == _without_school_ids(by_categorise.card)


def _without_school_ids(card: dict[str, Any]) -> str:
    return re.sub(r'"school_id": \d+', '"school_id": ?', json.dumps(card, sort_keys=True))


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"outcome": "to:repair", "notes": ""}, "notes", "Give the reasons for the new category."),
        ({"outcome": "to:recovery"}, "outcome", "is in Recovery now"),
        ({"outcome": "to:outstanding"}, "outcome", "Choose the outcome"),
        ({"held_on": "2026-12-10"}, "held_on", "recorded once it has been held"),
        ({"held_on": "next week"}, "held_on", "Give the date the review was held, like"),
        ({"attendees": "  "}, "attendees", "Say who attended the review."),
        # A change can't go behind the decision in force (9 July).
        ({"outcome": "to:repair", "held_on": "2026-07-01"}, "held_on", "categorised on 9 July"),
    ],
)
async def test_a_review_with_a_problem_comes_back_with_its_values_and_stores_nothing(
    sessions: Sessions, typed: dict[str, str], field: str, message: str
) -> None:
    _, turns = await _world(sessions)
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    before = await stored_rows(sessions)
    again = card_of(await turns.submit(form, TRUST_LEAD, **(MEETING | typed)))
    shown = field_error(again, field)
    assert shown is not None and message in shown, shown
    assert inputs(again)["attendees"]["value"] == (MEETING | typed)["attendees"]
    assert inputs(again)["notes"]["value"] == (MEETING | typed)["notes"]
    assert await stored_rows(sessions) == before
    assert turns.notices.sent == []


async def test_a_school_with_no_category_can_only_be_given_one(sessions: Sessions) -> None:
    _, turns = await _world(sessions)
    form = card_of(await turns.say("review oakfield", TRUST_LEAD))
    assert facts(form)["Category"] == "None recorded yet: choose one below"
    choices = [c["value"] for c in inputs(form)["outcome"]["choices"]]
    assert "confirmed" not in choices and "to:recovery" in choices
    # A card that says "confirmed" anyway (tampered, or drawn before a change).
    again = card_of(await turns.submit(form, TRUST_LEAD, **(MEETING | {"outcome": "confirmed"})))
    assert field_error(again, "outcome") == "Oakfield Primary has no category yet: choose one."
    assert await _rows(sessions, StandardsReview) == []


async def test_a_card_naming_another_trusts_school_is_refused_and_audited(
    sessions: Sessions,
) -> None:
    seeded, turns = await _world(sessions)
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    elsewhere = await add_school(sessions, other.trust_id, "200001", "Brookside Academy")
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    before = await stored_rows(sessions)
    data = {**MEETING, "outcome": "confirmed", "school_id": elsewhere}
    refused = await turns.verb(
        ReviewVerb.save, {**data, "form_id": inputs_form_id(form)}, TRUST_LEAD
    )
    assert refused == Reply(text="You don't have access to that school's standards reviews.")
    assert await stored_rows(sessions) == {**before, "audit_event": before["audit_event"] + 1}
    [event] = await _rows(sessions, AuditEvent)
    assert (event.action, event.outcome, event.person_id) == (
        "review.save",
        "refused",
        seeded.person_ids[TRUST_LEAD],
    )


def inputs_form_id(card: dict[str, Any]) -> str:
    [(_, data)] = card_actions(card)
    return str(data["form_id"])


async def test_reviews_are_a_trust_leads_alone(sessions: Sessions) -> None:
    _, turns = await _world(sessions)
    command = turns.registry.get_command("review")
    start = turns.registry.get_verb(ReviewVerb.start)
    save = turns.registry.get_verb(ReviewVerb.save)
    assert command is not None and start is not None and save is not None
    assert command.private and start.private and save.private
    for user, allowed in ((TRUST_LEAD, True), (HEAD, False), (SIA, False), (TEACHER, False)):
        actor = await turns.actor(user)
        assert {command.allowed(actor), start.allowed(actor), save.allowed(actor)} == {allowed}


# -- which term a review is for ---------------------------------------------------------

TERMS: list[Term] = default_terms(2025) + default_terms(2026)


@pytest.mark.parametrize(
    ("held_on", "term"),
    [
        (date(2026, 12, 18), ("2026-27", 1)),  # the autumn term's last day
        (date(2026, 12, 22), ("2026-27", 1)),  # the Christmas holidays: the term just ended
        (date(2027, 1, 4), ("2026-27", 2)),  # the spring term's first day
        (date(2026, 8, 20), ("2025-26", 3)),  # the summer holidays
        (date(2026, 9, 1), ("2026-27", 1)),
    ],
)
def test_a_review_is_for_the_term_it_is_held_in_or_the_one_just_ended(
    held_on: date, term: tuple[str, int]
) -> None:
    found = term_of(TERMS, held_on)
    assert found is not None and (found.academic_year, found.number) == term


async def test_a_card_stored_by_someone_else_is_out_of_date(sessions: Sessions) -> None:
    seeded, turns = await _world(sessions)
    other = "aaaaaaaa-0000-4000-8000-000000000009"
    async with sessions.begin() as session:
        await add_person(session, seeded.trust_id, other, "Owen Lead", ["trust_lead"])
    form = card_of(await turns.say("review st marys", TRUST_LEAD))
    await turns.submit(form, TRUST_LEAD, **MEETING)
    answer = await turns.submit(form, other, **MEETING)
    assert answer == Reply(
        text="That form is out of date. Type review and the school to start again."
    )
    assert len(await _rows(sessions, StandardsReview)) == 1
