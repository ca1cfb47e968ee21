"""`category` and `categorise` at the `Turn -> Reply` seam: the dialogs called as the
edge calls them, with no HTTP and no botbuilder (tests/support.py's `Turns`). What a
head and a trust lead would notice: the card's words, the decision stored, the
heads told."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from dialogs.turn import Reply
from storage.categories import record_categorisation
from storage.engine import Sessions
from storage.models import AuditEvent, SchoolCategorisation
from tests.improvement import OTHER_HEAD, seed_improvement
from tests.support import (
    HEAD,
    OTHER_TENANT,
    TEACHER,
    TRUST_LEAD,
    Seeded,
    Turns,
    add_school,
    card_text,
    field_error,
    inputs,
    seed_trust,
    stored_rows,
)

NOW = datetime(2026, 7, 10, 9, tzinfo=UTC)
DECISION = {
    "category": "reinforcement",
    "decided_on": "2026-07-09",
    "attendees": "Hana Head, Chair of Governors, Director of Education",
    "rationale": "Secure leadership; reading not yet good enough.",
}


def card_of(reply: Reply) -> dict[str, object]:
    assert reply.card is not None, reply.text
    return reply.card


async def _world(sessions: Sessions) -> tuple[Seeded, Turns]:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    return seeded, Turns(sessions, now=NOW)


async def _categorisations(sessions: Sessions) -> list[SchoolCategorisation]:
    async with sessions() as session:
        rows = await session.scalars(select(SchoolCategorisation).order_by(SchoolCategorisation.id))
        return list(rows)


async def test_a_head_reads_their_schools_category_and_what_it_brings(sessions: Sessions) -> None:
    seeded, turns = await _world(sessions)
    async with sessions.begin() as session:
        await record_categorisation(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids["100001"],
            category_key="recovery",
            decided_on=date(2026, 7, 1),
            attendees="Head, chair, DE",
            rationale="Outcomes fell.",
            recorded_by=None,
            form_id="a" * 32,
        )
    shown = card_text(card_of(await turns.say("what's our category", HEAD)))
    assert "Oakfield Primary" in shown and "Recovery" in shown
    assert "1 July 2026" in shown
    assert "Support it brings" in shown and "Challenge it brings" in shown
    assert "Improve to Reinforcement within one year." in shown


async def test_a_head_whose_school_has_no_category_is_told_so(sessions: Sessions) -> None:
    _, turns = await _world(sessions)
    shown = card_text(card_of(await turns.command("category", HEAD)))
    assert "Oakfield Primary has no category yet" in shown


async def test_a_trust_lead_categorises_it_is_stored_once_and_the_heads_are_told(
    sessions: Sessions,
) -> None:
    seeded, turns = await _world(sessions)
    oakfield = seeded.school_ids["100001"]
    form = card_of(await turns.say("categorise oakfeld", TRUST_LEAD))
    assert "Record a categorisation" in card_text(form)
    assert inputs(form)["school_id"]["value"] == str(oakfield)
    assert inputs(form)["decided_on"]["value"] == "2026-07-10"
    recorded = card_text(card_of(await turns.submit(form, TRUST_LEAD, **DECISION)))
    assert "Categorisation recorded" in recorded
    assert "Reinforcement" in recorded and "9 July 2026" in recorded
    # "within 12 to 18 months" of the meeting.
    assert "9 January 2028" in recorded
    # The same card again (a double click, a retry): the same decision, not a second.
    again = card_text(card_of(await turns.submit(form, TRUST_LEAD, **DECISION)))
    assert "Reinforcement" in again
    [row] = await _categorisations(sessions)
    assert (row.school_id, row.decided_on, row.recorded_by) == (
        oakfield,
        date(2026, 7, 9),
        seeded.person_ids[TRUST_LEAD],
    )
    assert (row.attendees, row.rationale) == (DECISION["attendees"], DECISION["rationale"])
    # Oakfield's head, once; not St Mary's.
    [notice] = turns.notices.to(seeded.person_ids[HEAD])
    told = card_text(card_of(notice))
    assert "Oakfield Primary's category has been updated" in told
    assert "Reinforcement" in told
    assert turns.notices.to(seeded.person_ids[OTHER_HEAD]) == []
    assert len(turns.notices.sent) == 1


async def test_an_invalid_decision_comes_back_with_its_values_and_stores_nothing(
    sessions: Sessions,
) -> None:
    _, turns = await _world(sessions)
    form = card_of(await turns.say("categorise oakfield", TRUST_LEAD))
    before = await stored_rows(sessions)
    again = card_of(
        await turns.submit(
            form, TRUST_LEAD, **(DECISION | {"decided_on": "2999-01-01", "rationale": "  "})
        )
    )
    decided_on, rationale = field_error(again, "decided_on"), field_error(again, "rationale")
    assert decided_on is not None and "can't be in the future" in decided_on
    assert rationale is not None and "Give the reasons" in rationale
    assert inputs(again)["attendees"]["value"] == DECISION["attendees"]
    assert await stored_rows(sessions) == before
    assert turns.notices.sent == []


async def test_a_teacher_asking_for_another_schools_category_is_refused_and_audited(
    sessions: Sessions,
) -> None:
    seeded, turns = await _world(sessions)
    before = await stored_rows(sessions)
    refused = await turns.say("category st marys", TEACHER)
    assert refused == Reply(text="You don't have access to St Mary's C of E's category.")
    assert await stored_rows(sessions) == {**before, "audit_event": before["audit_event"] + 1}
    async with sessions() as session:
        [event] = (await session.scalars(select(AuditEvent))).all()
    assert (event.action, event.outcome, event.school_id, event.person_id) == (
        "category.view",
        "refused",
        seeded.school_ids["100002"],
        seeded.person_ids[TEACHER],
    )


async def test_a_card_naming_another_trusts_school_is_refused_audited_and_stores_nothing(
    sessions: Sessions,
) -> None:
    seeded, turns = await _world(sessions)
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    elsewhere = await add_school(sessions, other.trust_id, "200001", "Brookside Academy")
    form = card_of(await turns.command("categorise", TRUST_LEAD))
    before = await stored_rows(sessions)
    # Only a tampered card carries a school of another trust.
    again = card_of(await turns.submit(form, TRUST_LEAD, school_id=str(elsewhere), **DECISION))
    assert field_error(again, "school_id") == "Choose a school of your trust."
    assert "Brookside" not in card_text(again)
    assert await stored_rows(sessions) == {**before, "audit_event": before["audit_event"] + 1}
    async with sessions() as session:
        [event] = (await session.scalars(select(AuditEvent))).all()
    assert (event.action, event.outcome, event.person_id) == (
        "categorise",
        "refused",
        seeded.person_ids[TRUST_LEAD],
    )
    assert await _categorisations(sessions) == []
    assert turns.notices.sent == []


async def test_categorise_is_a_trust_leads_alone(sessions: Sessions) -> None:
    _, turns = await _world(sessions)
    categorise = turns.registry.get_command("categorise")
    save = turns.registry.get_verb("categorise.save")
    assert categorise is not None and save is not None
    # The edge refuses the rest before any handler runs (Turns checks as it does).
    for user, allowed in ((TRUST_LEAD, True), (HEAD, False), (TEACHER, False)):
        actor = await turns.actor(user)
        assert (categorise.allowed(actor), save.allowed(actor)) == (allowed, allowed), user
