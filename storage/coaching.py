"""Incremental coaching: strands, sessions, and coverage.

Content private, activity visible: notes and action steps are read only through
the functions for a session's coach and coachee; `coaching_coverage` returns
counts, shares and strand names, never content.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.directory import Actor
from storage.forms import FormTaken
from storage.models import (
    CoachingSession,
    CoachingStrand,
    Person,
    PersonRole,
    Role,
    School,
)

HELD = "held"
CANCELLED = "cancelled"
# Who logs coaching sessions, at the schools where they hold the role.
COACHING_LOGGERS = frozenset({Role.coach, Role.head, Role.trust_lead})
# Sessions can be corrected by their author for this long after logging.
EDIT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Coachee:
    person_id: int
    name: str
    school_id: int
    school_name: str


@dataclass(frozen=True)
class SessionLine:
    """A session as its coach or coachee sees it."""

    id: int
    held_on: date
    status: str
    coach_id: int
    coach_name: str
    coachee_id: int
    coachee_name: str
    strand: str
    action_step: str
    next_session_on: date | None


@dataclass(frozen=True)
class DueCoachee:
    person_id: int
    name: str
    last_held_on: date
    days_since: int


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


# -- who can be coached ---------------------------------------------------------


async def coachable_teachers(
    session: AsyncSession, actor: Actor, *, school_id: int | None = None
) -> list[Coachee]:
    """Teachers of the schools where this person logs coaching (themselves excluded),
    by name: a coach at one school and a teacher at another coaches at the first.
    With `school_id`, that school's only (none if they do not coach there)."""
    query = (
        select(Person.id, Person.display_name, School.id, School.name)
        .join(PersonRole, and_(PersonRole.person_id == Person.id, PersonRole.role == Role.teacher))
        .join(School, School.id == PersonRole.school_id)
        .where(Person.trust_id == actor.trust_id, Person.id != actor.person_id)
        .order_by(Person.display_name, School.name)
    )
    coaching_at = actor.schools_where(COACHING_LOGGERS)
    if coaching_at is not None:
        query = query.where(School.id.in_(coaching_at))
    if school_id is not None:
        query = query.where(School.id == school_id, School.trust_id == actor.trust_id)
    seen: set[int] = set()
    coachees: list[Coachee] = []
    for person_id, name, school_id, school_name in await session.execute(query):
        # A teacher at two of the coach's schools is listed once, at the first.
        if person_id not in seen:
            seen.add(person_id)
            coachees.append(Coachee(person_id, name, school_id, school_name))
    return coachees


async def coaching_schools(session: AsyncSession, actor: Actor) -> list[tuple[int, str]]:
    """The schools where this person logs coaching and which have a teacher to coach,
    by name: (id, name)."""
    has_teacher = (
        select(PersonRole.id)
        .join(Person, Person.id == PersonRole.person_id)
        .where(
            PersonRole.role == Role.teacher,
            PersonRole.school_id == School.id,
            Person.id != actor.person_id,
        )
        .exists()
    )
    query = select(School.id, School.name).where(School.trust_id == actor.trust_id, has_teacher)
    coaching_at = actor.schools_where(COACHING_LOGGERS)
    if coaching_at is not None:
        query = query.where(School.id.in_(coaching_at))
    rows = await session.execute(query.order_by(School.name))
    return [(school_id, name) for school_id, name in rows]


# -- recording ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionDetails:
    coachee_id: int
    school_id: int
    held_on: date
    strand_id: int | None
    status: str
    action_step: str
    notes: str
    next_session_on: date | None


async def record_coaching_session(
    session: AsyncSession,
    *,
    trust_id: int,
    coach_id: int,
    form_id: str,
    details: SessionDetails,
    logged_at: datetime,
) -> tuple[CoachingSession, bool]:
    """Store a new session once per form: (the session, whether it was new).

    A double-clicked or redelivered submit carries the same form id and gets
    the session stored the first time. Raises FormTaken for a form id another
    coach's session was stored with.
    """
    existing = await session_by_form(session, trust_id=trust_id, form_id=form_id)
    if existing is not None:
        return _again(existing, coach_id)
    row = CoachingSession(
        trust_id=trust_id,
        coach_id=coach_id,
        form_id=form_id,
        created_at=logged_at,
        updated_at=logged_at,
    )
    _apply(row, details)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another replica stored the same form a moment ago.
        existing = await session_by_form(session, trust_id=trust_id, form_id=form_id)
        if existing is None:
            raise
        return _again(existing, coach_id)
    return row, True


def _again(existing: CoachingSession, coach_id: int) -> tuple[CoachingSession, bool]:
    """The same form sent again, if it is: by the coach who sent it first."""
    if existing.coach_id != coach_id:
        raise FormTaken()
    return existing, False


async def update_coaching_session(
    session: AsyncSession, *, row: CoachingSession, details: SessionDetails
) -> CoachingSession:
    _apply(row, details)
    await session.flush()
    return row


def _apply(row: CoachingSession, details: SessionDetails) -> None:
    row.coachee_id = details.coachee_id
    row.school_id = details.school_id
    row.held_on = details.held_on
    row.strand_id = details.strand_id
    row.status = details.status
    row.action_step = details.action_step
    row.notes = details.notes
    row.next_session_on = details.next_session_on


async def session_by_form(
    session: AsyncSession, *, trust_id: int, form_id: str
) -> CoachingSession | None:
    return await session.scalar(
        select(CoachingSession).where(
            CoachingSession.trust_id == trust_id, CoachingSession.form_id == form_id
        )
    )


