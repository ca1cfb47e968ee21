"""Trusts, schools and people: who someone is and what they reach."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    cast,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import QaSettings, Term
from storage.frameworks import install_framework, load_preset
from storage.models import (
    EITHER_SCOPE_ROLES,
    TRUST_WIDE_ROLES,
    Person,
    PersonRole,
    PersonSubject,
    Role,
    School,
    Trust,
)
from storage.strands import DEFAULT_STRANDS, set_strands


def trust_zone(trust: Trust) -> ZoneInfo:
    """The trust's own time zone: its schools' clocks (Europe/London unless it says)."""
    return ZoneInfo(trust.digest_timezone)


def trust_today(trust: Trust, now: datetime) -> date:
    """The trust's schools' day at `now`: never UTC's (00:30 BST is tomorrow in London)."""
    return now.astimezone(trust_zone(trust)).date()


class TrustExists(ValueError):
    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"a trust with tenant id {tenant_id} already exists")


class RoleGrant(NamedTuple):
    """A role held at a school, or for the whole trust (`school_id` None)."""

    role: Role
    school_id: int | None


def every_role_at_every_school(roles: Iterable[Role], school_ids: Iterable[int]) -> list[RoleGrant]:
    """What "these roles, these schools" meant before roles belonged to a school.

    Every role at every school, trust-wide roles for the trust, and an attendance
    lead with no school for the trust: migration 0008 keeps this meaning for the
    data it finds, so that nobody's access changes silently (test seeders use it
    too). New people CSVs say `attendance_lead@trust` instead.
    """
    schools = sorted(set(school_ids))
    grants: set[RoleGrant] = set()
    for role in roles:
        if role in TRUST_WIDE_ROLES or (role in EITHER_SCOPE_ROLES and not schools):
            grants.add(RoleGrant(role, None))
        else:
            grants.update(RoleGrant(role, school_id) for school_id in schools)
    return sorted(grants, key=lambda grant: (grant.role.value, grant.school_id or 0))


@dataclass(frozen=True)
class TrustSettings:
    """The trust's settings a turn reads, read with the trust itself: a turn that
    needs them (coaching coverage, QA status, the home card) runs no statement of its
    own for them. Their defaults are the columns' (storage/models/directory.py)."""

    # A teacher with no coaching session for this many days is due one.
    coaching_interval_days: int = 14
    # Share of a school's teachers coached in six weeks the trust aims for.
    coaching_target_percent: int = 80
    qa: QaSettings = field(default_factory=QaSettings)


# What the trust's row gives `TrustSettings`, in this order (`trust_settings`).
SETTINGS_COLUMNS = (
    Trust.coaching_interval_days,
    Trust.coaching_target_percent,
    Trust.qa_window_weeks_before,
    Trust.qa_window_weeks_after,
    Trust.qa_reminder_days,
)


def trust_settings(values: Sequence[Any]) -> TrustSettings:
    """`TrustSettings` from `SETTINGS_COLUMNS`' values."""
    interval, target, before, after, reminder = (int(value) for value in values)
    return TrustSettings(interval, target, QaSettings(before, after, reminder))


