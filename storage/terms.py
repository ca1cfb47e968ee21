"""A trust's academic calendar as stored: its terms around a day, which term a QA
summary submitted today belongs to, and its QA window and reminder settings.

The terms a trust has set win for their academic year; any other year is the
default English calendar. The date arithmetic is storage.academic_calendar's;
setting a trust's terms from a CSV file is storage.term_dates's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import (
    QaPeriod,
    QaSettings,
    QaWindow,
    Term,
    academic_year_of,
    default_terms,
    qa_period_on,
    qa_windows,
    year_label,
    year_start,
)
from storage.models import TermDate, Trust


async def qa_settings(session: AsyncSession, *, trust_id: int) -> QaSettings:
    row = (
        await session.execute(
            select(
                Trust.qa_window_weeks_before, Trust.qa_window_weeks_after, Trust.qa_reminder_days
            ).where(Trust.id == trust_id)
        )
    ).one()
    return QaSettings(weeks_before=row[0], weeks_after=row[1], reminder_days=row[2])


async def stored_calendar(session: AsyncSession, *, trust_id: int) -> tuple[Term, ...]:
    """Every term date the trust has set: what a replica keeps with the trust's people
    while its directory version holds (storage/directory_cache.py), so that a turn
    asking which term it is reads nothing. A trust sets a few terms a year."""
    rows = await session.scalars(
        select(TermDate)
        .where(TermDate.trust_id == trust_id)
        .order_by(TermDate.academic_year, TermDate.number)
    )
    return tuple(_term(row) for row in rows)


def _term(row: TermDate) -> Term:
    return Term(row.academic_year, row.number, row.name, row.starts, row.ends)


def _years_around(day: date) -> list[str]:
    start = academic_year_of(day)
    return [year_label(y) for y in (start - 1, start, start + 1)]


def _with_defaults(labels: list[str], stored: Iterable[Term]) -> list[Term]:
    """Each year's stored terms, or the default calendar's for a year with none set."""
    by_year: defaultdict[str, list[Term]] = defaultdict(list)
    for term in stored:
        by_year[term.academic_year].append(term)
    terms: list[Term] = []
    for label in labels:
        terms += by_year.get(label) or default_terms(year_start(label))
    return terms


async def terms_around(
    session: AsyncSession,
    *,
    trust_id: int,
    day: date,
    calendar: tuple[Term, ...] | None = None,
) -> list[Term]:
    """The terms of the academic years before, holding and after `day`: from the
    trust's `calendar` when the caller has it (`Actor.calendar`), else from the store.

    The year before matters for last summer's window running into August; the
    year after, for saying when the next window opens.
    """
    labels = _years_around(day)
    if calendar is not None:
        return _with_defaults(labels, calendar)
    rows = await session.scalars(
        select(TermDate).where(TermDate.trust_id == trust_id, TermDate.academic_year.in_(labels))
    )
    return _with_defaults(labels, (_term(row) for row in rows))


async def qa_period(
    session: AsyncSession,
    *,
    trust_id: int,
    today: date,
    settings: QaSettings | None = None,
    calendar: tuple[Term, ...] | None = None,
) -> QaPeriod:
    """Which term a QA summary submitted today belongs to, or why none does."""
    settings = settings or await qa_settings(session, trust_id=trust_id)
    terms = await terms_around(session, trust_id=trust_id, day=today, calendar=calendar)
    return qa_period_on(qa_windows(terms, settings), today)


# -- changing a trust's QA settings --------------------------------------------------

# Bounds that keep windows meaningful: a window longer than a term would swallow the next.
MAX_WINDOW_WEEKS = 8
MAX_REMINDER_DAYS = 56


class InvalidQaSettings(ValueError):
    pass


async def set_qa_settings(
    session: AsyncSession,
    *,
    trust_id: int,
    weeks_before: int | None = None,
    weeks_after: int | None = None,
    reminder_days: int | None = None,
) -> QaSettings:
    """Change any of the trust's QA window and reminder settings; the result in full."""
    trust = await session.get(Trust, trust_id)
    if trust is None:
        raise ValueError(f"there is no trust with id {trust_id}")
    for name, value, low, high in (
        ("weeks before", weeks_before, 0, MAX_WINDOW_WEEKS),
        ("weeks after", weeks_after, 0, MAX_WINDOW_WEEKS),
        ("reminder days", reminder_days, 1, MAX_REMINDER_DAYS),
    ):
        if value is not None and not low <= value <= high:
            raise InvalidQaSettings(f"{name} must be from {low} to {high} (not {value})")
    if weeks_before is not None:
        trust.qa_window_weeks_before = weeks_before
    if weeks_after is not None:
        trust.qa_window_weeks_after = weeks_after
    if reminder_days is not None:
        trust.qa_reminder_days = reminder_days
    await session.flush()
    return QaSettings(
        trust.qa_window_weeks_before, trust.qa_window_weeks_after, trust.qa_reminder_days
    )


async def calendar_around(
    session: AsyncSession, *, trust_id: int, day: date
) -> tuple[QaSettings, list[QaWindow]]:
    """The trust's settings and the QA windows of the years around `day` (for admins)."""
    settings = await qa_settings(session, trust_id=trust_id)
    terms = await terms_around(session, trust_id=trust_id, day=day)
    return settings, qa_windows(terms, settings)
