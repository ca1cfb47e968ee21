"""What a digest says: every school's position in one pass, counts only.

A trust digest reads about a dozen grouped queries whatever the number of
schools (no query per school). Attendance appears as counts; coaching as
shares and counts; nothing here reads a note, an action step or a pupil.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import QaOpen, academic_year_of, year_label
from storage.attendance.counts import attendance_counts
from storage.attention import Reason, Signals, reasons, severity
from storage.categories import current_categorisations, framework_categories
from storage.coaching.coverage import coaching_coverage
from storage.digest_changes import Changes, changes_since
from storage.models import (
    AttendanceConcern,
    Delivery,
    Person,
    PersonRole,
    Role,
    School,
    SchoolAction,
    Trust,
)
from storage.qa import latest_summaries
from storage.qa_compliance import compliance
from storage.targets import missed_targets
from storage.terms import qa_period
from storage.visit_programme import default_entitlement, entitlements
from storage.visits import visit_year, visits_done_by_school

QA_LAST_WEEKS = timedelta(weeks=4)
TRUST_DIGEST = "trust_digest"
SCHOOL_DIGEST = "school_digest"


@dataclass
class SchoolPosition:
    school_id: int
    name: str
    category: str | None = None
    category_rank: int | None = None
    category_needs_attention: bool = False
    open_actions: int = 0
    overdue_actions: int = 0
    red_actions: int = 0
    due_soon: int = 0
    qa_expected: int = 0
    qa_submitted: int = 0
    qa_missing: list[str] = field(default_factory=list)
    # Subjects judged red in this term's QA round (the open window's term, else the
    # latest round of this academic year).
    qa_red: list[str] = field(default_factory=list)
    coached_2_weeks: int | None = None
    coached_6_weeks: int | None = None
    open_concerns: int = 0
    persistent: int = 0
    severe: int = 0
    new_severe: int = 0
    # Adviser visits this academic year, and the school's entitlement (its phase's).
    visits_done: int = 0
    visits_entitled: int = 0
    # The improvement target's date passed unmet (storage/targets.py).
    target_missed: str | None = None
    # Why the school needs attention (storage/attention.py), the most severe first.
    attention: list[Reason] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)

    @property
    def reasons(self) -> list[str]:
        return [reason.text for reason in self.attention]


@dataclass
class TrustPosition:
    trust_id: int
    trust_name: str
    today: date
    period: str
    qa_term: str | None
    qa_in_last_weeks: bool
    coaching_target: int
    schools: list[SchoolPosition]
    distribution: list[tuple[str, int]]
    changes: Changes

    def attention_first(self) -> list[SchoolPosition]:
        """Schools that need attention, the most severe first; then the rest by name."""
        return sorted(
            self.schools,
            key=lambda s: (
                not s.needs_attention,
                severity(s.attention) if s.needs_attention else (),
                -(s.category_rank or 0) if s.needs_attention else 0,
                -s.overdue_actions if s.needs_attention else 0,
                s.name,
            ),
        )


def week_period(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


async def last_digest_at(
    session: AsyncSession, *, trust_id: int, before_period: str
) -> datetime | None:
    return await session.scalar(
        select(func.max(Delivery.created_at)).where(
            Delivery.trust_id == trust_id,
            Delivery.kind == TRUST_DIGEST,
            Delivery.period < before_period,
        )
    )


async def trust_position(
    session: AsyncSession,
    *,
    trust_id: int,
    today: date,
    school_ids: list[int] | None = None,
    since: datetime | None = None,
) -> TrustPosition:
    trust = await session.get(Trust, trust_id)
    assert trust is not None
    period = week_period(today)
    schools_query = select(School.id, School.name, School.phase).where(School.trust_id == trust_id)
    if school_ids is not None:
        schools_query = schools_query.where(School.id.in_(school_ids))
    schools = (await session.execute(schools_query.order_by(School.name))).all()
    positions = {school_id: SchoolPosition(school_id, name) for school_id, name, _ in schools}
    ids = list(positions)

    # Visits this academic year against each phase's entitlement: two statements.
    loaded = await entitlements(session, trust_id=trust_id)
    done = await visits_done_by_school(
        session, trust_id=trust_id, school_ids=ids, academic_year=visit_year(today)
    )
    for school_id, _, phase in schools:
        positions[school_id].visits_done = done.get(school_id, 0)
        positions[school_id].visits_entitled = loaded.get(phase, default_entitlement(phase))

    # Categories.
    categories = {c.id: c for c in await framework_categories(session, trust_id=trust_id)}
    current = await current_categorisations(session, trust_id=trust_id)
    for school_id, decision in current.items():
        if school_id not in positions:
            continue
        position = positions[school_id]
        position.category = decision.category_name
        category = categories.get(decision.category_id) if decision.category_id else None
        if category is not None:
            position.category_rank = category.rank
            position.category_needs_attention = category.needs_attention
    for school_id, missed in missed_targets(categories, current, today=today).items():
        if school_id in positions:
            positions[school_id].target_missed = missed.reason
    distribution = [
        (c.name, sum(1 for p in positions.values() if p.category == c.name))
        for c in sorted(categories.values(), key=lambda c: c.rank)
    ]
    uncategorised = sum(1 for p in positions.values() if p.category is None)
    if uncategorised:
        distribution.append(("Not yet categorised", uncategorised))

    # Actions.
    is_open = SchoolAction.status == "open"
    action_counts = (
        select(
            SchoolAction.school_id,
            func.count().filter(is_open),
            func.count().filter(is_open, SchoolAction.due_on < today),
            func.count().filter(is_open, SchoolAction.rag == "red"),
            func.count().filter(
                is_open,
                SchoolAction.due_on >= today,
                SchoolAction.due_on <= today + timedelta(days=14),
            ),
        )
        .where(SchoolAction.trust_id == trust_id, SchoolAction.school_id.in_(ids))
        .group_by(SchoolAction.school_id)
    )
    for school_id, open_count, overdue, red, soon in await session.execute(action_counts):
        position = positions[school_id]
        position.open_actions, position.overdue_actions = int(open_count), int(overdue)
        position.red_actions, position.due_soon = int(red), int(soon)

    # Coaching: shares only.
    for entry in await coaching_coverage(session, trust_id=trust_id, school_ids=ids, today=today):
        if entry.school_id in positions:
            positions[entry.school_id].coached_2_weeks = entry.share_2_weeks
            positions[entry.school_id].coached_6_weeks = entry.share_6_weeks

    # QA: the term whose window is open.
    qa_term: str | None = None
    qa_in_last_weeks = False
    period_now = await qa_period(session, trust_id=trust_id, today=today)
    if isinstance(period_now, QaOpen):
        term = period_now.term
        qa_term = term.title
        qa_in_last_weeks = term.ends - QA_LAST_WEEKS <= today
        for school in await compliance(session, trust_id=trust_id, term=term, school_ids=ids):
            position = positions[school.school_id]
            position.qa_expected = len(school.expected)
            position.qa_submitted = school.submitted_count
            position.qa_missing = school.missing
            position.qa_red = sorted(
                subject for subject, line in school.submitted.items() if line.judgement == "red"
            )
    elif period_now.previous is not None and period_now.previous.term.academic_year == year_label(
        academic_year_of(today)
    ):
        # Between windows, this year's latest round still stands: one statement.
        latest = await latest_summaries(
            session, trust_id=trust_id, term=period_now.previous.term, school_ids=ids
        )
        for (school_id, subject), summary in sorted(latest.items()):
            if summary.judgement == "red" and school_id in positions:
                positions[school_id].qa_red.append(subject)

    # Attendance: counts only.
    counts = await attendance_counts(session, trust_id=trust_id, school_ids=ids)
    for line in counts.by_school:
        if line.school_id in positions:
            positions[line.school_id].open_concerns = line.open
    flags = (
        select(
            AttendanceConcern.school_id,
            func.count().filter(AttendanceConcern.persistent_absence.is_(True)),
            func.count().filter(AttendanceConcern.severe_absence.is_(True)),
        )
        .where(
            AttendanceConcern.trust_id == trust_id,
            AttendanceConcern.school_id.in_(ids),
            AttendanceConcern.status == "open",
        )
        .group_by(AttendanceConcern.school_id)
    )
    for school_id, persistent, severe in await session.execute(flags):
        positions[school_id].persistent, positions[school_id].severe = int(persistent), int(severe)
    new_since = since or datetime.combine(today - timedelta(days=7), datetime.min.time())
    new_severe = (
        select(AttendanceConcern.school_id, func.count())
        .where(
            AttendanceConcern.trust_id == trust_id,
            AttendanceConcern.school_id.in_(ids),
            AttendanceConcern.severe_absence.is_(True),
            AttendanceConcern.raised_at > new_since,
        )
        .group_by(AttendanceConcern.school_id)
    )
    for school_id, count in await session.execute(new_severe):
        positions[school_id].new_severe = int(count)

    target = trust.coaching_target_percent
    for position in positions.values():
        position.attention = reasons(
            Signals(
                category=position.category,
                category_needs_attention=position.category_needs_attention,
                target_missed=position.target_missed,
                overdue_actions=position.overdue_actions,
                red_qa_subjects=tuple(position.qa_red),
                new_severe=position.new_severe,
                coached_6_weeks=position.coached_6_weeks,
            ),
            coaching_target=target,
        )

    changes = await changes_since(session, trust_id=trust_id, school_ids=ids, since=since)
    return TrustPosition(
        trust_id=trust_id,
        trust_name=trust.name,
        today=today,
        period=period,
        qa_term=qa_term,
        qa_in_last_weeks=qa_in_last_weeks,
        coaching_target=target,
        schools=list(positions.values()),
        distribution=distribution,
        changes=changes,
    )


# -- who receives them ------------------------------------------------------------


async def trust_digest_readers(session: AsyncSession, *, trust_id: int) -> list[int]:
    """Who receives the trust digest: the trust leads."""
    rows = await session.scalars(
        select(Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.trust_id == trust_id, PersonRole.role == Role.trust_lead.value)
        .order_by(Person.id)
    )
    return list(rows)


async def school_digest_readers(session: AsyncSession, *, trust_id: int) -> list[tuple[int, int]]:
    """(person, school) for each school digest: every head, for each school they head."""
    rows = await session.execute(
        select(Person.id, PersonRole.school_id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(
            Person.trust_id == trust_id,
            PersonRole.role == Role.head.value,
            PersonRole.school_id.is_not(None),
        )
        .order_by(Person.id, PersonRole.school_id)
    )
    return [(person_id, school_id) for person_id, school_id in rows if school_id is not None]
