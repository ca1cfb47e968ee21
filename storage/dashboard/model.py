"""What the trust dashboard shows, as plain frozen values: counts per school, week or
month, and names of schools, categories, subjects and stages. Nothing here ever holds a
pupil reference, a note, a coaching note or an action step (`dataclasses.asdict` of a
`Dashboard` is what the page and its data endpoints serialise)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class Panel(enum.StrEnum):
    categories = "categories"
    coaching = "coaching"
    qa = "qa"
    actions = "actions"
    attendance = "attendance"
    visits = "visits"


class OutOfScope(Exception):
    """The person asked for a school they do not reach (the page answers 403)."""


@dataclass(frozen=True)
class SchoolRef:
    id: int
    name: str
    hub: str | None
    phase: str


@dataclass(frozen=True)
class DashboardScope:
    trust_id: int
    # None: every school of the trust.
    school_ids: frozenset[int] | None
    # Governors get no coaching, attendance or QA panel.
    panels: frozenset[Panel]
    hub: str | None = None
    phase: str | None = None


@dataclass(frozen=True)
class SchoolCategory:
    school_id: int
    category: str | None
    since: date | None


@dataclass(frozen=True)
class CategoryMove:
    school_id: int
    on: date
    from_category: str | None
    to_category: str


@dataclass(frozen=True)
class CategoryPanel:
    # The framework's category names, best first.
    order: tuple[str, ...]
    now: tuple[SchoolCategory, ...]
    # Over the last three years, oldest first.
    movements: tuple[CategoryMove, ...]


@dataclass(frozen=True)
class SchoolCoverage:
    """Staff coached in the last six weeks against staff to coach at one school."""

    school_id: int
    coached: int
    staff: int
    percent: int


@dataclass(frozen=True)
class WeekCoverage:
    """Scope-wide coverage over the six weeks ending that week (its Monday)."""

    week: date
    percent: int


@dataclass(frozen=True)
class CoachingPanel:
    target_percent: int
    by_school: tuple[SchoolCoverage, ...]
    # Mondays of this term up to today.
    weeks: tuple[date, ...]
    trend: tuple[WeekCoverage, ...]


@dataclass(frozen=True)
class SchoolQA:
    school_id: int
    submitted: int
    expected: int


@dataclass(frozen=True)
class QAJudgement:
    subject: str
    school_id: int
    # "red", "amber", "green", or None when not judged this term.
    rag: str | None


@dataclass(frozen=True)
class QAPanel:
    by_school: tuple[SchoolQA, ...]
    subjects: tuple[str, ...]
    grid: tuple[QAJudgement, ...]
    # The term of the QA round shown (the open window's, else the latest round's):
    # early in a term it is the term just ended.
    term_name: str = ""


@dataclass(frozen=True)
class SchoolActions:
    school_id: int
    open: int
    overdue: int
    awaiting_rating: int


@dataclass(frozen=True)
class RagCount:
    """Ratings given in one month (its 1st)."""

    month: date
    red: int
    amber: int
    green: int


@dataclass(frozen=True)
class ActionPanel:
    by_school: tuple[SchoolActions, ...]
    # The last twelve months, oldest first.
    rag_over_time: tuple[RagCount, ...]


@dataclass(frozen=True)
class StageCount:
    """Open attendance concerns at one school and stage."""

    school_id: int
    stage: str
    count: int


@dataclass(frozen=True)
class WeekCount:
    week: date
    count: int


@dataclass(frozen=True)
class AttendancePanel:
    stages: tuple[str, ...]
    by_school: tuple[StageCount, ...]
    # New severe-absence concerns by week (Monday) this term.
    severe_by_week: tuple[WeekCount, ...]


@dataclass(frozen=True)
class SchoolVisits:
    """Visits done this academic year against the school's entitlement."""

    school_id: int
    done: int
    entitled: int


@dataclass(frozen=True)
class VisitPanel:
    by_school: tuple[SchoolVisits, ...]


@dataclass(frozen=True)
class Dashboard:
    trust_name: str
    today: date
    term_name: str
    # In scope after the filters, by name.
    schools: tuple[SchoolRef, ...]
    # Filter choices within the person's reach.
    hubs: tuple[str, ...]
    phases: tuple[str, ...]
    categories: CategoryPanel | None
    coaching: CoachingPanel | None
    qa: QAPanel | None
    actions: ActionPanel | None
    attendance: AttendancePanel | None
    visits: VisitPanel | None