@dataclass(frozen=True)
class Actor:
    """The person behind a turn, resolved once at the edge, with their reach.

    A role is held at a school (`school_roles`) or for the whole trust
    (`trust_roles`): head of one school and teacher at another has a teacher's
    reach at the second. Permission checks ask `has_role_at` or `schools_where`;
    `roles` only answers "may this person use this command at all".
    """

    trust_id: int
    trust_name: str
    person_id: int
    display_name: str
    trust_roles: frozenset[Role] = frozenset()
    school_roles: Mapping[int, frozenset[Role]] = field(default_factory=dict)
    subjects: frozenset[str] = field(default_factory=frozenset)
    # The trust's own time zone: "today" for its schools is the day there.
    time_zone: str = "Europe/London"
    settings: TrustSettings = field(default_factory=TrustSettings)
    # The term dates the trust has set, when this replica keeps them with the person
    # (storage/directory_cache.py); None: whoever needs the terms reads them.
    calendar: tuple[Term, ...] | None = None

    @property
    def roles(self) -> frozenset[Role]:
        """Every role the person holds anywhere."""
        return self.trust_roles.union(*self.school_roles.values())

    @property
    def school_ids(self) -> frozenset[int]:
        """The schools where the person holds a role."""
        return frozenset(self.school_roles)

    @property
    def trust_wide(self) -> bool:
        """Whether the person reaches every school of the trust (trust lead, admin)."""
        return bool(self.trust_roles & TRUST_WIDE_ROLES)

    def has_any(self, roles: Collection[Role]) -> bool:
        return not self.roles.isdisjoint(roles)

    def has_role_at(self, school_id: int, roles: Collection[Role]) -> bool:
        """Whether the person holds one of `roles` at this school or for the whole trust."""
        held = self.school_roles.get(school_id, frozenset())
        return not (self.trust_roles.isdisjoint(roles) and held.isdisjoint(roles))

    def schools_where(self, roles: Collection[Role]) -> frozenset[int] | None:
        """The schools where the person holds one of `roles`; None for all the trust's
        (they hold one for the whole trust)."""
        if not self.trust_roles.isdisjoint(roles):
            return None
        return frozenset(
            school_id for school_id, held in self.school_roles.items() if not held.isdisjoint(roles)
        )

    def reaches_school(self, school_id: int) -> bool:
        """Whether the person holds any role at the school (it must be of their trust)."""
        return self.trust_wide or school_id in self.school_roles


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


async def trust_by_id(session: AsyncSession, trust_id: int) -> Trust | None:
    return await session.get(Trust, trust_id)


@dataclass(frozen=True)
class KnownTrust:
    """A trust Waypoint serves, for someone it does not know there."""

    trust_id: int
    trust_name: str


async def actor_for(session: AsyncSession, *, trust: Trust, aad_object_id: str) -> Actor | None:
    """The person with this Entra object id in the trust, with their roles (each at
    its school, or for the trust) and subjects, read in one statement."""
    who = await _who(session, Trust.id == trust.id, aad_object_id)
    return who if isinstance(who, Actor) else None


async def who_is(
    session: AsyncSession, *, tenant_id: str, aad_object_id: str | None
) -> Actor | KnownTrust | None:
    """Who writes from this tenant: the person with their reach (`actor_for`), or
    only their trust (Waypoint does not know them), or None (no trust there), with
    the trust, the person, their roles and subjects read in one statement.

    Every turn asks this. Loading the trust, then the person with its relationships,
    took five statements, and each statement costs a turn most of a millisecond of
    CPU (bench/README.md).
    """
    return await _who(session, Trust.tenant_id == tenant_id, aad_object_id)


async def read_person(
    session: AsyncSession,
    *,
    trust: KnownTrust,
    time_zone: str,
    settings: TrustSettings,
    aad_object_id: str,
) -> Actor | None:
    """The person with this (lower-case) object id in a trust already read, with
    their roles and subjects, in one statement (storage/directory_cache.py)."""
    rows = await session.execute(union_all(*_person_branches(trust.trust_id, aad_object_id)))
    return _actor(trust, time_zone, settings, rows)


def _person_branches(
    trust_id: int | ColumnElement[int], aad_object_id: str
) -> list[Select[*tuple[Any, ...]]]:
    """The person, each role and each subject, as rows of (kind, number, value,
    extra, then the trust's settings: none here)."""
    no_number = cast(null(), Integer)
    no_text = cast(null(), String)
    no_settings = [cast(null(), Integer) for _ in SETTINGS_COLUMNS]
    wanted = (Person.trust_id == trust_id, Person.aad_object_id == aad_object_id)
    return [
        select(literal("person"), Person.id, Person.display_name, no_text, *no_settings).where(
            *wanted
        ),
        select(literal("role"), PersonRole.school_id, PersonRole.role, no_text, *no_settings)
        .join(Person, Person.id == PersonRole.person_id)
        .where(*wanted),
        select(literal("subject"), no_number, PersonSubject.subject, no_text, *no_settings)
        .join(Person, Person.id == PersonSubject.person_id)
        .where(*wanted),
    ]


