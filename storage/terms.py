"""The academic calendar: a trust's terms, and which term a QA summary belongs to.

The academic year starts in September and is named "2026-27". A trust either sets
its terms (`waypoint terms set FILE`: three terms, six as some trusts keep, or
anything from three to six) or gets the default English three-term calendar for
every academic year it has not set.

A QA summary belongs to the term whose *window* holds the day it is submitted:
from `qa_window_weeks_before` weeks before the term's last day to
`qa_window_weeks_after` weeks after it (both inclusive, set per trust). Short terms
can make two windows overlap; a day in both belongs to the earlier term, so the
later term's window opens the day after the earlier one closes. Late summaries
for the term just ended are the ones the trust is chasing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.csv_rows import ImportRejected, RowError, csv_lines, parse_rows
from storage.models import TermDate, Trust

TERM_COLUMNS = ("academic_year", "term", "starts", "ends")
TERM_NAME_MAX = 40
MIN_TERMS, MAX_TERMS = 3, 6

_YEAR = re.compile(r"([0-9]{4})\s*[-/]\s*([0-9]{2}|[0-9]{4})")
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


@dataclass(frozen=True)
class Term:
    academic_year: str
    # 1 for the year's first term, in date order.
    number: int
    name: str
    starts: date
    ends: date

    @property
    def title(self) -> str:
        return f"{self.name} {self.academic_year}"


@dataclass(frozen=True)
class QaWindow:
    term: Term
    opens: date
    closes: date


@dataclass(frozen=True)
class QaSettings:
    weeks_before: int = 4
    weeks_after: int = 3
    reminder_days: int = 14


@dataclass(frozen=True)
class QaOpen:
    """Today is in this term's QA window."""

    window: QaWindow
    today: date

    @property
    def term(self) -> Term:
        return self.window.term

    @property
    def days_left(self) -> int:
        """Days after today that the window stays open (0 on its last day)."""
        return (self.window.closes - self.today).days


@dataclass(frozen=True)
class QaClosed:
    """No term is open for QA summaries today."""

    previous: QaWindow | None
    next: QaWindow | None


QaPeriod = QaOpen | QaClosed


# -- years -------------------------------------------------------------------------


def academic_year_of(day: date) -> int:
    """The calendar year in which the academic year holding `day` began."""
    return day.year if day.month >= 9 else day.year - 1


