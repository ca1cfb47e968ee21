"""The academic calendar as date arithmetic: academic years, terms, QA windows.

The academic year starts in September and is named "2026-27". A trust either sets
its terms (storage.term_dates: three terms, six as some trusts keep, or anything
from three to six) or gets the default English three-term calendar (`default_terms`)
for every academic year it has not set; storage.terms reads which.

A QA summary belongs to the term whose *window* holds the day it is submitted:
from `qa_window_weeks_before` weeks before the term's last day to
`qa_window_weeks_after` weeks after it (both inclusive, set per trust). Short terms
can make two windows overlap; a day in both belongs to the earlier term, so the
later term's window opens the day after the earlier one closes. Late summaries
for the term just ended are the ones the trust is chasing.

Nothing here reads the store: every function is a function of its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


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