async def _who(
    session: AsyncSession, which_trust: ColumnElement[bool], aad_object_id: str | None
) -> Actor | KnownTrust | None:
    # Each branch is a row of (kind, number, value, extra, settings…), as the union
    # reads them.
    branches: list[Select[*tuple[Any, ...]]] = [
        select(
            literal("trust"), Trust.id, Trust.name, Trust.digest_timezone, *SETTINGS_COLUMNS
        ).where(which_trust)
    ]
    if aad_object_id is not None:
        # Imports store object ids in lower case, as Teams sends them; be forgiving anyway.
        trust_id = select(Trust.id).where(which_trust).scalar_subquery()
        branches += _person_branches(trust_id, aad_object_id.strip().lower())
    reach: CompoundSelect[*tuple[Any, ...]] = union_all(*branches)
    rows = list(await session.execute(reach))
    trust: KnownTrust | None = None
    time_zone = "Europe/London"
    settings = TrustSettings()
    for kind, number, value, extra, *settings_values in rows:
        if kind == "trust" and number is not None:
            trust = KnownTrust(trust_id=number, trust_name=value)
            time_zone = extra or time_zone
            settings = trust_settings(settings_values)
    if trust is None:
        return None
    return _actor(trust, time_zone, settings, rows) or trust


def _actor(
    trust: KnownTrust, time_zone: str, settings: TrustSettings, rows: Iterable[Any]
) -> Actor | None:
    """The person in `rows` (person, role and subject rows; others are skipped)."""
    person_id: int | None = None
    display_name = ""
    trust_roles: set[Role] = set()
    school_roles: defaultdict[int, set[Role]] = defaultdict(set)
    subjects: set[str] = set()
    for kind, number, value, *_ in rows:
        if kind == "person":
            person_id, display_name = number, value
        elif kind == "role":
            # A role with no school is held for the whole trust.
            held = trust_roles if number is None else school_roles[number]
            held.add(Role(value))
        elif kind == "subject":
            subjects.add(value)
    if person_id is None:
        return None
    return Actor(
        trust_id=trust.trust_id,
        trust_name=trust.trust_name,
        person_id=person_id,
        display_name=display_name,
        trust_roles=frozenset(trust_roles),
        school_roles={school_id: frozenset(held) for school_id, held in school_roles.items()},
        subjects=frozenset(subjects),
        time_zone=time_zone,
        settings=settings,
    )


async def person_name(session: AsyncSession, person_id: int | None) -> str | None:
    """A person's name as Waypoint shows it; None for nobody, or someone since removed."""
    if person_id is None:
        return None
    return await session.scalar(select(Person.display_name).where(Person.id == person_id))


async def schools_of(
    session: AsyncSession, actor: Actor, *, roles: Collection[Role] | None = None
) -> list[School]:
    """The schools this person reaches, by name: where they hold any role, or (with
    `roles`) one of these roles."""
    query = select(School).where(School.trust_id == actor.trust_id).order_by(School.name)
    reached = actor.schools_where(roles) if roles is not None else None
    if roles is None and not actor.trust_wide:
        reached = actor.school_ids
    if reached is not None:
        query = query.where(School.id.in_(reached))
    return list(await session.scalars(query))


async def actor_by_person(session: AsyncSession, *, trust_id: int, person_id: int) -> Actor | None:
    """The person with this id in this trust, with the same reach `actor_for` gives
    chat (a signed dashboard link names the person by id); None when the trust or
    the person is gone, or the person belongs to another trust."""
    trust = await trust_by_id(session, trust_id)
    if trust is None:
        return None
    aad_object_id = await session.scalar(
        select(Person.aad_object_id).where(Person.id == person_id, Person.trust_id == trust_id)
    )
    if aad_object_id is None:
        return None
    return await actor_for(session, trust=trust, aad_object_id=aad_object_id)
