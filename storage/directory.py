"""Trusts, schools and people: who someone is and what they reach."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, String, cast, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.frameworks import install_framework, load_preset
from storage.models import (
    TRUST_WIDE_ROLES,
    Person,
    PersonRole,
    PersonSchool,
    PersonSubject,
    Role,
    School,
    Trust,
)
from storage.strands import DEFAULT_STRANDS, set_strands


class TrustExists(ValueError):
    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"a trust with tenant id {tenant_id} already exists")


@dataclass(frozen=True)
class Actor:
    """The person behind a turn, resolved once at the edge, with their reach."""

    trust_id: int
    trust_name: str
    person_id: int
    display_name: str
    roles: frozenset[Role]
    school_ids: frozenset[int]
    subjects: frozenset[str] = field(default_factory=frozenset)

    @property
    def trust_wide(self) -> bool:
        return bool(self.roles & TRUST_WIDE_ROLES)

    def has_any(self, roles: frozenset[Role] | set[Role]) -> bool:
        return bool(self.roles & roles)

    def reaches_school(self, school_id: int) -> bool:
        """Whether this person may act for the school (it must be of their trust)."""
        return self.trust_wide or school_id in self.school_ids


async def add_trust(
    session: AsyncSession, *, tenant_id: str, name: str, framework_key: str
) -> Trust:
    """Create a trust with its categorisation framework copied from a preset."""
    spec = load_preset(framework_key)
    if await trust_by_tenant(session, tenant_id) is not None:
        raise TrustExists(tenant_id)
    trust = Trust(tenant_id=tenant_id, name=name)
    session.add(trust)
    await session.flush()
    await install_framework(session, trust_id=trust.id, spec=spec)
    await set_strands(session, trust_id=trust.id, names=list(DEFAULT_STRANDS))
    return trust


async def trust_by_tenant(session: AsyncSession, tenant_id: str) -> Trust | None:
    return await session.scalar(select(Trust).where(Trust.tenant_id == tenant_id))


async def actor_for(session: AsyncSession, *, trust: Trust, aad_object_id: str) -> Actor | None:
    """The person with this Entra object id in the trust, with their roles, schools and
    subjects, read in one statement.

    Every turn asks this. Loading the person with its relationships took four
    statements (the person, then a select per relationship), and each statement
    costs a turn most of a millisecond of CPU (bench/README.md).
    """
    # Imports store object ids in lower case, as Teams sends them; be forgiving anyway.
    wanted = (Person.trust_id == trust.id, Person.aad_object_id == aad_object_id.strip().lower())
    no_number = cast(null(), Integer)
    no_text = cast(null(), String)
    reach = union_all(
        select(literal("person"), Person.id, Person.display_name).where(*wanted),
        select(literal("role"), no_number, PersonRole.role)
        .join(Person, Person.id == PersonRole.person_id)
        .where(*wanted),
        select(literal("school"), PersonSchool.school_id, no_text)
        .join(Person, Person.id == PersonSchool.person_id)
        .where(*wanted),
        select(literal("subject"), no_number, PersonSubject.subject)
        .join(Person, Person.id == PersonSubject.person_id)
        .where(*wanted),
    )
    person_id: int | None = None
    display_name = ""
    roles: set[Role] = set()
    school_ids: set[int] = set()
    subjects: set[str] = set()
    for kind, number, value in await session.execute(reach):
        if kind == "person":
            person_id, display_name = number, value
        elif kind == "role":
            roles.add(Role(value))
        elif kind == "school":
            school_ids.add(number)
        else:
            subjects.add(value)
    if person_id is None:
        return None
    return Actor(
        trust_id=trust.id,
        trust_name=trust.name,
        person_id=person_id,
        display_name=display_name,
        roles=frozenset(roles),
        school_ids=frozenset(school_ids),
        subjects=frozenset(subjects),
    )


async def trust_admin_names(session: AsyncSession, *, trust_id: int) -> list[str]:
    """Who can add people to Waypoint in this trust (shown to someone not yet added)."""
    rows = await session.scalars(
        select(Person.display_name)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.trust_id == trust_id, PersonRole.role == Role.admin.value)
        .order_by(Person.display_name)
    )
    return list(rows)


async def schools_of(session: AsyncSession, actor: Actor) -> list[School]:
    """The schools this person reaches, by name."""
    query = select(School).where(School.trust_id == actor.trust_id).order_by(School.name)
    if not actor.trust_wide:
        query = query.where(School.id.in_(actor.school_ids))
    return list(await session.scalars(query))
