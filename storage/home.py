"""The counts a home card shows ("3 actions overdue", "2 teachers due a session") and
the `schools` list: a statement or two whatever the number of schools. Counts only:
nothing here reads a pupil reference, a note or any other text someone typed."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import Status
from storage.attendance import OPEN
from storage.categories import current_category_names
from storage.coaching import HELD
from storage.models import (
    AttendanceConcern,
    CoachingSession,
    PersonRole,
    Role,
    School,
    SchoolAction,
)

# One count of the home card's, as a query: `read_counts` reads several at once.
Count = Select[int]


def overdue_actions(*, trust_id: int, school_ids: Collection[int] | None, today: date) -> Count:
    """Open actions past their due date at these schools (None: the whole trust)."""
    query = select(func.count(SchoolAction.id)).where(
        SchoolAction.trust_id == trust_id,
        SchoolAction.status == Status.open.value,
        SchoolAction.due_on < today,
    )
    if school_ids is not None:
        query = query.where(SchoolAction.school_id.in_(list(school_ids)))
    return query


def open_concerns(*, trust_id: int, school_ids: Collection[int] | None) -> Count:
    """Open attendance concerns at these schools (None: the whole trust)."""
    query = select(func.count(AttendanceConcern.id)).where(
        AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN
    )
    if school_ids is not None:
        query = query.where(AttendanceConcern.school_id.in_(list(school_ids)))
    return query


def teachers_due_a_session(
    *,
    trust_id: int,
    school_ids: Collection[int] | None,
    today: date,
    days: int,
    exclude_person_id: int | None = None,
) -> Count:
    """Teachers at these schools (None: the whole trust) with no session held, by
    anyone, in the last `days` days: who is due one."""
    coached = select(CoachingSession.coachee_id).where(
        CoachingSession.trust_id == trust_id,
        CoachingSession.status == HELD,
        CoachingSession.held_on > today - timedelta(days=days),
    )
    query = (
        select(func.count(func.distinct(PersonRole.person_id)))
        .join(School, School.id == PersonRole.school_id)
        .where(
            School.trust_id == trust_id,
            PersonRole.role == Role.teacher.value,
            PersonRole.person_id.not_in(coached),
        )
    )
    if school_ids is not None:
        query = query.where(School.id.in_(list(school_ids)))
    if exclude_person_id is not None:
        query = query.where(PersonRole.person_id != exclude_person_id)
    return query


async def read_counts(session: AsyncSession, wanted: Mapping[str, Count]) -> dict[str, int]:
    """Several of the counts above, by name, in one statement (each a scalar subquery
    of one SELECT): a home card's rows cost one statement, not one each."""
    if not wanted:
        return {}
    columns = [query.scalar_subquery().label(name) for name, query in wanted.items()]
    row = (await session.execute(select(*columns))).one()
    return {name: int(value or 0) for name, value in zip(wanted, row, strict=True)}


@dataclass(frozen=True)
class SchoolLine:
    """One school as the `schools` list shows it: counts and its category, no content."""

    school_id: int
    name: str
    category: str | None
    overdue_actions: int
    open_actions: int
    open_concerns: int


async def school_lines(
    session: AsyncSession, *, trust_id: int, school_ids: Collection[int] | None, today: date
) -> list[SchoolLine]:
    """These schools (None: the trust's), by name, with their category and counts: one
    statement whatever the number of schools (the counts grouped, joined to each school)."""
    in_scope = [School.trust_id == trust_id]
    if school_ids is not None:
        in_scope.append(School.id.in_(list(school_ids)))
    actions = (
        select(
            SchoolAction.school_id.label("school_id"),
            func.count(SchoolAction.id).label("open"),
            func.count(SchoolAction.id).filter(SchoolAction.due_on < today).label("overdue"),
        )
        .where(SchoolAction.trust_id == trust_id, SchoolAction.status == Status.open.value)
        .group_by(SchoolAction.school_id)
        .subquery("actions")
    )
    concerns = (
        select(
            AttendanceConcern.school_id.label("school_id"),
            func.count(AttendanceConcern.id).label("open"),
        )
        .where(and_(AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN))
        .group_by(AttendanceConcern.school_id)
        .subquery("concerns")
    )
    category = current_category_names(trust_id)
    query = (
        select(
            School.id,
            School.name,
            category.c.category_name,
            func.coalesce(actions.c.overdue, 0),
            func.coalesce(actions.c.open, 0),
            func.coalesce(concerns.c.open, 0),
        )
        .outerjoin(actions, actions.c.school_id == School.id)
        .outerjoin(concerns, concerns.c.school_id == School.id)
        .outerjoin(category, category.c.school_id == School.id)
        .where(*in_scope)
        .order_by(School.name, School.id)
    )
    return [
        SchoolLine(
            school_id=school_id,
            name=name,
            category=category_name,
            overdue_actions=int(overdue),
            open_actions=int(open_actions),
            open_concerns=int(open_concerns),
        )
        for school_id, name, category_name, overdue, open_actions, open_concerns in (
            await session.execute(query)
        )
    ]


async def last_coached_on(session: AsyncSession, *, trust_id: int, person_id: int) -> date | None:
    """The day of the person's latest held session as a coachee: a date, no content."""
    return await session.scalar(
        select(func.max(CoachingSession.held_on)).where(
            CoachingSession.trust_id == trust_id,
            CoachingSession.coachee_id == person_id,
            CoachingSession.status == HELD,
        )
    )
