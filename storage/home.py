"""The counts a home card shows ("3 actions overdue", "2 teachers due a session") and
the `schools` list: each a few statements whatever the number of schools. Counts only:
nothing here reads a pupil reference, a note or any other text someone typed."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import Status
from storage.attendance import OPEN
from storage.categories import current_categorisations
from storage.coaching import HELD
from storage.models import (
    AttendanceConcern,
    CoachingSession,
    PersonRole,
    Role,
    School,
    SchoolAction,
)


async def overdue_action_count(
    session: AsyncSession, *, trust_id: int, school_ids: Collection[int] | None, today: date
) -> int:
    """Open actions past their due date at these schools (None: the whole trust)."""
    query = select(func.count(SchoolAction.id)).where(
        SchoolAction.trust_id == trust_id,
        SchoolAction.status == Status.open.value,
        SchoolAction.due_on < today,
    )
    if school_ids is not None:
        query = query.where(SchoolAction.school_id.in_(list(school_ids)))
    return int(await session.scalar(query) or 0)


async def open_concern_count(
    session: AsyncSession, *, trust_id: int, school_ids: Collection[int] | None
) -> int:
    """Open attendance concerns at these schools (None: the whole trust)."""
    query = select(func.count(AttendanceConcern.id)).where(
        AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN
    )
    if school_ids is not None:
        query = query.where(AttendanceConcern.school_id.in_(list(school_ids)))
    return int(await session.scalar(query) or 0)


async def teachers_due_a_session(
    session: AsyncSession,
    *,
    trust_id: int,
    school_ids: Collection[int] | None,
    today: date,
    days: int,
    exclude_person_id: int | None = None,
) -> int:
    """Teachers at these schools (None: the whole trust) with no session held, by
    anyone, in the last `days` days: who is due one. One statement."""
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
    return int(await session.scalar(query) or 0)


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
    """These schools (None: the trust's), by name, with their category and counts: four
    statements whatever the number of schools."""
    schools_query = select(School.id, School.name).where(School.trust_id == trust_id)
    actions_query = (
        select(
            SchoolAction.school_id,
            func.count(SchoolAction.id),
            func.count(SchoolAction.id).filter(SchoolAction.due_on < today),
        )
        .where(SchoolAction.trust_id == trust_id, SchoolAction.status == Status.open.value)
        .group_by(SchoolAction.school_id)
    )
    concerns_query = (
        select(AttendanceConcern.school_id, func.count(AttendanceConcern.id))
        .where(and_(AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN))
        .group_by(AttendanceConcern.school_id)
    )
    if school_ids is not None:
        wanted = list(school_ids)
        schools_query = schools_query.where(School.id.in_(wanted))
        actions_query = actions_query.where(SchoolAction.school_id.in_(wanted))
        concerns_query = concerns_query.where(AttendanceConcern.school_id.in_(wanted))
    schools = list(await session.execute(schools_query.order_by(School.name, School.id)))
    if not schools:
        return []
    actions = {sid: (int(n), int(late)) for sid, n, late in await session.execute(actions_query)}
    concerns = {sid: int(n) for sid, n in await session.execute(concerns_query)}
    categories = await current_categorisations(session, trust_id=trust_id)
    lines: list[SchoolLine] = []
    for school_id, name in schools:
        decision = categories.get(school_id)
        open_actions, overdue = actions.get(school_id, (0, 0))
        lines.append(
            SchoolLine(
                school_id=school_id,
                name=name,
                category=decision.category_name if decision else None,
                overdue_actions=overdue,
                open_actions=open_actions,
                open_concerns=concerns.get(school_id, 0),
            )
        )
    return lines


async def last_coached_on(session: AsyncSession, *, trust_id: int, person_id: int) -> date | None:
    """The day of the person's latest held session as a coachee: a date, no content."""
    return await session.scalar(
        select(func.max(CoachingSession.held_on)).where(
            CoachingSession.trust_id == trust_id,
            CoachingSession.coachee_id == person_id,
            CoachingSession.status == HELD,
        )
    )
