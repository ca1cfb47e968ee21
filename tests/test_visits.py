"""`visits [school]`: a school's notes of visit newest first, each opening in full, for
its head, governors and adviser and for trust leads; and the digests' visits against
entitlement. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from dialogs.digest_cards import school_digest_card, school_line, trust_digest_card
from dialogs.visits.note import note_of_visit_card
from storage.actions import Rag, mark_action_done
from storage.digests import trust_position
from storage.engine import Sessions
from storage.models import AuditEvent, School, SchoolAction
from storage.visit_programme import set_visit_programme
from storage.visits import record_visit
from tests.improvement import SIA, seed_improvement
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
    seed_trust,
    serve,
    stored_rows,
    texts,
)

# Wednesday 2 December 2026: in the autumn term of 2026-27.
NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
# A governor of Oakfield Primary (100001), and one of St Mary's (100002).
GOVERNOR = "aaaaaaaa-0000-4000-8000-000000000008"
OTHER_GOVERNOR = "aaaaaaaa-0000-4000-8000-000000000009"


async def _visit(
    sessions: Sessions,
    seeded: Seeded,
    *,
    number: int,
    on: date,
    focus: str,
    steps: Sequence[str] = (),
    ratings: dict[int, Rag] | None = None,
    urn: str = "100001",
    strengths: str = "",
    risks: str = "",
) -> tuple[int, list[int]]:
    """A note of visit by Oakfield's adviser; its id and the ids of its actions."""
    async with sessions.begin() as session:
        recorded = await record_visit(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids[urn],
            adviser_id=seeded.person_ids[SIA],
            number=number,
            visited_on=on,
            focus=focus,
            strengths=strengths,
            risks=risks,
            next_visit_on=None,
            next_steps=list(steps),
            owner_id=seeded.person_ids[HEAD],
            due_on=date(2027, 1, 29),
            ratings=ratings or {},
            form_id=f"{urn}-{on.isoformat()}-{number}".ljust(32, "0"),
            at=datetime.combine(on, datetime.min.time(), UTC).replace(hour=15),
        )
    return recorded.visit.id, [action.id for action in recorded.actions]


