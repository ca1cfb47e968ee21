"""Attendance concerns: raise, follow through the support-first stages, close, anonymise.

Pupil data (the reference, the figures, the free text) is for the school's
attendance leads and head, and for trust-wide attendance leads (`may_follow`): each
role counts at its own school only.
Everyone else gets `attendance_counts`, which never reads a pupil reference or a
line of text. Every change made here is written to the audit trail by id, never
by pupil reference.

Thresholds are the DfE's (*Working together to improve school attendance*):
persistent absence is missing 10% or more of possible sessions (attendance at or
below 90%), severe absence is missing 50% or more (at or below 50%), and the
national framework has schools consider a penalty notice at 10 or more
unauthorised sessions within 10 school weeks.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import record_event
from storage.directory import Actor
from storage.models import (
    AttendanceConcern,
    ConcernEvent,
    Person,
    PersonRole,
    Role,
    School,
    Trust,
)
from storage.terms import academic_year_of

PERSISTENT_AT_OR_BELOW = Decimal("90")
SEVERE_AT_OR_BELOW = Decimal("50")
PENALTY_NOTICE_SESSIONS = 10
# Two sessions a day, five days a week, ten weeks.
SESSIONS_IN_10_WEEKS = 100

OPEN = "open"
CLOSED = "closed"
ANONYMISED = "anonymised"
SUBJECT = "attendance_concern"

# The DfE's support-first approach, in order.
STAGES = {
    "expect": "Expect",
    "monitor": "Monitor",
    "listen": "Listen and understand",
    "facilitate": "Facilitate support",
    "formalise": "Formalise support",
    "enforce": "Enforce",
}
CONCERN_TYPES = {
    "persistent": "Persistent absence",
    "severe": "Severe absence",
    "pattern": "Pattern (e.g. Mondays, after holidays)",
    "lateness": "Lateness",
    "unexplained": "Unexplained absence",
    "cme_risk": "Child missing education risk",
    "other": "Other",
}
VULNERABLE_GROUPS = {
    "disadvantaged": "Disadvantaged / pupil premium",
    "sen_support": "SEN support",
    "ehcp": "EHCP",
    "cin_cp": "Child in need or child protection",
    "looked_after": "Looked after",
    "eal": "EAL",
    "young_carer": "Young carer",
}
YEAR_GROUPS = {
    "N": "Nursery",
    "R": "Reception",
    **{str(n): f"Year {n}" for n in range(1, 14)},
}
OUTCOMES = {
    "improved": "Attendance improved",
    "left": "Left the school",
    "support_elsewhere": "Support continues elsewhere (e.g. early help)",
    "legal": "Passed to the local authority (legal intervention)",
    "other": "Other",
}

# Closure dates are school dates: a concern closed at 00:30 on 1 September belongs
# to the new academic year.
_SCHOOL_TIME = ZoneInfo("Europe/London")


# -- the thresholds ----------------------------------------------------------------


@dataclass(frozen=True)
class AbsenceFlags:
    persistent: bool
    severe: bool
    penalty_notice: bool


def absence_flags(attendance_percent: Decimal, unauthorised_sessions: int) -> AbsenceFlags:
    """What the figures mean, by the DfE's thresholds (both edges inclusive)."""
    return AbsenceFlags(
        persistent=attendance_percent <= PERSISTENT_AT_OR_BELOW,
        severe=attendance_percent <= SEVERE_AT_OR_BELOW,
        penalty_notice=unauthorised_sessions >= PENALTY_NOTICE_SESSIONS,
    )


# -- who ---------------------------------------------------------------------------


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
    query = select(School).where(School.trust_id == actor.trust_id).order_by(School.name)
    if not trust_level_attendance_lead(actor):
        query = query.where(School.id.in_(actor.school_ids))
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


# -- raising -------------------------------------------------------------------


@dataclass(frozen=True)
class ConcernDetails:
    school_id: int
    pupil_ref: str
    year_group: str
    attendance_percent: Decimal
    unauthorised_sessions: int
    concern_type: str
    vulnerable: list[str]
    done_so_far: str
    stage: str


async def concern_by_form(session: AsyncSession, *, form_id: str) -> AttendanceConcern | None:
    return await session.scalar(
        select(AttendanceConcern).where(AttendanceConcern.form_id == form_id)
    )


