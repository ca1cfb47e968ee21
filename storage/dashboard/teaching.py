"""The teaching panels: coaching coverage against the trust's target and its trend,
and QA summaries submitted against expected with their judgements. Counts, shares
and RAG words only: never a coaching note, an action step or a summary's text."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, and_, func, literal, select, union_all
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
from storage.models import CoachingSession, PersonRole, Role
from storage.qa import compliance

# Coverage is "coached in the last six weeks", as storage/coaching/coverage.py counts it.
COVERAGE_WINDOW = timedelta(days=42)


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


async def coaching_panel(
    session: AsyncSession,
    *,
    trust_id: int,
    schools: list[SchoolRef],
    today: date,
    weeks: tuple[date, ...],
    target_percent: int,
) -> CoachingPanel:
    """Six-week coverage by school (storage/coaching/coverage.py's figures), and the
    scope's coverage over the six weeks ending each week of the term: five statements."""
    ids = [school.id for school in schools]
    coverage = {
        entry.school_id: entry
        for entry in await coaching_coverage(
            session, trust_id=trust_id, school_ids=ids, today=today
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
    session: AsyncSession, *, trust_id: int, ids: list[int], today: date, weeks: tuple[date, ...]
) -> dict[int, int]:
    """For each week (by its index), the teachers coached in the six weeks ending that
    week (or today), counted at each school as coverage counts them: one statement,
    the weeks given as a small table of literals."""
    if not weeks:
        return {}
    windows: list[Select[int, date, date]] = []
    for index, week in enumerate(weeks):
        until = min(week + timedelta(days=6), today)
        windows.append(
            select(
                literal(index).label("week"),
                literal(until - COVERAGE_WINDOW).label("after"),
                literal(until).label("until"),
            )
        )
    window = union_all(*windows).subquery() if len(windows) > 1 else windows[0].subquery()
    # A coachee counts where they hold the teacher role, as coverage counts them.
    teacher_at_school = (
        select(PersonRole.person_id)
        .where(
            PersonRole.role == Role.teacher,
            PersonRole.school_id == CoachingSession.school_id,
            PersonRole.person_id == CoachingSession.coachee_id,
        )
        .exists()
    )
    rows = await session.execute(
        select(
            window.c.week,
            CoachingSession.school_id,
            func.count(func.distinct(CoachingSession.coachee_id)),
        )
        .select_from(CoachingSession)
        .join(
            window,
            and_(
                CoachingSession.held_on > window.c.after, CoachingSession.held_on <= window.c.until
            ),
        )
        .where(
            CoachingSession.trust_id == trust_id,
            CoachingSession.school_id.in_(ids),
            CoachingSession.status == HELD,
            teacher_at_school,
        )
        .group_by(window.c.week, CoachingSession.school_id)
    )
    coached: dict[int, int] = {}
    for index, _, count in rows:
        coached[int(index)] = coached.get(int(index), 0) + int(count)
    return coached


async def qa_panel(
    session: AsyncSession, *, trust_id: int, schools: list[SchoolRef], term: Term
) -> QAPanel:
    """Summaries submitted against expected by school for the QA round's term, and the
    latest judgement of each subject at each school (None where expected and not yet
    submitted), as storage/qa.py `compliance` reads them: three statements."""
    ids = [school.id for school in schools]
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
