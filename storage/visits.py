"""Notes of visit: what a school improvement adviser found, and the actions it leaves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import academic_year_of, year_label
from storage.actions import IN_HAND, Rag, rate_action
from storage.forms import store_once
from storage.models import ActionEvent, Person, PersonRole, SchoolAction, Visit

# Without a next visit date, a next step is due this long after the visit.
DEFAULT_DUE_AFTER = timedelta(weeks=6)


class VisitNumberTaken(ValueError):
    def __init__(self, number: int, academic_year: str) -> None:
        self.number = number
        self.academic_year = academic_year
        super().__init__(f"visit {number} of {academic_year} is recorded for this school already")


@dataclass(frozen=True)
class VisitRecorded:
    visit: Visit
    # False when this form had been stored already (a double click, a redelivery).
    created: bool
    actions: list[SchoolAction] = field(default_factory=list)
    # Ids of the earlier actions rated at this visit.
    rated: list[int] = field(default_factory=list)


def default_due_on(visited_on: date, next_visit_on: date | None) -> date:
    return next_visit_on or visited_on + DEFAULT_DUE_AFTER


def visit_year(day: date) -> str:
    """The academic year a visit on `day` counts in ("2026-27"): visits are numbered
    from 1 again each September."""
    return year_label(academic_year_of(day))


async def next_visit_number(session: AsyncSession, *, school_id: int, academic_year: str) -> int:
    """The number the school's next visit of `academic_year` takes: 1 for its first."""
    highest = await session.scalar(
        select(func.max(Visit.number)).where(
            Visit.school_id == school_id, Visit.academic_year == academic_year
        )
    )
    return int(highest or 0) + 1


async def visits_done(session: AsyncSession, *, school_id: int, academic_year: str) -> int:
    """Notes of visit recorded for the school in `academic_year`."""
    done = await session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(Visit.school_id == school_id, Visit.academic_year == academic_year)
    )
    return int(done or 0)


async def visits_done_by_school(
    session: AsyncSession, *, trust_id: int, school_ids: list[int], academic_year: str
) -> dict[int, int]:
    """Notes of visit recorded in `academic_year` per school, in one grouped statement
    (schools without one are left out)."""
    rows = await session.execute(
        select(Visit.school_id, func.count())
        .where(
            Visit.trust_id == trust_id,
            Visit.school_id.in_(school_ids),
            Visit.academic_year == academic_year,
        )
        .group_by(Visit.school_id)
    )
    return {school_id: int(count) for school_id, count in rows}


async def school_staff(session: AsyncSession, *, school_id: int) -> list[Person]:
    """People who hold a role at the school, by name: who may own its actions."""
    rows = await session.scalars(
        select(Person)
        .where(Person.id.in_(select(PersonRole.person_id).where(PersonRole.school_id == school_id)))
        .order_by(Person.display_name, Person.id)
    )
    return list(rows)


async def actions_to_rate(session: AsyncSession, *, school_id: int) -> list[SchoolAction]:
    """The school's actions in hand, oldest first: what a visit looks at again. One the
    school marked done stays here until the adviser has rated it."""
    rows = await session.scalars(
        select(SchoolAction)
        .where(SchoolAction.school_id == school_id, SchoolAction.status.in_(IN_HAND))
        .order_by(SchoolAction.created_at, SchoolAction.id)
    )
    return list(rows)


async def record_visit(
    session: AsyncSession,
    *,
    trust_id: int,
    school_id: int,
    adviser_id: int,
    number: int,
    visited_on: date,
    focus: str,
    strengths: str,
    risks: str,
    next_visit_on: date | None,
    next_steps: Sequence[str],
    owner_id: int | None,
    due_on: date | None,
    ratings: Mapping[int, Rag],
    form_id: str,
    at: datetime,
) -> VisitRecorded:
    """Store a note of visit once per form: each next step becomes an open action,
    and each rating of an earlier open action of the same school is kept with its
    history. Ratings of any other action are ignored.

    The number counts in the academic year of `visited_on`. Raises VisitNumberTaken
    when the school already has a visit with this number in that year, FormTaken
    when the form id is stored for another school or adviser.
    """
    academic_year = visit_year(visited_on)
    try:
        # A savepoint: losing the visit number to another note keeps the caller's
        # transaction usable, to draw the form again with the number by its field.
        async with session.begin_nested():
            stored = await store_once(
                session,
                Visit,
                {
                    "trust_id": trust_id,
                    "school_id": school_id,
                    "adviser_id": adviser_id,
                    "number": number,
                    "visited_on": visited_on,
                    "academic_year": academic_year,
                    "focus": focus,
                    "strengths": strengths,
                    "risks": risks,
                    "next_visit_on": next_visit_on,
                    "form_id": form_id,
                    "recorded_at": at,
                },
                same=("school_id", "adviser_id"),
            )
    except IntegrityError:
        raise VisitNumberTaken(number, academic_year) from None
    visit = stored.row
    if not stored.created:
        return VisitRecorded(visit, created=False)
    # Ratings first: the actions this visit creates are not for rating yet.
    rated = [
        action_id
        for action_id, rag in ratings.items()
        if await rate_action(
            session,
            action_id=action_id,
            school_id=school_id,
            rag=rag,
            by_person_id=adviser_id,
            at=at,
            visit_id=visit.id,
        )
    ]
    due = due_on or default_due_on(visited_on, next_visit_on)
    actions = [
        SchoolAction(
            trust_id=trust_id,
            school_id=school_id,
            visit_id=visit.id,
            description=step,
            owner_id=owner_id,
            due_on=due,
            status="open",
            created_at=at,
            updated_at=at,
        )
        for step in next_steps
    ]
    session.add_all(actions)
    await session.flush()
    return VisitRecorded(visit, created=True, actions=actions, rated=rated)


async def visit_outcome(session: AsyncSession, *, visit_id: int) -> tuple[int, int]:
    """(actions the visit created, earlier actions it rated): its confirmation, also
    for a form sent twice."""
    created = await session.scalar(
        select(func.count()).select_from(SchoolAction).where(SchoolAction.visit_id == visit_id)
    )
    rated = await session.scalar(
        select(func.count())
        .select_from(ActionEvent)
        .where(ActionEvent.visit_id == visit_id, ActionEvent.kind == "rag")
    )
    return int(created or 0), int(rated or 0)
