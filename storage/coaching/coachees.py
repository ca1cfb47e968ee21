"""Who a coach can coach, at which schools, and who is due a session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coaching import COACHING_LOGGERS, HELD
from storage.directory import Actor
from storage.models import CoachingSession, Person, PersonRole, Role, School, Trust


@dataclass(frozen=True)
class Coachee:
    person_id: int
    name: str
    school_id: int
    school_name: str


@dataclass(frozen=True)
class DueCoachee:
    person_id: int
    name: str
    last_held_on: date
    days_since: int


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


@dataclass(frozen=True)
class CoachingSettings:
    # A teacher with no session for this many days is due one.
    interval_days: int
    # The share of a school's teachers coached in six weeks the trust aims for.
    target_percent: int


def coaching_settings_of(actor: Actor) -> CoachingSettings:
    """The actor's trust's coaching settings, read with the trust as the turn began
    (storage/directory.py `TrustSettings`): no statement of their own."""
    return CoachingSettings(
        interval_days=actor.settings.coaching_interval_days,
        target_percent=actor.settings.coaching_target_percent,
    )


async def coaching_settings(session: AsyncSession, *, trust_id: int) -> CoachingSettings:
    row = (
        await session.execute(
            select(Trust.coaching_interval_days, Trust.coaching_target_percent).where(
                Trust.id == trust_id
            )
        )
    ).one()
    return CoachingSettings(interval_days=int(row[0]), target_percent=int(row[1]))


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
