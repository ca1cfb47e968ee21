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
from typing import Any

import plotly.graph_objects as go

from storage.dashboard import (
    ActionPanel,
    AttendancePanel,
    CategoryPanel,
    CoachingPanel,
    QAPanel,
    SchoolRef,
    VisitPanel,
)

RAG_COLOURS = {"red": "#d13438", "amber": "#f7a30c", "green": "#13a10e"}
# Teams' chart palette, strongest category first (as the digest card's chart).
CATEGORY_COLOURS = (
    "#13a10e",
    "#8cbd18",
    "#00b7c3",
    "#4f6bed",
    "#8764b8",
    "#c239b3",
    "#f7a30c",
    "#ca5010",
    "#d13438",
)
NEUTRAL = "#8a8886"
SERIES = ("#4f6bed", "#00b7c3", "#ca5010", "#8764b8", "#c239b3", "#8cbd18")
UNCATEGORISED = "Not yet categorised"
# Pixels per school on a horizontal bar chart, and around it.
ROW_HEIGHT = 26
FRAME_HEIGHT = 110


def _layout(*, height: int = 320, **more: Any) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "font": {"family": "Segoe UI, system-ui, sans-serif", "size": 12},
        **more,
    }


def _by_school_height(schools: int, legend: bool = True) -> int:
    return FRAME_HEIGHT + (30 if legend else 0) + ROW_HEIGHT * max(schools, 1)


def _school_axis(names: Sequence[str]) -> dict[str, Any]:
    # The first school at the top, as in the table beside it.
    return {"automargin": True, "autorange": "reversed", "type": "category"}


def category_colours(order: Sequence[str]) -> dict[str, str]:
    """One colour per category, spread over the palette from strongest to weakest."""
    last = len(CATEGORY_COLOURS) - 1
    colours = {
        name: CATEGORY_COLOURS[round(i * last / (len(order) - 1)) if len(order) > 1 else 0]
        for i, name in enumerate(order)
    }
    colours[UNCATEGORISED] = NEUTRAL
    return colours


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
            y=names,
            orientation="h",
            marker_color=[colours.get(name, NEUTRAL) for name in names],
            hovertemplate="%{y}: %{x} schools<extra></extra>",
        ),
        layout=_layout(
            height=FRAME_HEIGHT + 34 * len(names),
            yaxis=_school_axis(names),
            xaxis={"title": {"text": "Schools"}, "dtick": 1, "rangemode": "tozero"},
        ),
    )


def category_moves(panel: CategoryPanel, names: dict[int, str]) -> go.Figure:
    colours = category_colours(panel.order)
    figure = go.Figure(layout=_layout(
        height=_by_school_height(len({m.school_id for m in panel.movements})),
        yaxis={"automargin": True, "type": "category"},
        xaxis={"type": "date"},
    ))
    for category in panel.order:
        moves = [m for m in panel.movements if m.to_category == category]
        if not moves:
            continue
        figure.add_trace(
            go.Scatter(
                name=category,
                x=[m.on.isoformat() for m in moves],
                y=[names.get(m.school_id, "?") for m in moves],
                mode="markers",
                marker={"color": colours[category], "size": 12, "symbol": "diamond"},
                hovertemplate="%{y}: " + category + " from %{x}<extra></extra>",
            )
        )
    return figure


def coaching_by_school(panel: CoachingPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    schools = [names.get(row.school_id, "?") for row in rows]
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
        layout=_layout(
            height=_by_school_height(len(rows)),
            yaxis=_school_axis(schools),
            xaxis={"range": [0, 100], "ticksuffix": "%"},
            shapes=[_target_line(panel.target_percent, vertical=True)],
            annotations=[_target_label(panel.target_percent, vertical=True)],
        ),
    )


def _target_line(percent: int, *, vertical: bool) -> dict[str, Any]:
    line = {"color": RAG_COLOURS["red"], "width": 2, "dash": "dash"}
    if vertical:
        return {"type": "line", "x0": percent, "x1": percent, "y0": 0, "y1": 1,
                "yref": "paper", "line": line}
    return {"type": "line", "y0": percent, "y1": percent, "x0": 0, "x1": 1,
            "xref": "paper", "line": line}


