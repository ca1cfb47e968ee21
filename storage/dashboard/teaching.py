"""The teaching panels: coaching coverage against the trust's target and its trend,
and QA summaries submitted against expected with their judgements. Counts, shares
and RAG words only: never a coaching note, an action step or a summary's text."""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import Term
from storage.coaching import HELD
from storage.coaching.coverage import coaching_coverage
from storage.dashboard.model import (
    CoachingPanel,
    QAJudgement,
    QAPanel,
    SchoolCoverage,
    SchoolQA,
    SchoolRef,
    WeekCoverage,
)
from storage.dashboard.scope import of_schools
from storage.models import CoachingSession, PersonRole, Role
from storage.qa_compliance import compliance

# Coverage is "coached in the last six weeks", as storage/coaching/coverage.py counts it.
COVERAGE_WINDOW = timedelta(days=42)


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


async def coaching_panel(
    session: AsyncSession,
    *,
    trust_id: int,
    schools: list[SchoolRef],
    ids: list[int] | None,
    today: date,
    weeks: tuple[date, ...],
    target_percent: int,
) -> CoachingPanel:
    """Six-week coverage by school (storage/coaching/coverage.py's figures), and the
    scope's coverage over the six weeks ending each week of the term: four statements."""
    coverage = {
        entry.school_id: entry
        for entry in await coaching_coverage(
            session, trust_id=trust_id, school_ids=ids, today=today, with_strands=False
        )
    }
    by_school = tuple(
        SchoolCoverage(
            school.id,
            coverage[school.id].coached_6_weeks,
            coverage[school.id].teachers,
            _percent(coverage[school.id].coached_6_weeks, coverage[school.id].teachers),
        )
        for school in schools
    )
    # Roles keep no history: every week is measured against today's teachers.
    staff = sum(entry.staff for entry in by_school)
    coached = await _coached_by_week(session, trust_id=trust_id, ids=ids, today=today, weeks=weeks)
    trend = tuple(
        WeekCoverage(week, _percent(coached.get(index, 0), staff))
        for index, week in enumerate(weeks)
    )
    return CoachingPanel(
        target_percent=target_percent, by_school=by_school, weeks=weeks, trend=trend
    )


async def _coached_by_week(
    session: AsyncSession,
    *,
    trust_id: int,
    ids: list[int] | None,
    today: date,
    weeks: tuple[date, ...],
) -> dict[int, int]:
    """For each week (by its index), the teachers coached in the six weeks ending that
    week (or today), counted at each school as coverage counts them.

    One statement reads each teacher's days with a held session at the school where
    they teach (ids and dates only); the windows are matched here. Matching them in
    SQL (a join of the sessions with the weeks, counting distinct coachees) took
    twice as long on SQLite at 200 schools: each session falls in six windows.
    """
    if not weeks:
        return {}
    ends = [min(week + timedelta(days=6), today) for week in weeks]
    starts = [until - COVERAGE_WINDOW for until in ends]
    rows = await session.execute(
        select(CoachingSession.school_id, CoachingSession.coachee_id, CoachingSession.held_on)
        .join(
            PersonRole,
            and_(
                PersonRole.person_id == CoachingSession.coachee_id,
                PersonRole.school_id == CoachingSession.school_id,
                PersonRole.role == Role.teacher,
            ),
        )
        .where(
            CoachingSession.trust_id == trust_id,
            of_schools(CoachingSession.school_id, ids),
            CoachingSession.status == HELD,
            CoachingSession.held_on > starts[0],
            CoachingSession.held_on <= today,
        )
        .distinct()
    )
    # Each teacher's windows as bits: a day falls in the windows from the first
    # ending on or after it to the last starting before it.
    covered: dict[tuple[int, int], int] = {}
    for school_id, coachee_id, day in rows:
        first = bisect_left(ends, day)
        last = bisect_left(starts, day) - 1
        if first <= last:
            key = (school_id, coachee_id)
            covered[key] = covered.get(key, 0) | ((1 << (last + 1)) - (1 << first))
    return {
        index: sum(1 for bits in covered.values() if bits >> index & 1)
        for index in range(len(weeks))
    }


async def qa_panel(
    session: AsyncSession,
    *,
    trust_id: int,
    schools: list[SchoolRef],
    ids: list[int] | None,
    term: Term,
) -> QAPanel:
    """Summaries submitted against expected by school for the QA round's term, and the
    latest judgement of each subject at each school (None where expected and not yet
    submitted), as storage/qa.py `compliance` reads them: three statements."""
    found = {
        school.school_id: school
        for school in await compliance(session, trust_id=trust_id, term=term, school_ids=ids)
    }
    by_school = tuple(
        SchoolQA(school.id, found[school.id].submitted_count, len(found[school.id].expected))
        for school in schools
    )
    subjects = sorted(
        {subject for school in found.values() for subject in school.expected}
        | {subject for school in found.values() for subject in school.submitted}
    )
    grid = tuple(
        QAJudgement(
            subject,
            school.id,
            line.judgement if (line := found[school.id].submitted.get(subject)) else None,
        )
        for subject in subjects
        for school in schools
        if subject in found[school.id].expected or subject in found[school.id].submitted
    )
    return QAPanel(by_school=by_school, subjects=tuple(subjects), grid=grid, term_name=term.title)
