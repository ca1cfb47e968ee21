"""The export's activity facts: QA summaries and their evidence, coaching sessions,
and attendance concerns.

Each query names its columns, so content that must not leave cannot be read by
accident: a QA summary's judgement and evidence kinds, never its prose; a coaching
session's activity (who coached whom, when, on which strand, held or cancelled),
never its notes or action step, which are the coach's and coachee's alone; and
attendance concerns only as counts by school, week and stage, never a pupil
reference, year group or any of a concern's text.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.export.schema import Batches, Calendar, Row, Table, streamed, term_key
from storage.models import AttendanceConcern, CoachingSession, CoachingStrand, QaSummary
from storage.qa import EVIDENCE


async def _qa_summaries(session: AsyncSession, calendar: Calendar) -> Batches:
    # Newest version first within each school x subject x term, so the first row of
    # a group is the one that counts (`is_latest`), across batches too.
    query = (
        select(
            QaSummary.id,
            QaSummary.school_id,
            QaSummary.subject,
            QaSummary.academic_year,
            QaSummary.term,
            QaSummary.term_name,
            QaSummary.version,
            QaSummary.author_id,
            QaSummary.submitted_at,
            QaSummary.judgement,
            QaSummary.evidence,
        )
        .where(QaSummary.trust_id == calendar.trust_id)
        .order_by(
            QaSummary.school_id,
            QaSummary.subject,
            QaSummary.academic_year,
            QaSummary.term,
            QaSummary.version.desc(),
        )
    )
    previous: tuple[int, str, str, int] | None = None
    async for batch in streamed(session, query):
        rows: list[Row] = []
        for row_id, school, subject, year, term, name, version, author, at, rag, kinds in batch:
            group = (school, subject, year, term)
            rows.append(
                (
                    row_id,
                    school,
                    subject,
                    year,
                    term,
                    term_key(year, term),
                    name,
                    version,
                    group != previous,
                    author,
                    calendar.day_of(at),
                    rag,
                    "; ".join(kinds or ()),
                )
            )
            previous = group
        yield rows


async def _qa_evidence(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(QaSummary.id, QaSummary.evidence)
        .where(QaSummary.trust_id == calendar.trust_id)
        .order_by(QaSummary.id)
    )
    async for batch in streamed(session, query):
        yield [
            (row_id, kind, EVIDENCE.get(kind, kind))
            for row_id, kinds in batch
            for kind in (kinds or ())
        ]


async def _coaching_sessions(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(
            CoachingSession.id,
            CoachingSession.school_id,
            CoachingSession.coach_id,
            CoachingSession.coachee_id,
            CoachingSession.held_on,
            CoachingSession.strand_id,
            CoachingStrand.name,
            CoachingSession.status,
        )
        .outerjoin(CoachingStrand, CoachingStrand.id == CoachingSession.strand_id)
        .where(CoachingSession.trust_id == calendar.trust_id)
        .order_by(CoachingSession.held_on, CoachingSession.id)
    )
    async for batch in streamed(session, query):
        yield [
            (row_id, school, coach, coachee, day, calendar.term_key(day), *rest)
            for row_id, school, coach, coachee, day, *rest in batch
        ]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def _attendance_weekly(session: AsyncSession, calendar: Calendar) -> Batches:
    # Counted here rather than in SQL: the week is the school's (the trust's time
    # zone), which the two stores would each spell differently. Only these columns
    # are read; a concern's pupil, year group and text never are.
    query = select(
        AttendanceConcern.school_id,
        AttendanceConcern.raised_at,
        AttendanceConcern.stage,
        AttendanceConcern.status,
        AttendanceConcern.persistent_absence,
        AttendanceConcern.severe_absence,
    ).where(AttendanceConcern.trust_id == calendar.trust_id)
    # Per school, week and stage: raised, still open, persistent, severe.
    tallies: defaultdict[tuple[int, date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    async for batch in streamed(session, query):
        for school, at, stage, status, is_persistent, is_severe in batch:
            tally = tallies[school, monday_of(calendar.day_of(at)), stage]
            tally[0] += 1
            tally[1] += status == "open"
            tally[2] += bool(is_persistent)
            tally[3] += bool(is_severe)
    yield [
        (school, week, calendar.term_key(week), stage, *tally)
        for (school, week, stage), tally in sorted(tallies.items())
    ]


ACTIVITY_FACTS = (
    Table(
        "fact_qa_summaries",
        (
            "qa_summary_id",
            "school_id",
            "subject",
            "academic_year",
            "term_number",
            "term_key",
            "term_name",
            "version",
            "is_latest",
            "author_id",
            "submitted_on",
            "judgement",
            "evidence",
        ),
        _qa_summaries,
    ),
    Table("fact_qa_evidence", ("qa_summary_id", "evidence", "evidence_name"), _qa_evidence),
    Table(
        "fact_coaching_sessions",
        (
            "coaching_session_id",
            "school_id",
            "coach_id",
            "coachee_id",
            "held_on",
            "term_key",
            "strand_id",
            "strand",
            "status",
        ),
        _coaching_sessions,
    ),
    Table(
        "fact_attendance_weekly",
        (
            "school_id",
            "week_starting",
            "term_key",
            "stage",
            "concerns_raised",
            "still_open",
            "persistent_absence",
            "severe_absence",
        ),
        _attendance_weekly,
    ),
)