async def raise_concern(
    session: AsyncSession,
    *,
    trust_id: int,
    raised_by: int,
    form_id: str,
    details: ConcernDetails,
    raised_at: datetime,
    today: date,
) -> tuple[AttendanceConcern, bool]:
    """Store a concern once per form: (the concern, whether it was new).

    A new concern is due for review the day it is raised: the attendance lead
    should look at it at once.
    """
    existing = await concern_by_form(session, form_id=form_id)
    if existing is not None:
        return existing, False
    flags = absence_flags(details.attendance_percent, details.unauthorised_sessions)
    row = AttendanceConcern(
        trust_id=trust_id,
        school_id=details.school_id,
        pupil_ref=details.pupil_ref,
        year_group=details.year_group,
        attendance_percent=details.attendance_percent,
        unauthorised_sessions_10_weeks=details.unauthorised_sessions,
        concern_type=details.concern_type,
        vulnerable=list(details.vulnerable),
        done_so_far=details.done_so_far,
        stage=details.stage,
        persistent_absence=flags.persistent,
        severe_absence=flags.severe,
        consider_penalty_notice=flags.penalty_notice,
        status=OPEN,
        next_review_on=today,
        raised_by=raised_by,
        form_id=form_id,
        raised_at=raised_at,
        updated_at=raised_at,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another replica stored the same form a moment ago.
        existing = await concern_by_form(session, form_id=form_id)
        if existing is None:
            raise
        return existing, False
    session.add(
        ConcernEvent(
            concern_id=row.id, at=raised_at, by_person_id=raised_by, kind="raised", stage=row.stage
        )
    )
    await _audit(session, row, person_id=raised_by, action="attendance.raise")
    return row, True


# -- reading (pupil data: callers have checked `may_follow`) ------------------------


async def concern_in_trust(
    session: AsyncSession, *, trust_id: int, concern_id: int
) -> AttendanceConcern | None:
    return await session.scalar(
        select(AttendanceConcern).where(
            AttendanceConcern.id == concern_id, AttendanceConcern.trust_id == trust_id
        )
    )


@dataclass(frozen=True)
class ConcernLine:
    id: int
    school_id: int
    school_name: str
    pupil_ref: str
    year_group: str
    stage: str
    next_review_on: date | None
    raised_at: datetime


async def open_concerns(
    session: AsyncSession,
    *,
    trust_id: int,
    school_ids: Collection[int] | None,
    limit: int,
) -> tuple[list[ConcernLine], int]:
    """Open concerns, the most overdue review first, and how many there are in all."""
    where = [AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN]
    if school_ids is not None:
        where.append(AttendanceConcern.school_id.in_(list(school_ids)))
    total = await session.scalar(select(func.count()).select_from(AttendanceConcern).where(*where))
    rows = await session.execute(
        select(
            AttendanceConcern.id,
            AttendanceConcern.school_id,
            School.name,
            AttendanceConcern.pupil_ref,
            AttendanceConcern.year_group,
            AttendanceConcern.stage,
            AttendanceConcern.next_review_on,
            AttendanceConcern.raised_at,
        )
        .join(School, School.id == AttendanceConcern.school_id)
        .where(*where)
        # No review date sorts first: nobody has said when to look again.
        .order_by(
            AttendanceConcern.next_review_on.is_not(None),
            AttendanceConcern.next_review_on,
            AttendanceConcern.raised_at,
            AttendanceConcern.id,
        )
        .limit(limit)
    )
    return [ConcernLine(*row) for row in rows], int(total or 0)


@dataclass(frozen=True)
class ChronologyEntry:
    at: datetime
    by: str | None
    kind: str
    stage: str | None
    on_date: date | None
    text: str


async def chronology(session: AsyncSession, *, concern_id: int) -> list[ChronologyEntry]:
    rows = await session.execute(
        select(
            ConcernEvent.at,
            Person.display_name,
            ConcernEvent.kind,
            ConcernEvent.stage,
            ConcernEvent.on_date,
            ConcernEvent.text,
        )
        .outerjoin(Person, Person.id == ConcernEvent.by_person_id)
        .where(ConcernEvent.concern_id == concern_id)
        .order_by(ConcernEvent.at, ConcernEvent.id)
    )
    return [ChronologyEntry(*row) for row in rows]


async def person_name(session: AsyncSession, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    return await session.scalar(select(Person.display_name).where(Person.id == person_id))


async def record_view(
    session: AsyncSession, *, actor: Actor, concern: AttendanceConcern, action: str
) -> None:
    await _audit(session, concern, person_id=actor.person_id, action=action)


# -- following through -------------------------------------------------------------


@dataclass(frozen=True)
class ConcernUpdate:
    stage: str
    action_on: date | None
    action: str
    next_review_on: date | None


async def form_concern(session: AsyncSession, *, form_id: str) -> int | None:
    """The concern a card's changes went into, if they are in already."""
    return await session.scalar(
        select(ConcernEvent.concern_id).where(ConcernEvent.form_id == form_id).limit(1)
    )


async def form_applied(session: AsyncSession, *, form_id: str) -> bool:
    """Whether a card's changes are in already (a double click, a redelivery)."""
    found = await session.scalar(select(ConcernEvent.id).where(ConcernEvent.form_id == form_id))
    return found is not None


async def update_concern(
    session: AsyncSession,
    *,
    row: AttendanceConcern,
    by: int,
    form_id: str,
    change: ConcernUpdate,
    at: datetime,
) -> bool:
    """Apply an update card once: a chronology entry for each thing that changed.

    False when this card was applied before.
    """
    if await form_applied(session, form_id=form_id):
        return False
    events: list[ConcernEvent] = []
    if change.stage != row.stage:
        events.append(_event(row, by, at, form_id, "stage", stage=change.stage))
        row.stage = change.stage
    if change.action:
        events.append(
            _event(row, by, at, form_id, "action", on=change.action_on, text=change.action)
        )
    if change.next_review_on != row.next_review_on:
        events.append(_event(row, by, at, form_id, "review", on=change.next_review_on))
        row.next_review_on = change.next_review_on
    return await _apply(session, row, by, at, events, action="attendance.update")


async def close_concern(
    session: AsyncSession,
    *,
    row: AttendanceConcern,
    by: int,
    form_id: str,
    outcome: str,
    note: str,
    at: datetime,
) -> bool:
    """Close with an outcome, once per card; False when this card was applied before."""
    if await form_applied(session, form_id=form_id):
        return False
    row.status = CLOSED
    row.outcome = outcome
    row.closed_at = at
    row.next_review_on = None
    event = _event(row, by, at, form_id, "closed", text=note)
    return await _apply(session, row, by, at, [event], action="attendance.close")


def _event(
    row: AttendanceConcern,
    by: int | None,
    at: datetime,
    form_id: str | None,
    kind: str,
    *,
    stage: str | None = None,
    on: date | None = None,
    text: str = "",
) -> ConcernEvent:
    return ConcernEvent(
        concern_id=row.id,
        at=at,
        by_person_id=by,
        kind=kind,
        stage=stage or row.stage,
        on_date=on,
        text=text,
        form_id=form_id,
    )


async def _apply(
    session: AsyncSession,
    row: AttendanceConcern,
    by: int,
    at: datetime,
    events: list[ConcernEvent],
    *,
    action: str,
) -> bool:
    row.updated_at = at
    try:
        async with session.begin_nested():
            session.add_all(events)
    except IntegrityError:
        # The same card, applied by another replica a moment ago.
        await session.refresh(row)
        return False
    await _audit(session, row, person_id=by, action=action)
    return True


async def _audit(
    session: AsyncSession, row: AttendanceConcern, *, person_id: int | None, action: str
) -> None:
    await record_event(
        session,
        trust_id=row.trust_id,
        person_id=person_id,
        action=action,
        outcome="ok",
        school_id=row.school_id,
        subject_type=SUBJECT,
        subject_id=row.id,
    )


# -- counts (for everyone, and for the digests) -------------------------------------


@dataclass(frozen=True)
class SchoolCount:
    school_id: int
    school_name: str
    open: int


@dataclass
class AttendanceCounts:
    """Open concerns counted; no pupil reference and no text is ever read for these."""

    total: int = 0
    persistent: int = 0
    severe: int = 0
    penalty_notice: int = 0
    by_school: list[SchoolCount] = field(default_factory=list)
    by_type: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    by_vulnerable: dict[str, int] = field(default_factory=dict)


async def attendance_counts(
    session: AsyncSession, *, trust_id: int, school_ids: Collection[int] | None = None
) -> AttendanceCounts:
    """Open concerns by school, type, stage and vulnerable group (every key present)."""
    schools_query = select(School.id, School.name).where(School.trust_id == trust_id)
    concern_query = select(
        AttendanceConcern.school_id,
        AttendanceConcern.concern_type,
        AttendanceConcern.stage,
        AttendanceConcern.vulnerable,
        AttendanceConcern.persistent_absence,
        AttendanceConcern.severe_absence,
        AttendanceConcern.consider_penalty_notice,
    ).where(AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN)
    if school_ids is not None:
        schools_query = schools_query.where(School.id.in_(list(school_ids)))
        concern_query = concern_query.where(AttendanceConcern.school_id.in_(list(school_ids)))
    schools = list(await session.execute(schools_query.order_by(School.name)))
    counts = AttendanceCounts(
        by_type=dict.fromkeys(CONCERN_TYPES, 0),
        by_stage=dict.fromkeys(STAGES, 0),
        by_vulnerable=dict.fromkeys(VULNERABLE_GROUPS, 0),
    )
    per_school: dict[int, int] = dict.fromkeys((school_id for school_id, _ in schools), 0)
    for school_id, kind, stage, vulnerable, persistent, severe, penalty in await session.execute(
        concern_query
    ):
        counts.total += 1
        counts.persistent += bool(persistent)
        counts.severe += bool(severe)
        counts.penalty_notice += bool(penalty)
        per_school[school_id] = per_school.get(school_id, 0) + 1
        counts.by_type[kind] = counts.by_type.get(kind, 0) + 1
        counts.by_stage[stage] = counts.by_stage.get(stage, 0) + 1
        for group in set(vulnerable or ()):
            counts.by_vulnerable[group] = counts.by_vulnerable.get(group, 0) + 1
    counts.by_school = [SchoolCount(sid, name, per_school[sid]) for sid, name in schools]
    return counts


# -- retention ---------------------------------------------------------------------


def retention_expired(closed_at: datetime, today: date, years: int) -> bool:
    """Kept for the academic year of closure and `years` more, then anonymised.

    Closed in 2023-24 with two years: kept to 31 August 2026, anonymised from
    1 September 2026.
    """
    closed_on = closed_at.astimezone(_SCHOOL_TIME).date()
    return academic_year_of(today) - academic_year_of(closed_on) > years


@dataclass(frozen=True)
class RetentionRun:
    anonymised: list[int]
    years: int

    def __str__(self) -> str:
        count = len(self.anonymised)
        noun = "concern" if count == 1 else "concerns"
        return (
            f"anonymised {count} closed attendance {noun} "
            f"(kept for the academic year of closure plus {self.years})"
        )


async def anonymise_expired(
    session: AsyncSession, *, trust_id: int, today: date, at: datetime
) -> RetentionRun:
    """Anonymise the trust's closed concerns past retention: the pupil reference and
    every line of text go; the figures, flags, stages and dates stay for the counts."""
    years = await session.scalar(
        select(Trust.attendance_retention_years).where(Trust.id == trust_id)
    )
    retention = 2 if years is None else int(years)
    closed = await session.scalars(
        select(AttendanceConcern)
        .where(
            AttendanceConcern.trust_id == trust_id,
            AttendanceConcern.status == CLOSED,
            AttendanceConcern.closed_at.is_not(None),
            AttendanceConcern.anonymised_at.is_(None),
        )
        .order_by(AttendanceConcern.id)
    )
    done: list[int] = []
    for row in list(closed):
        assert row.closed_at is not None
        if not retention_expired(row.closed_at, today, retention):
            continue
        row.pupil_ref = ANONYMISED
        row.done_so_far = ""
        row.anonymised_at = at
        await session.execute(
            update(ConcernEvent).where(ConcernEvent.concern_id == row.id).values(text="")
        )
        session.add(_event(row, None, at, None, ANONYMISED))
        await _audit(session, row, person_id=None, action="attendance.anonymise")
        done.append(row.id)
    return RetentionRun(anonymised=done, years=retention)