async def _oakfield(sessions: Sessions) -> tuple[Seeded, dict[str, int]]:
    """Oakfield's visits: one last year, two this year (the second rating the first's
    actions); St Mary's one visit; a governor at each school."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with sessions.begin() as session:
        for aad, name, urn in (
            (GOVERNOR, "Gail Governor", "100001"),
            (OTHER_GOVERNOR, "Otto Governor", "100002"),
        ):
            seeded.person_ids[aad] = await add_person(
                session, seeded.trust_id, aad, name, ["governor"], [seeded.school_ids[urn]]
            )
    last_year, _ = await _visit(
        sessions, seeded, number=6, on=date(2026, 7, 8), focus="Priorities for next year"
    )
    first, (phonics, audit) = await _visit(
        sessions,
        seeded,
        number=1,
        on=date(2026, 9, 22),
        focus="Safeguarding, attendance, SIP priorities",
        steps=["Phonics catch-up in Year 2", "Audit the reading books"],
    )
    second, _ = await _visit(
        sessions,
        seeded,
        number=2,
        on=date(2026, 11, 12),
        focus="Early reading provision",
        steps=["Attendance plan for PP pupils"],
        ratings={phonics: Rag.amber, audit: Rag.green},
        strengths="Phonics teaching is consistent across KS1.",
        risks="Persistent absence in Year 5.",
    )
    st_marys, _ = await _visit(
        sessions, seeded, number=1, on=date(2026, 10, 6), focus="Maths", urn="100002"
    )
    async with sessions.begin() as session:
        await mark_action_done(
            session,
            action_id=audit,
            school_id=seeded.school_ids["100001"],
            by_person_id=seeded.person_ids[HEAD],
            at=NOW,
        )
    return seeded, {
        "last_year": last_year,
        "first": first,
        "second": second,
        "st_marys": st_marys,
    }


def _opens(card: dict[str, Any]) -> list[int]:
    """The visit each Open button of the list opens, top to bottom."""
    return [data["visit_id"] for verb, data in card_actions(card) if verb == "visit.show"]


async def test_a_head_lists_the_schools_notes_newest_first_and_opens_one(
    sessions: Sessions,
) -> None:
    _, visits = await _oakfield(sessions)
    turns = Turns(sessions, now=NOW)
    listed = (await turns.say("visits", HEAD)).card
    assert listed is not None
    shown = card_text(listed)
    assert "Notes of visit: Oakfield Primary" in shown
    assert "2 of 6 visits this year (2026-27)" in shown
    assert _opens(listed) == [visits["second"], visits["first"], visits["last_year"]]
    assert "Visit 2 · Thu 12 Nov 2026" in shown and "2026-27 · Sian Adviser" in shown
    assert "1 next step · 2 earlier actions rated" in shown
    assert "Visit 6 · Wed 8 Jul 2026" in shown and "2025-26 · Sian Adviser" in shown
    assert "Maths" not in shown
    # A head records no notes of visit.
    assert "visit.start" not in {verb for verb, _ in card_actions(listed)}

    note = (await turns.verb("visit.show", {"visit_id": visits["second"]}, HEAD)).card
    assert note is not None
    assert facts(note) == {
        "School": "Oakfield Primary",
        "Visit": "Visit 2 of 2026-27",
        "Date": "12 November 2026",
        "Adviser": "Sian Adviser",
        "Next visit": "Not set",
        "Recorded": "12 November 2026 at 15:00",
    }
    text = card_text(note)
    for shown_text in (
        "Early reading provision",
        "Phonics teaching is consistent across KS1.",
        "Persistent absence in Year 5.",
        "Attendance plan for PP pupils",
        "Owner: Hana Head · Due 29 January 2027 · Open",
        # The ratings it gave the first visit's actions (one since done).
        "Phonics catch-up in Year 2",
        "Amber: partly carried out",
        "Audit the reading books",
        "Green: carried out",
    ):
        assert shown_text in text, shown_text
    # The first visit's steps, as they stand now: one done since.
    first = (await turns.verb("visit.show", {"visit_id": visits["first"]}, HEAD)).card
    assert first is not None
    assert "Owner: Hana Head · Due 29 January 2027 · Done · RAG green" in card_text(first)
    assert "No earlier action was rated at this visit." in card_text(first)
    # Back to the list from the note.
    [(verb, data)] = card_actions(note)
    back = (await turns.verb(verb, data, HEAD)).card
    assert back is not None and _opens(back) == _opens(listed)


async def test_governors_advisers_and_trust_leads_read_the_notes_they_reach(
    sessions: Sessions,
) -> None:
    seeded, visits = await _oakfield(sessions)
    turns = Turns(sessions, now=NOW)
    governor = (await turns.say("past visits", GOVERNOR)).card
    assert governor is not None and "Notes of visit: Oakfield Primary" in card_text(governor)
    shown = (await turns.verb("visit.show", {"visit_id": visits["second"]}, GOVERNOR)).card
    assert shown is not None and "Persistent absence in Year 5." in card_text(shown)

    adviser = (await turns.say("visits oakfield", SIA)).card
    assert adviser is not None
    # The school's adviser may start the next note from the list.
    oakfield = seeded.school_ids["100001"]
    assert ("visit.start", {"verb": "visit.start", "school_id": oakfield}) in card_actions(adviser)
    lead = (await turns.say("visits st marys", TRUST_LEAD)).card
    assert lead is not None and _opens(lead) == [visits["st_marys"]]
    # A trust lead without a school named chooses one.
    choose = (await turns.say("visits", TRUST_LEAD)).card
    assert choose is not None and "Which school?" in card_text(choose)
    [(verb, _)] = card_actions(choose)
    assert verb == "visit.notes"


async def test_a_governor_of_another_school_is_refused_and_audited(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded, visits = await _oakfield(sessions)
    oakfield = seeded.school_ids["100001"]
    turns = Turns(sessions, now=NOW)
    before = await stored_rows(sessions)
    typed = await turns.say("visits oakfield", OTHER_GOVERNOR)
    opened = await turns.verb("visit.show", {"visit_id": visits["second"]}, OTHER_GOVERNOR)
    page = await turns.verb("visit.notes", {"school_id": oakfield}, OTHER_GOVERNOR)
    adviser = await turns.say("visits st marys", SIA)
    assert typed.text == "You don't have access to Oakfield Primary's notes of visit."
    assert opened.text == "You don't have access to that note of visit."
    assert page.text == "You don't have access to Oakfield Primary's notes of visit."
    assert adviser.text == "You don't have access to St Mary's C of E's notes of visit."
    assert typed.card is None and opened.card is None and page.card is None
    # Their own school's notes are theirs to read.
    own = (await turns.say("visits", OTHER_GOVERNOR)).card
    assert own is not None and _opens(own) == [visits["st_marys"]]
    assert await stored_rows(sessions) == {**before, "audit_event": before["audit_event"] + 4}
    async with sessions() as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [(e.action, e.outcome, e.person_id, e.school_id) for e in events] == [
        ("visit.notes", "refused", seeded.person_ids[OTHER_GOVERNOR], oakfield),
        ("visit.show", "refused", seeded.person_ids[OTHER_GOVERNOR], oakfield),
        ("visit.notes", "refused", seeded.person_ids[OTHER_GOVERNOR], oakfield),
        ("visit.notes", "refused", seeded.person_ids[SIA], seeded.school_ids["100002"]),
    ]


async def test_a_teacher_is_refused_and_a_note_of_another_trust_is_not_found(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded, visits = await _oakfield(sessions)
    other = await seed_improvement(
        sessions, await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    )
    theirs, _ = await _visit(sessions, other, number=1, on=date(2026, 10, 1), focus="BRAVO")
    before = await stored_rows(sessions)
    settings = Settings(_env_file=None)
    async with serve(engine, sessions, seeded, settings=settings, now=NOW) as world:
        teacher = await world.say("visits", TEACHER)
        pressed = await world.press("visit.show", {"visit_id": visits["second"]}, TEACHER)
        foreign = await world.press("visit.show", {"visit_id": theirs}, HEAD)
    assert texts(teacher).startswith("You don't have access to Notes of visit: it is for")
    assert "governors" in texts(teacher) and "heads" in texts(teacher)
    assert str(pressed).startswith("You don't have access to that action")
    assert foreign == "You don't have access to that note of visit."
    after = await stored_rows(sessions)
    assert after == {**before, "audit_event": before["audit_event"] + 3}
    async with sessions() as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [(e.action, e.outcome, e.school_id) for e in events] == [
        ("command:visits", "refused", None),
        ("verb:visit.show", "refused", None),
        ("visit.show", "refused", None),
    ]


async def test_a_long_history_pages_ten_notes_at_a_time(sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    made = []
    for year in (2024, 2025):
        for number in range(1, 7):
            on = date(year, 9, 1 + 3 * number) if number < 5 else date(year + 1, 3, number)
            made.append((await _visit(sessions, seeded, number=number, on=on, focus="F"))[0])
    turns = Turns(sessions, now=NOW)
    first = (await turns.say("visits", HEAD)).card
    assert first is not None
    assert "0 of 6 visits this year (2026-27)" in card_text(first)
    assert "Page 1 of 2, newest first: 12 notes in all." in card_text(first)
    older = [(verb, data) for verb, data in card_actions(first) if verb == "visit.notes"]
    assert [data["page"] for _, data in older] == [2]
    second = (await turns.verb(*older[0], HEAD)).card
    assert second is not None
    newest_first = sorted(made, reverse=True)
    assert _opens(first) + _opens(second) == newest_first
    assert [data.get("page") for verb, data in card_actions(second) if verb == "visit.notes"] == [1]


async def test_the_note_card_is_one_call_for_any_dialog(sessions: Sessions) -> None:
    seeded, visits = await _oakfield(sessions)
    async with sessions() as session:
        card = await note_of_visit_card(
            session, trust_id=seeded.trust_id, visit_id=visits["first"], zone=LONDON
        )
        nothing = await note_of_visit_card(
            session, trust_id=seeded.trust_id + 1, visit_id=visits["first"], zone=LONDON
        )
    assert card is not None
    # Recorded at 15:00 UTC on 22 September: 16:00 in London (BST).
    assert facts(card)["Recorded"] == "22 September 2026 at 16:00"
    assert facts(card)["Visit"] == "Visit 1 of 2026-27"
    assert nothing is None


# -- the digests -----------------------------------------------------------------------


async def test_the_digests_show_visits_against_entitlement_this_year(
    sessions: Sessions,
) -> None:
    seeded, _ = await _oakfield(sessions)
    async with sessions.begin() as session:
        school = await session.get(School, seeded.school_ids["100002"])
        assert school is not None
        school.phase = "secondary"
        await set_visit_programme(
            session,
            trust_id=seeded.trust_id,
            csv_text="phase,visit,focus\nprimary,1,\nprimary,2,\nprimary,3,\n",
        )
    async with sessions() as session:
        position = await trust_position(session, trust_id=seeded.trust_id, today=NOW.date())
    by_name = {s.name: s for s in position.schools}
    oakfield, st_marys = by_name["Oakfield Primary"], by_name["St Mary's C of E"]
    # Oakfield: two visits this year (last July's is 2025-26's) of the three it loaded;
    # St Mary's, a secondary: one of the default four.
    assert (oakfield.visits_done, oakfield.visits_entitled) == (2, 3)
    assert (st_marys.visits_done, st_marys.visits_entitled) == (1, 4)
    assert "visits 2/3" in school_line(oakfield)
    assert "visits 2/3" in card_text(trust_digest_card(position))
    head = school_digest_card(position, oakfield)
    assert facts(head)["Adviser visits"] == "2 of 3 this year (2026-27)"


async def test_the_digest_reads_visits_in_the_same_statements_however_many_schools(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded, _ = await _oakfield(sessions)

    async def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            async with sessions() as session:
                await trust_position(session, trust_id=seeded.trust_id, today=NOW.date())
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        return len(seen)

    few = await statements()
    for n in range(12):
        school_id = await add_school(sessions, seeded.trust_id, f"3000{n:02d}", f"Academy {n}")
        async with sessions.begin() as session:
            session.add(
                SchoolAction(
                    trust_id=seeded.trust_id,
                    school_id=school_id,
                    description="x",
                    status="open",
                )
            )
        seeded.school_ids[f"3000{n:02d}"] = school_id
        await _visit(
            sessions, seeded, number=1, on=date(2026, 10, 1), focus="F", urn=f"3000{n:02d}"
        )
    assert await statements() == few
