"""Subject-lead QA summaries: who is expected to submit, what was submitted, reminders.

Expected = every (school, subject) that a subject lead of the school leads: the
person's subjects (person_subject) at each school where they are subject lead
(person_role).
One summary counts per school x subject x term; a resubmission is a new version
and the latest version is the one shown.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import Term
from storage.forms import store_once
from storage.models import (
    Person,
    PersonRole,
    PersonSubject,
    QaReminder,
    QaSummary,
    Role,
    School,
)

EVIDENCE = {
    "deep_dive": "Deep dive",
    "learning_walk": "Learning walk",
    "book_look": "Book look",
    "pupil_voice": "Pupil voice",
    "planning_scrutiny": "Planning scrutiny",
    "assessment_data": "Assessment data",
    "other": "Other",
}
JUDGEMENTS = {"red": "Red", "amber": "Amber", "green": "Green"}
# Two people submitting the same school x subject at once race for a version number.
VERSION_ATTEMPTS = 3


@dataclass(frozen=True)
class LedSubject:
    """A subject a subject lead leads at one of their schools."""

    person_id: int
    name: str
    school_id: int
    school_name: str
    subject: str


@dataclass(frozen=True)
class QaContent:
    strengths: str
    areas_for_development: str
    evidence: list[str]
    judgement: str
    actions: str
    cpd: str


@dataclass(frozen=True)
class SummaryLine:
    """The latest version of one school x subject x term, without its text."""

    id: int
    school_id: int
    subject: str
    version: int
    author_id: int | None
    author_name: str | None
    submitted_at: datetime
    judgement: str


@dataclass
class SchoolCompliance:
    school_id: int
    school_name: str
    # Subject -> the names of the people who lead it at this school.
    expected: dict[str, list[str]] = field(default_factory=dict)
    submitted: dict[str, SummaryLine] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return sorted(s for s in self.expected if s not in self.submitted)

    @property
    def submitted_count(self) -> int:
        return sum(1 for s in self.expected if s in self.submitted)


@dataclass(frozen=True)
class ReminderDue:
    reminder_id: int
    person_id: int
    school_id: int
    school_name: str
    subject: str


async def led_subjects(
    session: AsyncSession,
    *,
    trust_id: int,
    person_id: int | None = None,
    school_ids: Collection[int] | None = None,
) -> list[LedSubject]:
    """Every (subject lead, school, subject) of the trust, in one query."""
    query = (
        select(Person.id, Person.display_name, School.id, School.name, PersonSubject.subject)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .join(School, School.id == PersonRole.school_id)
        .join(PersonSubject, PersonSubject.person_id == Person.id)
        .where(
            Person.trust_id == trust_id,
            School.trust_id == trust_id,
            PersonRole.role == Role.subject_lead.value,
        )
        .order_by(School.name, PersonSubject.subject, Person.display_name)
    )
    if person_id is not None:
        query = query.where(Person.id == person_id)
    if school_ids is not None:
        query = query.where(School.id.in_(list(school_ids)))
    return [LedSubject(*row) for row in await session.execute(query)]


async def latest_summaries(
    session: AsyncSession,
    *,
    trust_id: int,
    term: Term,
    school_ids: Collection[int] | None = None,
) -> dict[tuple[int, str], SummaryLine]:
    """The latest version per (school, subject) for the term, in one query."""
    query = (
        select(
            QaSummary.id,
            QaSummary.school_id,
            QaSummary.subject,
            QaSummary.version,
            QaSummary.author_id,
            Person.display_name,
            QaSummary.submitted_at,
            QaSummary.judgement,
        )
        .outerjoin(Person, Person.id == QaSummary.author_id)
        .where(
            QaSummary.trust_id == trust_id,
            QaSummary.academic_year == term.academic_year,
            QaSummary.term == term.number,
        )
        .order_by(QaSummary.version)
    )
    if school_ids is not None:
        query = query.where(QaSummary.school_id.in_(list(school_ids)))
    latest: dict[tuple[int, str], SummaryLine] = {}
    for row in await session.execute(query):
        line = SummaryLine(*row)
        latest[(line.school_id, line.subject)] = line
    return latest


async def qa_summary(session: AsyncSession, *, trust_id: int, summary_id: int) -> QaSummary | None:
    return await session.scalar(
        select(QaSummary).where(QaSummary.trust_id == trust_id, QaSummary.id == summary_id)
    )


async def record_qa_summary(
    session: AsyncSession,
    *,
    trust_id: int,
    school_id: int,
    subject: str,
    term: Term,
    author_id: int,
    form_id: str,
    content: QaContent,
    submitted_at: datetime,
) -> tuple[QaSummary, bool]:
    """Store a new version; (the row, True), or (the row stored before, False) for a
    form already submitted. The caller checks that the author may submit it.

    Raises FormTaken for a form id stored for another school, subject or author.
    """
    for _ in range(VERSION_ATTEMPTS):
        latest = await session.scalar(
            select(func.max(QaSummary.version)).where(
                QaSummary.school_id == school_id,
                QaSummary.subject == subject,
                QaSummary.academic_year == term.academic_year,
                QaSummary.term == term.number,
            )
        )
        try:
            # A savepoint: losing the race for the version keeps the rest of the
            # caller's transaction, and the next attempt takes the next version.
            async with session.begin_nested():
                stored = await store_once(
                    session,
                    QaSummary,
                    {
                        "trust_id": trust_id,
                        "school_id": school_id,
                        "subject": subject,
                        "academic_year": term.academic_year,
                        "term": term.number,
                        "term_name": term.name,
                        "version": (latest or 0) + 1,
                        "author_id": author_id,
                        "strengths": content.strengths,
                        "areas_for_development": content.areas_for_development,
                        "evidence": list(content.evidence),
                        "judgement": content.judgement,
                        "actions": content.actions,
                        "cpd": content.cpd,
                        "form_id": form_id,
                        "submitted_at": submitted_at,
                    },
                    same=("school_id", "subject", "author_id"),
                )
        except IntegrityError:
            continue
        return stored.row, stored.created
    raise RuntimeError("could not store the QA summary: too many concurrent versions")


async def claim_qa_reminders(
    session: AsyncSession, *, trust_id: int, term: Term, now: datetime
) -> list[ReminderDue]:
    """Claim a reminder for every subject lead's (school, subject) with no summary
    for the term and no reminder yet.

    The claim is an insert that skips rows already there, so two runs at once
    (or a run repeated) claim each reminder once; only the claimed ones come back.
    """
    submitted = await latest_summaries(session, trust_id=trust_id, term=term)
    due = [
        lead
        for lead in await led_subjects(session, trust_id=trust_id)
        if (lead.school_id, lead.subject) not in submitted
    ]
    if not due:
        return []
    school_names = {lead.school_id: lead.school_name for lead in due}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claimed: list[ReminderDue] = []
    # Bounded statements: SQLite allows at most 32,766 parameters in one.
    for start in range(0, len(due), 500):
        chunk = due[start : start + 500]
        statement = (
            insert(QaReminder)
            .values(
                [
                    {
                        "trust_id": trust_id,
                        "school_id": lead.school_id,
                        "subject": lead.subject,
                        "academic_year": term.academic_year,
                        "term": term.number,
                        "person_id": lead.person_id,
                        "sent_at": now,
                    }
                    for lead in chunk
                ]
            )
            .on_conflict_do_nothing()
            .returning(
                QaReminder.id, QaReminder.person_id, QaReminder.school_id, QaReminder.subject
            )
        )
        for reminder_id, person_id, school_id, subject in await session.execute(statement):
            claimed.append(
                ReminderDue(reminder_id, person_id, school_id, school_names[school_id], subject)
            )
    return sorted(claimed, key=lambda r: (r.person_id, r.school_name, r.subject))


async def release_qa_reminders(session: AsyncSession, *, reminder_ids: Collection[int]) -> None:
    """Forget claimed reminders that could not be delivered, so a later run retries."""
    if reminder_ids:
        await session.execute(delete(QaReminder).where(QaReminder.id.in_(list(reminder_ids))))
