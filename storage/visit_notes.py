"""Reading notes of visit: a school's list, newest first, and one note in full with
the actions it left and the ratings it gave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import ActionEvent, Person, School, SchoolAction, Visit


@dataclass(frozen=True)
class VisitLine:
    """A note of visit as a list shows it."""

    id: int
    number: int
    academic_year: str
    visited_on: date
    adviser_name: str | None
    focus: str
    # Next steps it left (actions it created), and earlier actions it rated.
    next_steps: int
    rated: int


@dataclass(frozen=True)
class VisitPage:
    lines: list[VisitLine]
    # Every note of the school, of which `lines` are one page.
    total: int


@dataclass(frozen=True)
class NextStep:
    """An action a visit created, as it stands now."""

    description: str
    owner_name: str | None
    due_on: date | None
    status: str
    rag: str | None


@dataclass(frozen=True)
class Rating:
    """The RAG rating a visit gave an earlier action."""

    description: str
    rag: str


@dataclass(frozen=True)
class NoteOfVisit:
    visit: Visit
    school: School
    adviser_name: str | None
    next_steps: list[NextStep]
    ratings: list[Rating]


async def school_visits(
    session: AsyncSession, *, trust_id: int, school_id: int, limit: int, offset: int = 0
) -> VisitPage:
    """The school's notes of visit, newest first (by visit date, then as recorded)."""
    total = await session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(Visit.trust_id == trust_id, Visit.school_id == school_id)
    )
    created = (
        select(func.count())
        .select_from(SchoolAction)
        .where(SchoolAction.visit_id == Visit.id)
        .scalar_subquery()
    )
    rated = (
        select(func.count())
        .select_from(ActionEvent)
        .where(ActionEvent.visit_id == Visit.id, ActionEvent.kind == "rag")
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Visit, Person.display_name, created, rated)
        .outerjoin(Person, Person.id == Visit.adviser_id)
        .where(Visit.trust_id == trust_id, Visit.school_id == school_id)
        .order_by(Visit.visited_on.desc(), Visit.recorded_at.desc(), Visit.id.desc())
        .limit(limit)
        .offset(offset)
    )
    lines = [
        VisitLine(
            id=visit.id,
            number=visit.number,
            academic_year=visit.academic_year,
            visited_on=visit.visited_on,
            adviser_name=adviser,
            focus=visit.focus,
            next_steps=int(steps or 0),
            rated=int(ratings or 0),
        )
        for visit, adviser, steps, ratings in rows
    ]
    return VisitPage(lines, int(total or 0))


async def visit_in_trust(session: AsyncSession, *, trust_id: int, visit_id: int) -> Visit | None:
    return await session.scalar(
        select(Visit).where(Visit.id == visit_id, Visit.trust_id == trust_id)
    )


async def note_of_visit(
    session: AsyncSession, *, trust_id: int, visit_id: int
) -> NoteOfVisit | None:
    """A note of visit of the trust in full: the visit, its school and adviser, the
    next steps it left (each as it stands now) and the ratings it gave earlier
    actions; None when the trust has no such visit."""
    found = (
        await session.execute(
            select(Visit, School, Person.display_name)
            .join(School, School.id == Visit.school_id)
            .outerjoin(Person, Person.id == Visit.adviser_id)
            .where(Visit.id == visit_id, Visit.trust_id == trust_id, School.trust_id == trust_id)
        )
    ).one_or_none()
    if found is None:
        return None
    visit, school, adviser = found
    owner = aliased(Person)
    steps = await session.execute(
        select(SchoolAction, owner.display_name)
        .outerjoin(owner, owner.id == SchoolAction.owner_id)
        .where(SchoolAction.visit_id == visit.id, SchoolAction.trust_id == trust_id)
        .order_by(SchoolAction.id)
    )
    ratings = await session.execute(
        select(SchoolAction.description, ActionEvent.value)
        .join(SchoolAction, SchoolAction.id == ActionEvent.action_id)
        .where(
            ActionEvent.visit_id == visit.id,
            ActionEvent.kind == "rag",
            SchoolAction.trust_id == trust_id,
        )
        .order_by(ActionEvent.at, ActionEvent.id)
    )
    return NoteOfVisit(
        visit=visit,
        school=school,
        adviser_name=adviser,
        next_steps=[
            NextStep(
                description=action.description,
                owner_name=owner_name,
                due_on=action.due_on,
                status=action.status,
                rag=action.rag,
            )
            for action, owner_name in steps
        ],
        ratings=[Rating(description, rag) for description, rag in ratings],
    )
