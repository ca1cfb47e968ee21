"""Who follows a school's concerns, who raises them, and who is told of a new one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import Actor
from storage.models import STAFF_ROLES, Person, PersonRole, Role, School

# Who follows a school's concerns: its own attendance leads and head.
FOLLOWERS = frozenset({Role.attendance_lead, Role.head})


def trust_level_attendance_lead(actor: Actor) -> bool:
    """An attendance lead for the whole trust: an explicit trust-wide role, never
    the absence of schools (losing every school link must narrow access)."""
    return Role.attendance_lead in actor.trust_roles


def followed_schools(actor: Actor) -> frozenset[int] | None:
    """The schools whose concerns this person sees and updates; None for all the trust's."""
    return actor.schools_where(FOLLOWERS)


def may_follow(actor: Actor, school_id: int) -> bool:
    return actor.has_role_at(school_id, FOLLOWERS)


async def raisable_schools(session: AsyncSession, actor: Actor) -> list[School]:
    """The schools where this person is on the staff (a governor of a school is not)."""
    query = select(School).where(School.trust_id == actor.trust_id).order_by(School.name)
    if not trust_level_attendance_lead(actor):
        staff_at = [
            school_id
            for school_id, held in actor.school_roles.items()
            if not held.isdisjoint(STAFF_ROLES)
        ]
        query = query.where(School.id.in_(staff_at))
    return list(await session.scalars(query))


async def attendance_leads(session: AsyncSession, *, trust_id: int, school_id: int) -> list[int]:
    """Who is told of a new concern: the school's attendance leads, or where the
    school has none, the trust-level ones, so that no concern goes unseen."""
    at_school = await session.scalars(
        select(Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(
            Person.trust_id == trust_id,
            PersonRole.role == Role.attendance_lead.value,
            PersonRole.school_id == school_id,
        )
        .order_by(Person.id)
    )
    leads = list(at_school)
    if leads:
        return leads
    trust_level = await session.scalars(
        select(Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(
            Person.trust_id == trust_id,
            PersonRole.role == Role.attendance_lead.value,
            PersonRole.school_id.is_(None),
        )
        .order_by(Person.id)
    )
    return list(trust_level)