def year_label(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def year_start(label: str) -> int:
    return int(label[:4])


# -- the default English calendar --------------------------------------------------


def easter_sunday(year: int) -> date:
    """Western Easter (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (2 * e + 2 * i - h - k + 32) % 7
    m = (a + 11 * h + 19 * el) // 433
    month = (h + el - 7 * m + 90) // 25
    day = (h + el - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _friday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - 4) % 7)


def default_terms(start: int) -> list[Term]:
    """The default English three-term year starting in September of `start`.

    Fixed rules rather than any one local authority's dates, so every trust that
    has set nothing gets the same, predictable calendar:
    - autumn: the first weekday from 1 September to the Friday on or before 20 December;
    - spring: the first Monday from 2 January to the Thursday before Easter Sunday
      (schools break up before the Easter bank holidays);
    - summer: the Monday a week after Easter Monday to the Friday on or before 20 July.
    A trust whose dates differ sets its own with `waypoint terms set`.
    """
    label = year_label(start)
    easter = easter_sunday(start + 1)
    return [
        Term(
            label,
            1,
            "Autumn term",
            _weekday_on_or_after(date(start, 9, 1)),
            _friday_on_or_before(date(start, 12, 20)),
        ),
        Term(
            label,
            2,
            "Spring term",
            _monday_on_or_after(date(start + 1, 1, 2)),
            easter - timedelta(days=3),
        ),
        Term(
            label,
            3,
            "Summer term",
            easter + timedelta(days=8),
            _friday_on_or_before(date(start + 1, 7, 20)),
        ),
    ]


# -- windows -----------------------------------------------------------------------


def qa_windows(terms: list[Term], settings: QaSettings) -> list[QaWindow]:
    """Each term's QA window, in date order, overlaps given to the earlier term."""
    windows: list[QaWindow] = []
    for term in sorted(terms, key=lambda t: t.ends):
        opens = term.ends - timedelta(weeks=settings.weeks_before)
        closes = term.ends + timedelta(weeks=settings.weeks_after)
        if windows and opens <= windows[-1].closes:
            opens = windows[-1].closes + timedelta(days=1)
        if opens <= closes:
            windows.append(QaWindow(term, opens, closes))
    return windows


def qa_period_on(windows: list[QaWindow], today: date) -> QaPeriod:
    previous: QaWindow | None = None
    for window in windows:
        if window.opens <= today <= window.closes:
            return QaOpen(window, today)
        if window.opens > today:
            return QaClosed(previous=previous, next=window)
        previous = window
    return QaClosed(previous=previous, next=None)


async def qa_settings(session: AsyncSession, *, trust_id: int) -> QaSettings:
    row = (
        await session.execute(
            select(
                Trust.qa_window_weeks_before, Trust.qa_window_weeks_after, Trust.qa_reminder_days
            ).where(Trust.id == trust_id)
        )
    ).one()
    return QaSettings(weeks_before=row[0], weeks_after=row[1], reminder_days=row[2])


async def terms_around(session: AsyncSession, *, trust_id: int, day: date) -> list[Term]:
    """The terms of the academic years before, holding and after `day`.

    The year before matters for last summer's window running into August; the
    year after, for saying when the next window opens.
    """
    start = academic_year_of(day)
    labels = [year_label(y) for y in (start - 1, start, start + 1)]
    rows = await session.scalars(
        select(TermDate).where(TermDate.trust_id == trust_id, TermDate.academic_year.in_(labels))
    )
    by_year: defaultdict[str, list[Term]] = defaultdict(list)
    for row in rows:
        by_year[row.academic_year].append(
            Term(row.academic_year, row.number, row.name, row.starts, row.ends)
        )
    terms: list[Term] = []
    for label in labels:
        terms += by_year.get(label) or default_terms(year_start(label))
    return terms


async def qa_period(
    session: AsyncSession, *, trust_id: int, today: date, settings: QaSettings | None = None
) -> QaPeriod:
    """Which term a QA summary submitted today belongs to, or why none does."""
    settings = settings or await qa_settings(session, trust_id=trust_id)
    terms = await terms_around(session, trust_id=trust_id, day=today)
    return qa_period_on(qa_windows(terms, settings), today)


# -- setting a trust's terms from CSV ----------------------------------------------


def _academic_year(value: str) -> str:
    match = _YEAR.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not an academic year (write it like 2026-27)")
    start, end = int(match[1]), int(match[2])
    if end % 100 != (start + 1) % 100 or (end >= 100 and end != start + 1):
        raise ValueError(f"{value!r} is not an academic year: the second year follows the first")
    return year_label(start)


def _term_name(value: str) -> str:
    if any(ord(char) < 32 for char in value):
        raise ValueError("must be one line of text")
    return " ".join(value.split())


def _parse_date(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    uk = _UK_DATE.fullmatch(text)
    try:
        if uk:
            # Spreadsheets in the UK save dates as day/month/year.
            return date(int(uk[3]), int(uk[2]), int(uk[1]))
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (write it like 2026-09-02)") from None


class TermRow(BaseModel):
    """One line of a terms file."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    academic_year: Annotated[str, Field(min_length=1), AfterValidator(_academic_year)]
    term: Annotated[str, Field(min_length=1, max_length=TERM_NAME_MAX), AfterValidator(_term_name)]
    starts: date
    ends: date

    @field_validator("starts", "ends", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if value == "":
            raise ValueError("is required")
        return _parse_date(value)

    @model_validator(mode="after")
    def _within_year(self) -> TermRow:
        if self.ends < self.starts:
            raise ValueError(f"the term ends ({self.ends}) before it starts ({self.starts})")
        start = year_start(self.academic_year)
        # Some trusts start in the last days of August; none start in July.
        first, last = date(start, 8, 1), date(start + 1, 8, 31)
        if not (first <= self.starts and self.ends <= last):
            raise ValueError(
                f"the term's dates must fall within the academic year {self.academic_year} "
                f"({first} to {last})"
            )
        return self


@dataclass(frozen=True)
class TermsReport:
    years: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{year}: {count} terms" for year, count in sorted(self.years.items()))


def _year_problems(rows: list[tuple[int, TermRow]]) -> list[RowError]:
    errors: list[RowError] = []
    by_year: defaultdict[str, list[tuple[int, TermRow]]] = defaultdict(list)
    for line, row in rows:
        by_year[row.academic_year].append((line, row))
    for year, year_rows in by_year.items():
        seen: dict[str, int] = {}
        for line, row in year_rows:
            key = row.term.casefold()
            if key in seen:
                errors.append(
                    RowError(line, f"term {row.term!r} of {year} is already on line {seen[key]}")
                )
            else:
                seen[key] = line
        ordered = sorted(year_rows, key=lambda item: item[1].starts)
        for (line_a, a), (line_b, b) in pairwise(ordered):
            if b.starts <= a.ends:
                errors.append(
                    RowError(line_b, f"term {b.term!r} overlaps term {a.term!r} on line {line_a}")
                )
        if not MIN_TERMS <= len(year_rows) <= MAX_TERMS:
            first_line = min(line for line, _ in year_rows)
            errors.append(
                RowError(
                    first_line,
                    f"{year} has {len(year_rows)} terms: a year needs from {MIN_TERMS} "
                    f"to {MAX_TERMS} (three terms, or six)",
                )
            )
    return errors


async def set_terms(session: AsyncSession, *, trust_id: int, csv_text: str) -> TermsReport:
    """Replace the trust's terms for every academic year in an
    `academic_year,term,starts,ends` file; other years are left alone.

    All or nothing, as the imports: `ImportRejected` lists every problem by line.
    Summaries already stored keep their year, term number and term name.
    """
    if await session.get(Trust, trust_id) is None:
        raise ValueError(f"there is no trust with id {trust_id}")
    lines, errors = csv_lines(csv_text, TERM_COLUMNS)
    rows, row_errors = parse_rows(lines, TermRow)
    errors += row_errors + _year_problems(rows)
    if errors:
        raise ImportRejected(errors)
    by_year: defaultdict[str, list[TermRow]] = defaultdict(list)
    for _, row in rows:
        by_year[row.academic_year].append(row)
    if not by_year:
        return TermsReport({})
    await session.execute(
        delete(TermDate).where(
            TermDate.trust_id == trust_id, TermDate.academic_year.in_(list(by_year))
        )
    )
    values = [
        {
            "trust_id": trust_id,
            "academic_year": year,
            "number": number,
            "name": row.term,
            "starts": row.starts,
            "ends": row.ends,
        }
        for year, year_rows in by_year.items()
        for number, row in enumerate(sorted(year_rows, key=lambda r: r.starts), 1)
    ]
    await session.execute(insert(TermDate), values)
    return TermsReport({year: len(year_rows) for year, year_rows in by_year.items()})


# -- a trust's QA settings -----------------------------------------------------------

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
