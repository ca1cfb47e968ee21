"""The dashboard's charts as plotly figures, built from the `Dashboard` values.

Each figure is built here with plotly's Python classes (which check every property)
and sent to the page as JSON; the page's own script draws it with the plotly.js that
plotly's wheel ships (bot/dashboard/web.py serves it). Colours of the text, grid and
background follow the page's theme in that script, so one figure serves light and
dark alike; the colours here carry meaning (RAG, categories) and read on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

import plotly.graph_objects as go

from bot.dashboard.plotting import (
    FRAME_HEIGHT,
    NEUTRAL,
    RAG_COLOURS,
    SERIES,
    UNCATEGORISED,
    by_school_height,
    category_colours,
    count_axis,
    date_axis,
    layout,
    school_axis,
    target_label,
    target_line,
)
from storage.dashboard import (
    ActionPanel,
    AttendancePanel,
    CategoryPanel,
    CoachingPanel,
    QAPanel,
    SchoolRef,
    VisitPanel,
)


def categories_now(panel: CategoryPanel) -> go.Figure:
    counts = {name: 0 for name in panel.order}
    for school in panel.now:
        name = school.category or UNCATEGORISED
        counts[name] = counts.get(name, 0) + 1
    colours = category_colours(panel.order)
    names = list(counts)
    return go.Figure(
        go.Bar(
            x=[counts[name] for name in names],
            y=[_label(name) for name in names],
            orientation="h",
            marker_color=[colours.get(name, NEUTRAL) for name in names],
            hovertemplate="%{y}: %{x} schools<extra></extra>",
        ),
        layout=layout(
            height=FRAME_HEIGHT + 34 * len(names),
            yaxis=school_axis(names),
            xaxis=count_axis(list(counts.values()), title={"text": "Schools"}),
        ),
    )


def category_moves(panel: CategoryPanel, names: dict[int, str]) -> go.Figure:
    colours = category_colours(panel.order)
    figure = go.Figure(
        layout=layout(
            height=by_school_height(len({m.school_id for m in panel.movements})),
            yaxis={"automargin": True, "type": "category"},
            xaxis=date_axis([m.on for m in panel.movements], pad_days=45, tickformat="%b %Y"),
        )
    )
    for category in panel.order:
        moves = [m for m in panel.movements if m.to_category == category]
        if not moves:
            continue
        figure.add_trace(
            go.Scatter(
                name=_label(category),
                x=[m.on.isoformat() for m in moves],
                y=[_label(names.get(m.school_id, "?")) for m in moves],
                mode="markers",
                marker={"color": colours[category], "size": 12, "symbol": "diamond"},
                hovertemplate="%{y}: " + _label(category) + " from %{x}<extra></extra>",
            )
        )
    return figure


def coaching_by_school(panel: CoachingPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    schools = [_label(names.get(row.school_id, "?")) for row in rows]
    return go.Figure(
        go.Bar(
            name="Coached in 6 weeks (%)",
            x=[row.percent for row in rows],
            y=schools,
            orientation="h",
            marker_color=[
                SERIES[0] if row.percent >= panel.target_percent else RAG_COLOURS["amber"]
                for row in rows
            ],
            hovertemplate="%{y}: %{x}%<extra></extra>",
        ),
        layout=layout(
            height=by_school_height(len(rows)),
            yaxis=school_axis(schools),
            xaxis={"range": [0, 100], "ticksuffix": "%"},
            # Room above the bars for the target's label.
            margin={"l": 10, "r": 10, "t": 28, "b": 10},
            shapes=[target_line(panel.target_percent, vertical=True)],
            annotations=[target_label(panel.target_percent, vertical=True)],
        ),
    )


def coaching_trend(panel: CoachingPanel) -> go.Figure:
    return go.Figure(
        go.Scatter(
            name="Coached in 6 weeks (%)",
            x=[_day(week.week) for week in panel.trend],
            y=[week.percent for week in panel.trend],
            mode="lines+markers",
            line={"color": SERIES[0], "width": 3},
            hovertemplate="Week of %{x}: %{y}%<extra></extra>",
        ),
        layout=layout(
            yaxis={"range": [0, 100], "ticksuffix": "%"},
            xaxis=date_axis([w.week for w in panel.trend], pad_days=4),
            shapes=[target_line(panel.target_percent, vertical=False)],
            annotations=[target_label(panel.target_percent, vertical=False)],
        ),
    )


def qa_submitted(panel: QAPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    return _done_against_due(
        [names.get(r.school_id, "?") for r in rows],
        ("Submitted", [r.submitted for r in rows]),
        ("Expected", [r.expected for r in rows]),
    )


RAG_LEVEL = {"red": 0, "amber": 1, "green": 2}


def qa_grid(panel: QAPanel, schools: Sequence[SchoolRef]) -> go.Figure:
    """Subjects down, schools across; each cell coloured by its RAG judgement."""
    judged = {(j.subject, j.school_id): j.rag for j in panel.grid}
    z: list[list[int | None]] = []
    text: list[list[str]] = []
    for subject in panel.subjects:
        cells = [judged.get((subject, school.id)) for school in schools]
        z.append([RAG_LEVEL.get(rag) if rag else None for rag in cells])
        text.append([rag.capitalize() if rag else "—" for rag in cells])
    # Three flat bands, so that each level has exactly its RAG colour.
    scale = [
        [0.0, RAG_COLOURS["red"]],
        [0.333, RAG_COLOURS["red"]],
        [0.334, RAG_COLOURS["amber"]],
        [0.666, RAG_COLOURS["amber"]],
        [0.667, RAG_COLOURS["green"]],
        [1.0, RAG_COLOURS["green"]],
    ]
    return go.Figure(
        go.Heatmap(
            z=z,
            x=[_label(school.name) for school in schools],
            y=[_label(subject) for subject in panel.subjects],
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=2,
            colorscale=scale,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="%{y} at %{x}: %{text}<extra></extra>",
        ),
        layout=layout(
            height=FRAME_HEIGHT + 60 + 30 * max(len(panel.subjects), 1),
            xaxis={"automargin": True, "side": "top", "tickangle": -30, "type": "category"},
            yaxis={"automargin": True, "autorange": "reversed", "type": "category"},
        ),
    )


def actions_by_school(panel: ActionPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    schools = [_label(names.get(row.school_id, "?")) for row in rows]
    series = (
        ("Open", [r.open for r in rows], SERIES[0]),
        ("Overdue", [r.overdue for r in rows], RAG_COLOURS["red"]),
        ("Awaiting rating", [r.awaiting_rating for r in rows], SERIES[3]),
    )
    return go.Figure(
        [
            go.Bar(name=name, x=values, y=schools, orientation="h", marker_color=colour)
            for name, values, colour in series
        ],
        layout=layout(
            height=by_school_height(len(rows)) + 16 * len(rows),
            barmode="group",
            yaxis=school_axis(schools),
            xaxis=count_axis([max(r.open, r.overdue, r.awaiting_rating) for r in rows]),
        ),
    )


def actions_rag(panel: ActionPanel) -> go.Figure:
    months = [_day(m.month) for m in panel.rag_over_time]
    return go.Figure(
        [
            go.Bar(
                name=rag.capitalize(),
                x=months,
                y=[getattr(m, rag) for m in panel.rag_over_time],
                marker_color=RAG_COLOURS[rag],
            )
            for rag in ("red", "amber", "green")
        ],
        layout=layout(
            barmode="stack",
            xaxis=date_axis(
                [m.month for m in panel.rag_over_time], pad_days=20, tickformat="%b %Y"
            ),
            yaxis=count_axis(
                [m.red + m.amber + m.green for m in panel.rag_over_time],
                title={"text": "Ratings given"},
            ),
        ),
    )


def attendance_by_school(panel: AttendancePanel, schools: Sequence[SchoolRef]) -> go.Figure:
    counts = {(c.school_id, c.stage): c.count for c in panel.by_school}
    names = [_label(school.name) for school in schools]
    return go.Figure(
        [
            go.Bar(
                name=stage.capitalize(),
                x=[counts.get((school.id, stage), 0) for school in schools],
                y=names,
                orientation="h",
                marker_color=SERIES[i % len(SERIES)],
            )
            for i, stage in enumerate(panel.stages)
        ],
        layout=layout(
            height=by_school_height(len(schools)),
            barmode="stack",
            yaxis=school_axis(names),
            xaxis=count_axis(
                [sum(counts.get((s.id, st), 0) for st in panel.stages) for s in schools],
                title={"text": "Open concerns"},
            ),
        ),
    )


def severe_by_week(panel: AttendancePanel) -> go.Figure:
    return go.Figure(
        go.Bar(
            name="New severe-absence concerns",
            x=[_day(w.week) for w in panel.severe_by_week],
            y=[w.count for w in panel.severe_by_week],
            marker_color=RAG_COLOURS["red"],
            hovertemplate="Week of %{x}: %{y}<extra></extra>",
        ),
        layout=layout(
            xaxis=date_axis([w.week for w in panel.severe_by_week], pad_days=4),
            yaxis=count_axis([w.count for w in panel.severe_by_week]),
        ),
    )


def visits_by_school(panel: VisitPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    return _done_against_due(
        [names.get(r.school_id, "?") for r in rows],
        ("Done", [r.done for r in rows]),
        ("Entitled", [r.entitled for r in rows]),
    )


def _done_against_due(
    names: list[str], done: tuple[str, list[int]], due: tuple[str, list[int]]
) -> go.Figure:
    """Each school's count done (the series colour) beside what is due (neutral grey):
    QA summaries against those expected, visits against the entitlement."""
    schools = [_label(name) for name in names]
    bars = [
        go.Bar(name=name, x=values, y=schools, orientation="h", marker_color=colour)
        for (name, values), colour in ((done, SERIES[0]), (due, NEUTRAL))
    ]
    return go.Figure(
        bars,
        layout=layout(
            height=by_school_height(len(names)) + 12 * len(names),
            barmode="group",
            yaxis=school_axis(schools),
            xaxis=count_axis([max(a, b) for a, b in zip(done[1], due[1], strict=True)]),
        ),
    )


def _label(text: str) -> str:
    """plotly.js reads axis labels, legends and hover text as its own small HTML
    (`<a href>`, `<b>`, entities): a school, category or subject is shown as typed,
    never as markup."""
    return escape(text, quote=False)


def _day(day: date) -> str:
    return day.isoformat()
