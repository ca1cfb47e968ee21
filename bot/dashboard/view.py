"""What the dashboard page shows: each panel as sections of charts, every chart with
the table that says the same in text (screen readers read it; tests read it too).

Counts and names only, as the `Dashboard` holds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
from markupsafe import Markup

from bot.dashboard import charts
from bot.dashboard.plotting import UNCATEGORISED
from storage.dashboard import Dashboard, SchoolRef

# A school's link: its view on the same signed link.
SchoolLink = Callable[[int], str]


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    # A RAG judgement, for its colour in the table.
    rag: str | None = None

    @property
    def numeric(self) -> bool:
        """A count or a percentage: right-aligned, as figures are read."""
        return self.text.rstrip("%").isdigit()


@dataclass(frozen=True)
class Table:
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    figure: Markup
    table: Table


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    charts: tuple[Chart, ...]
    note: str | None = None


def figure_json(figure: go.Figure) -> Markup:
    """The figure as JSON safe inside a <script type="application/json"> block: `<`,
    `>` and `&` only occur in JSON strings, where their escapes mean the same."""
    text = figure.to_json(validate=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def sections(dashboard: Dashboard, school_link: SchoolLink) -> list[Section]:
    """The panels this dashboard holds, in the page's order."""
    names = {school.id: school.name for school in dashboard.schools}

    def school(school_id: int) -> Cell:
        return Cell(names.get(school_id, "?"), school_link(school_id))

    def n(value: int) -> Cell:
        return Cell(str(value))

    built: list[Section] = []
    if (panel := dashboard.categories) is not None:
        by_category: dict[str, list[str]] = {}
        for now in panel.now:
            by_category.setdefault(now.category or UNCATEGORISED, []).append(
                names.get(now.school_id, "?")
            )
        order = [*panel.order, UNCATEGORISED]
        built.append(
            Section(
                "categories",
                "Schools by category",
                (
                    Chart(
                        "categories-now",
                        "Schools in each category now",
                        figure_json(charts.categories_now(panel)),
                        Table(
                            "Schools in each category now",
                            ("Category", "Schools", "Which"),
                            tuple(
                                (
                                    Cell(name),
                                    n(len(by_category.get(name, []))),
                                    Cell(", ".join(by_category.get(name, [])) or "—"),
                                )
                                for name in order
                                if name in by_category or name in panel.order
                            ),
                        ),
                    ),
                    Chart(
                        "categories-moves",
                        "Category changes, last three years",
                        figure_json(charts.category_moves(panel, names)),
                        Table(
                            "Category changes over the last three years",
                            ("Date", "School", "From", "To"),
                            tuple(
                                (
                                    Cell(_day(m.on)),
                                    school(m.school_id),
                                    Cell(m.from_category or "—"),
                                    Cell(m.to_category),
                                )
                                for m in reversed(panel.movements)
                            ),
                        ),
                    ),
                ),
            )
        )
    if (coaching := dashboard.coaching) is not None:
        target = coaching.target_percent
        built.append(
            Section(
                "coaching",
                "Coaching coverage",
                (
                    Chart(
                        "coaching-schools",
                        f"Staff coached in the last 6 weeks (target {target}%)",
                        figure_json(charts.coaching_by_school(coaching, names)),
                        Table(
                            f"Staff coached in the last 6 weeks, by school (target {target}%)",
                            ("School", "Coached", "Staff", "Coverage"),
                            tuple(
                                (
                                    school(r.school_id),
                                    n(r.coached),
                                    n(r.staff),
                                    Cell(f"{r.percent}%"),
                                )
                                for r in coaching.by_school
                            ),
                        ),
                    ),
                    Chart(
                        "coaching-trend",
                        "Coverage week by week this term",
                        figure_json(charts.coaching_trend(coaching)),
                        Table(
                            "Coverage over the 6 weeks ending each week this term",
                            ("Week of", "Coverage"),
                            tuple(
                                (Cell(_day(w.week)), Cell(f"{w.percent}%")) for w in coaching.trend
                            ),
                        ),
                    ),
                ),
            )
        )
    if (qa := dashboard.qa) is not None:
        judged = {(j.subject, j.school_id): j.rag for j in qa.grid}
        shown = [
            s for s in dashboard.schools if any((subj, s.id) in judged for subj in qa.subjects)
        ]
        built.append(
            Section(
                "qa",
                "Quality assurance",
                (
                    Chart(
                        "qa-submitted",
                        "QA summaries submitted this term",
                        figure_json(charts.qa_submitted(qa, names)),
                        Table(
                            "QA summaries submitted and expected this term, by school",
                            ("School", "Submitted", "Expected"),
                            tuple(
                                (school(r.school_id), n(r.submitted), n(r.expected))
                                for r in qa.by_school
                            ),
                        ),
                    ),
                    Chart(
                        "qa-grid",
                        "Judgements by subject and school",
                        figure_json(charts.qa_grid(qa, shown)),
                        _qa_table(qa.subjects, shown, judged, school_link),
                    ),
                ),
            )
        )
    if (actions := dashboard.actions) is not None:
        built.append(
            Section(
                "actions",
                "Actions",
                (
                    Chart(
                        "actions-schools",
                        "Open, overdue and awaiting rating",
                        figure_json(charts.actions_by_school(actions, names)),
                        Table(
                            "Actions by school",
                            ("School", "Open", "Overdue", "Awaiting rating"),
                            tuple(
                                (school(r.school_id), n(r.open), n(r.overdue), n(r.awaiting_rating))
                                for r in actions.by_school
                            ),
                        ),
                    ),
                    Chart(
                        "actions-rag",
                        "RAG ratings given, month by month",
                        figure_json(charts.actions_rag(actions)),
                        Table(
                            "RAG ratings given in each of the last 12 months",
                            ("Month", "Red", "Amber", "Green"),
                            tuple(
                                (Cell(f"{m.month:%b %Y}"), n(m.red), n(m.amber), n(m.green))
                                for m in actions.rag_over_time
                            ),
                        ),
                    ),
                ),
            )
        )
    if (attendance := dashboard.attendance) is not None:
        counts = {(c.school_id, c.stage): c.count for c in attendance.by_school}
        with_concerns = [
            s
            for s in dashboard.schools
            if any((s.id, stage) in counts for stage in attendance.stages)
        ]
        built.append(
            Section(
                "attendance",
                "Attendance concerns",
                (
                    Chart(
                        "attendance-schools",
                        "Open concerns by school and stage",
                        figure_json(charts.attendance_by_school(attendance, with_concerns)),
                        Table(
                            "Open attendance concerns by school and stage",
                            ("School", *(st.capitalize() for st in attendance.stages), "Total"),
                            tuple(
                                (
                                    school(s.id),
                                    *(n(counts.get((s.id, st), 0)) for st in attendance.stages),
                                    n(sum(counts.get((s.id, st), 0) for st in attendance.stages)),
                                )
                                for s in with_concerns
                            ),
                        ),
                    ),
                    Chart(
                        "attendance-severe",
                        "New severe-absence concerns by week",
                        figure_json(charts.severe_by_week(attendance)),
                        Table(
                            "New severe-absence concerns raised each week this term",
                            ("Week of", "New concerns"),
                            tuple(
                                (Cell(_day(w.week)), n(w.count)) for w in attendance.severe_by_week
                            ),
                        ),
                    ),
                ),
                note="Counts only: no pupil is named here.",
            )
        )
    if (visits := dashboard.visits) is not None:
        built.append(
            Section(
                "visits",
                "Adviser visits",
                (
                    Chart(
                        "visits-schools",
                        "Visits done this year against entitlement",
                        figure_json(charts.visits_by_school(visits, names)),
                        Table(
                            "Adviser visits done this academic year, by school",
                            ("School", "Done", "Entitled"),
                            tuple(
                                (school(r.school_id), n(r.done), n(r.entitled))
                                for r in visits.by_school
                            ),
                        ),
                    ),
                ),
            )
        )
    return built


def _qa_table(
    subjects: tuple[str, ...],
    schools: list[SchoolRef],
    judged: dict[tuple[str, int], str | None],
    school_link: SchoolLink,
) -> Table:
    """Subjects down, schools across, each judgement named (colour is never the only cue)."""
    return Table(
        "QA judgements this term by subject and school",
        ("Subject", *(s.name for s in schools)),
        tuple(
            (
                Cell(subject),
                *(
                    Cell((rag or "—").capitalize() if rag else "—", rag=rag)
                    for rag in (judged.get((subject, s.id)) for s in schools)
                ),
            )
            for subject in subjects
        ),
    )