async def coaching_session(
    session: AsyncSession, *, trust_id: int, session_id: int
) -> CoachingSession | None:
    return await session.scalar(
        select(CoachingSession).where(
            CoachingSession.trust_id == trust_id, CoachingSession.id == session_id
        )
    )


# -- reading, for the coach and the coachee ---------------------------------


# Built once: an alias made per call costs its column adaptation every time.
_COACH = aliased(Person, name="coach")
_COACHEE = aliased(Person, name="coachee")


async def _session_lines(
    session: AsyncSession, *, where: list[object], limit: int
) -> list[SessionLine]:
    coach, coachee = _COACH, _COACHEE
    query = (
        select(CoachingSession, coach.display_name, coachee.display_name, CoachingStrand.name)
        .join(coach, coach.id == CoachingSession.coach_id)
        .join(coachee, coachee.id == CoachingSession.coachee_id)
        .outerjoin(CoachingStrand, CoachingStrand.id == CoachingSession.strand_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(CoachingSession.held_on.desc(), CoachingSession.id.desc())
        .limit(limit)
    )
    return [
        SessionLine(
            id=row.id,
            held_on=row.held_on,
            status=row.status,
            coach_id=row.coach_id,
            coach_name=coach_name,
            coachee_id=row.coachee_id,
            coachee_name=coachee_name,
            strand=strand or "",
            action_step=row.action_step,
            next_session_on=row.next_session_on,
        )
        for row, coach_name, coachee_name, strand in await session.execute(query)
    ]


async def sessions_as_coach(
    session: AsyncSession, *, trust_id: int, coach_id: int, limit: int = 8
) -> list[SessionLine]:
    return await _session_lines(
        session,
        where=[CoachingSession.trust_id == trust_id, CoachingSession.coach_id == coach_id],
        limit=limit,
    )


async def sessions_as_coachee(
    session: AsyncSession, *, trust_id: int, coachee_id: int, limit: int = 8
) -> list[SessionLine]:
    return await _session_lines(
        session,
        where=[CoachingSession.trust_id == trust_id, CoachingSession.coachee_id == coachee_id],
        limit=limit,
    )


async def session_line(
    session: AsyncSession, *, trust_id: int, session_id: int
) -> SessionLine | None:
    lines = await _session_lines(
        session,
        where=[CoachingSession.trust_id == trust_id, CoachingSession.id == session_id],
        limit=1,
    )
    return lines[0] if lines else None


async def coachees_due(
    session: AsyncSession, *, trust_id: int, coach_id: int, today: date, interval_days: int
) -> list[DueCoachee]:
    """The coach's coachees (anyone they coached in the last year) with no held
    session, by anyone, in the trust's coaching interval; longest wait first."""
    mine = (
        select(CoachingSession.coachee_id)
        .where(
            CoachingSession.trust_id == trust_id,
            CoachingSession.coach_id == coach_id,
            CoachingSession.held_on > today - timedelta(days=365),
        )
        .distinct()
    )
    last_held = func.max(CoachingSession.held_on)
    query = (
        select(Person.id, Person.display_name, last_held)
        .join(CoachingSession, CoachingSession.coachee_id == Person.id)
        .where(
            Person.id.in_(mine),
            CoachingSession.trust_id == trust_id,
            CoachingSession.status == HELD,
        )
        .group_by(Person.id, Person.display_name)
        .having(last_held <= today - timedelta(days=interval_days))
        .order_by(last_held, Person.display_name)
    )
    return [
        DueCoachee(person_id, name, last, (today - last).days)
        for person_id, name, last in await session.execute(query)
    ]


# -- coverage: counts only ---------------------------------------------------------


async def coaching_coverage(
    session: AsyncSession, *, trust_id: int, school_ids: list[int] | None, today: date
) -> list[Coverage]:
    """Coverage per school (all the trust's schools when `school_ids` is None).

    Three grouped queries whatever the number of schools.
    """
    schools_query = select(School.id, School.name).where(School.trust_id == trust_id)
    if school_ids is not None:
        schools_query = schools_query.where(School.id.in_(school_ids))
    coverage = {
        school_id: Coverage(school_id=school_id, school_name=name)
        for school_id, name in await session.execute(schools_query.order_by(School.name))
    }
    if not coverage:
        return []
    ids = list(coverage)

    teachers = (
        select(PersonRole.school_id, func.count(func.distinct(PersonRole.person_id)))
        .where(PersonRole.role == Role.teacher, PersonRole.school_id.in_(ids))
        .group_by(PersonRole.school_id)
    )
    for school_id, count in await session.execute(teachers):
        if school_id is not None:
            coverage[school_id].teachers = int(count)

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
        CoachingSession.school_id.in_(ids),
        CoachingSession.held_on > six_weeks,
        CoachingSession.held_on <= today,
    )
    held = CoachingSession.status == HELD
    per_school = (
        select(
            CoachingSession.school_id,
            func.count(func.distinct(CoachingSession.coachee_id)).filter(
                held, CoachingSession.held_on > two_weeks, teacher_at_school
            ),
            func.count(func.distinct(CoachingSession.coachee_id)).filter(held, teacher_at_school),
            func.count().filter(held),
            func.count().filter(CoachingSession.status == CANCELLED),
        )
        .where(recent)
        .group_by(CoachingSession.school_id)
    )
    for school_id, two, six, held_count, cancelled in await session.execute(per_school):
        entry = coverage[school_id]
        entry.coached_2_weeks, entry.coached_6_weeks = int(two), int(six)
        entry.held_6_weeks, entry.cancelled_6_weeks = int(held_count), int(cancelled)

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
