"""The demo's school improvement history: categories decided over two years, a
standards review that moved a school up, and a term of notes of visit whose next steps
the schools have marked done, reported on, and had RAG-rated at the next visit.

Written through the storage functions the dialogs use (record_categorisation,
record_review, record_visit, mark_action_done, add_progress_note), so it stays valid
as they change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import add_progress_note, mark_action_done
from storage.categories import record_categorisation
from storage.demo.cast import BRONTE, KINGSBRIDGE, LLWYNCELYN, OAKFIELD, RIVERSIDE, ST_MARYS, Cast
from storage.demo.visit_plan import VISITS, DemoVisit, Step
from storage.standards import record_review
from storage.visit_programme import planned_focus
from storage.visits import next_visit_number, record_visit, visit_year

MEETING = "Headteacher, Chair of Governors, Director of Education, SIA"

# (URN, category key, days ago decided, rationale), oldest first: Oakfield fell to
# Recovery eleven months ago (its one-year target falls due within weeks); Riverside
# moved up at a standards review this term (`REVIEWS`).
CATEGORISATIONS = (
    (OAKFIELD, "reinforcement", 700, "Secure teaching; reading at KS2 needs reinforcing."),
    (BRONTE, "excellence", 518, "Sustained strong outcomes; leads the hub's maths network."),
    (RIVERSIDE, "reinforcement", 420, "Early reading not yet secure; new phonics scheme."),
    (OAKFIELD, "recovery", 336, "Reading outcomes fell for a second year; leadership stretched."),
    (ST_MARYS, "refinement", 147, "Strong outcomes; refine sequencing in the foundation subjects."),
    (BRONTE, "excellence", 147, "Outcomes strong again; its staff support three schools."),
    (LLWYNCELYN, "reinforcement", 147, "Secure teaching; attendance and writing need reinforcing."),
    (KINGSBRIDGE, "reinforcement", 147, "New leadership team; behaviour systems still embedding."),
)
# (URN, days ago held, new category key, notes).
REVIEWS = (
    (
        RIVERSIDE,
        42,
        "refinement",
        "Good progress since the last review; early reading now secure across KS1.",
    ),
)


async def categorise(session: AsyncSession, cast: Cast) -> None:
    for n, (urn, key, ago, rationale) in enumerate(CATEGORISATIONS, 1):
        await record_categorisation(
            session,
            trust_id=cast.trust_id,
            school_id=cast.school(urn).id,
            category_key=key,
            decided_on=cast.day(ago),
            attendees=MEETING,
            rationale=rationale,
            recorded_by=None,
            form_id=f"demo-categorisation-{n}",
        )
    for n, (urn, ago, key, notes) in enumerate(REVIEWS, 1):
        await record_review(
            session,
            trust_id=cast.trust_id,
            school_id=cast.school(urn).id,
            held_on=cast.day(ago),
            attendees=MEETING,
            trustees_attended=True,
            new_category=key,
            notes=notes,
            recorded_by=cast.person("Helen Ashworth"),
            form_id=f"demo-review-{n}",
        )


Event = tuple[int, Callable[[], Awaitable[object]]]


async def visit_schools(session: AsyncSession, cast: Cast) -> None:
    """Each school's visits and what the school did between them, in date order."""
    for urn, (adviser, head, visits) in VISITS.items():
        actions: dict[str, int] = {}
        # What the school did with each step happens after the visit that left it.
        events: list[Event] = []
        for visit in visits:
            events.append((visit.ago, _visiting(session, cast, urn, adviser, head, visit, actions)))
            for step in visit.steps:
                events += _doing(session, cast, urn, head, step, actions)
        for _, event in sorted(events, key=lambda e: -e[0]):
            await event()


def _visiting(
    session: AsyncSession,
    cast: Cast,
    urn: str,
    adviser: str,
    head: str,
    visit: DemoVisit,
    actions: dict[str, int],
) -> Callable[[], Awaitable[object]]:
    school = cast.school(urn)

    async def record() -> None:
        day = cast.day(visit.ago)
        number = await next_visit_number(
            session, school_id=school.id, academic_year=visit_year(day)
        )
        focus = await planned_focus(
            session, trust_id=cast.trust_id, phase=school.phase, number=number
        )
        recorded = await record_visit(
            session,
            trust_id=cast.trust_id,
            school_id=school.id,
            adviser_id=cast.person(adviser),
            number=number,
            visited_on=day,
            focus=focus or "Pupil facing work; the school's improvement priorities",
            strengths=visit.strengths,
            risks=visit.risks,
            next_visit_on=None,
            next_steps=[step.text for step in visit.steps],
            owner_id=cast.person(head),
            due_on=cast.day(visit.due),
            ratings={actions[text]: rag for text, rag in visit.ratings.items()},
            form_id=f"demo-visit-{urn}-{visit.ago}",
            at=cast.at(visit.ago, 15),
        )
        for step, action in zip(visit.steps, recorded.actions, strict=True):
            actions[step.text] = action.id

    return record


def _doing(
    session: AsyncSession, cast: Cast, urn: str, head: str, step: Step, actions: dict[str, int]
) -> list[Event]:
    school_id, by = cast.school(urn).id, cast.person(head)
    events: list[Event] = []
    if step.note is not None:
        ago, note = step.note

        async def noted() -> bool:
            return await add_progress_note(
                session,
                action_id=actions[step.text],
                school_id=school_id,
                by_person_id=by,
                at=cast.at(ago, 12),
                note=note,
            )

        events.append((ago, noted))
    if step.done is not None:
        done = step.done

        async def marked() -> bool:
            return await mark_action_done(
                session,
                action_id=actions[step.text],
                school_id=school_id,
                by_person_id=by,
                at=cast.at(done, 12),
            )

        events.append((done, marked))
    return events
