"""Coaching coverage: counts, shares and strand names per school; never content."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coaching import CANCELLED, HELD
from storage.models import CoachingSession, CoachingStrand, PersonRole, Role, School


@dataclass
class Coverage:
    """Coaching activity at a school (or the trust): counts only, never content."""

    school_id: int | None
    school_name: str
    teachers: int = 0
    coached_2_weeks: int = 0
    coached_6_weeks: int = 0
    held_6_weeks: int = 0
    cancelled_6_weeks: int = 0
    strands: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def _percent(part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def share_2_weeks(self) -> int | None:
        return self._percent(self.coached_2_weeks, self.teachers)

    @property
    def share_6_weeks(self) -> int | None:
        return self._percent(self.coached_6_weeks, self.teachers)

    @property
    def sessions_per_teacher(self) -> float | None:
        return round(self.held_6_weeks / self.teachers, 1) if self.teachers else None

    @property
    def cancellation_rate(self) -> int | None:
        return self._percent(self.cancelled_6_weeks, self.held_6_weeks + self.cancelled_6_weeks)


async def coaching_coverage(
    session: AsyncSession,
    *,
    trust_id: int,
    school_ids: list[int] | None,
    today: date,
    with_strands: bool = True,
) -> list[Coverage]:
    """Coverage per school (all the trust's schools when `school_ids` is None).

    Two statements whatever the number of schools: each school with its counts
    (its teachers and its sessions, grouped, joined to it), then the strands; one
    without the strands (the dashboard shows none, and at 200 schools they cost a
    tenth of a second). A turn's statements are most of its cost (issue 18).
    """
    in_scope = [School.trust_id == trust_id]
    if school_ids is not None:
        in_scope.append(School.id.in_(school_ids))
    scope = select(School.id).where(*in_scope)

    teachers = (
        select(
            PersonRole.school_id.label("school_id"),
            func.count(func.distinct(PersonRole.person_id)).label("teachers"),
        )
        .where(PersonRole.role == Role.teacher, PersonRole.school_id.in_(scope))
        .group_by(PersonRole.school_id)
        .subquery("teachers")
    )
    two_weeks, six_weeks = today - timedelta(days=14), today - timedelta(days=42)
    teacher_at_school = (
        select(PersonRole.person_id)
        .where(
            PersonRole.role == Role.teacher,
            PersonRole.school_id == CoachingSession.school_id,
            PersonRole.person_id == CoachingSession.coachee_id,
        )
        .exists()
    )
    recent = and_(
        CoachingSession.trust_id == trust_id,
        CoachingSession.school_id.in_(scope),
        CoachingSession.held_on > six_weeks,
        CoachingSession.held_on <= today,
    )
    held = CoachingSession.status == HELD
    sessions = (
        select(
            CoachingSession.school_id.label("school_id"),
            func.count(func.distinct(CoachingSession.coachee_id))
            .filter(held, CoachingSession.held_on > two_weeks, teacher_at_school)
            .label("two"),
            func.count(func.distinct(CoachingSession.coachee_id))
            .filter(held, teacher_at_school)
            .label("six"),
            func.count().filter(held).label("held"),
            func.count().filter(CoachingSession.status == CANCELLED).label("cancelled"),
        )
        .where(recent)
        .group_by(CoachingSession.school_id)
        .subquery("sessions")
    )
    per_school = (
        select(
            School.id,
            School.name,
            func.coalesce(teachers.c.teachers, 0),
            func.coalesce(sessions.c.two, 0),
            func.coalesce(sessions.c.six, 0),
            func.coalesce(sessions.c.held, 0),
            func.coalesce(sessions.c.cancelled, 0),
        )
        .outerjoin(teachers, teachers.c.school_id == School.id)
        .outerjoin(sessions, sessions.c.school_id == School.id)
        .where(*in_scope)
        .order_by(School.name)
    )
    coverage = {
        school_id: Coverage(
            school_id=school_id,
            school_name=name,
            teachers=int(count),
            coached_2_weeks=int(two),
            coached_6_weeks=int(six),
            held_6_weeks=int(held_count),
            cancelled_6_weeks=int(cancelled),
        )
        for school_id, name, count, two, six, held_count, cancelled in await session.execute(
            per_school
        )
    }
    if not coverage:
        return []
    if not with_strands:
        return list(coverage.values())
    strands = (
        select(CoachingSession.school_id, CoachingStrand.name, func.count())
        .join(CoachingStrand, CoachingStrand.id == CoachingSession.strand_id)
        .where(recent, held)
        .group_by(CoachingSession.school_id, CoachingStrand.name)
    )
    for school_id, name, count in await session.execute(strands):
        coverage[school_id].strands[name] = int(count)
    return list(coverage.values())


def trust_total(schools: list[Coverage], trust_name: str) -> Coverage:
    """The trust's figures: the schools' counts added up.

    A teacher at two schools counts at each (coverage is a school's measure).
    """
    total = Coverage(school_id=None, school_name=trust_name)
    strands: dict[str, int] = defaultdict(int)
    for entry in schools:
        total.teachers += entry.teachers
        total.coached_2_weeks += entry.coached_2_weeks
        total.coached_6_weeks += entry.coached_6_weeks
        total.held_6_weeks += entry.held_6_weeks
        total.cancelled_6_weeks += entry.cancelled_6_weeks
        for name, count in entry.strands.items():
            strands[name] += count
    total.strands = dict(strands)
    return total