def _target_label(percent: int, *, vertical: bool) -> dict[str, Any]:
    if vertical:
        return {"x": percent, "y": 1, "yref": "paper", "yanchor": "bottom",
                "text": f"target {percent}%", "showarrow": False}
    return {"y": percent, "x": 0, "xref": "paper", "xanchor": "left", "yanchor": "bottom",
            "text": f"target {percent}%", "showarrow": False}


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
        layout=_layout(
            yaxis={"range": [0, 100], "ticksuffix": "%"},
            xaxis={"type": "date"},
            shapes=[_target_line(panel.target_percent, vertical=False)],
            annotations=[_target_label(panel.target_percent, vertical=False)],
        ),
    )


def qa_submitted(panel: QAPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    schools = [names.get(row.school_id, "?") for row in rows]
    return go.Figure(
        [
            go.Bar(name="Submitted", x=[r.submitted for r in rows], y=schools,
                   orientation="h", marker_color=SERIES[0]),
            go.Bar(name="Expected", x=[r.expected for r in rows], y=schools,
                   orientation="h", marker_color=NEUTRAL),
        ],
        layout=_layout(
            height=_by_school_height(len(rows)) + 12 * len(rows),
            barmode="group",
            yaxis=_school_axis(schools),
            xaxis={"rangemode": "tozero", "dtick": 1},
        ),
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
        [0.0, RAG_COLOURS["red"]], [0.333, RAG_COLOURS["red"]],
        [0.334, RAG_COLOURS["amber"]], [0.666, RAG_COLOURS["amber"]],
        [0.667, RAG_COLOURS["green"]], [1.0, RAG_COLOURS["green"]],
    ]
    return go.Figure(
        go.Heatmap(
            z=z,
            x=[school.name for school in schools],
            y=list(panel.subjects),
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
        layout=_layout(
            height=FRAME_HEIGHT + 60 + 30 * max(len(panel.subjects), 1),
            xaxis={"automargin": True, "side": "top", "tickangle": -30, "type": "category"},
            yaxis={"automargin": True, "autorange": "reversed", "type": "category"},
        ),
    )


def actions_by_school(panel: ActionPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    schools = [names.get(row.school_id, "?") for row in rows]
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
        layout=_layout(
            height=_by_school_height(len(rows)) + 16 * len(rows),
            barmode="group",
            yaxis=_school_axis(schools),
            xaxis={"rangemode": "tozero"},
        ),
    )


def actions_rag(panel: ActionPanel) -> go.Figure:
    months = [_day(m.month) for m in panel.rag_over_time]
    return go.Figure(
        [
            go.Bar(name=rag.capitalize(), x=months,
                   y=[getattr(m, rag) for m in panel.rag_over_time],
                   marker_color=RAG_COLOURS[rag])
            for rag in ("red", "amber", "green")
        ],
        layout=_layout(barmode="stack", xaxis={"type": "date", "tickformat": "%b %Y"},
                       yaxis={"rangemode": "tozero", "title": {"text": "Ratings given"}}),
    )


def attendance_by_school(
    panel: AttendancePanel, schools: Sequence[SchoolRef]
) -> go.Figure:
    counts = {(c.school_id, c.stage): c.count for c in panel.by_school}
    names = [school.name for school in schools]
    return go.Figure(
        [
            go.Bar(
                name=stage,
                x=[counts.get((school.id, stage), 0) for school in schools],
                y=names,
                orientation="h",
                marker_color=SERIES[i % len(SERIES)],
            )
            for i, stage in enumerate(panel.stages)
        ],
        layout=_layout(
            height=_by_school_height(len(schools)),
            barmode="stack",
            yaxis=_school_axis(names),
            xaxis={"rangemode": "tozero", "title": {"text": "Open concerns"}},
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
        layout=_layout(xaxis={"type": "date"}, yaxis={"rangemode": "tozero"}),
    )


def visits_by_school(panel: VisitPanel, names: dict[int, str]) -> go.Figure:
    rows = panel.by_school
    schools = [names.get(row.school_id, "?") for row in rows]
    return go.Figure(
        [
            go.Bar(name="Done", x=[r.done for r in rows], y=schools, orientation="h",
                   marker_color=SERIES[0]),
            go.Bar(name="Entitled", x=[r.entitled for r in rows], y=schools,
                   orientation="h", marker_color=NEUTRAL),
        ],
        layout=_layout(
            height=_by_school_height(len(rows)) + 12 * len(rows),
            barmode="group",
            yaxis=_school_axis(schools),
            xaxis={"rangemode": "tozero", "dtick": 1},
        ),
    )


def _day(day: date) -> str:
    return day.isoformat()
