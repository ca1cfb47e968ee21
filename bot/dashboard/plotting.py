"""What every dashboard chart shares: its frame, the colours that carry meaning (RAG,
categories) and read on light and dark alike, count axes and the target line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

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


def layout(*, height: int = 320, **more: Any) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        # Legends in the order the traces are given (plotly reverses stacked bars').
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "x": 0,
            "traceorder": "normal",
        },
        "font": {"family": "Segoe UI, system-ui, sans-serif", "size": 12},
        **more,
    }


def count_axis(values: Sequence[int], **more: Any) -> dict[str, Any]:
    """An axis of counts: whole numbers only, one tick per unit while they are few."""
    axis: dict[str, Any] = {"rangemode": "tozero", "tickformat": ",d", **more}
    if max(values, default=0) <= 10:
        axis["dtick"] = 1
    return axis


def by_school_height(schools: int, legend: bool = True) -> int:
    return FRAME_HEIGHT + (30 if legend else 0) + ROW_HEIGHT * max(schools, 1)


def school_axis(names: Sequence[str]) -> dict[str, Any]:
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


def target_line(percent: int, *, vertical: bool) -> dict[str, Any]:
    line = {"color": RAG_COLOURS["red"], "width": 2, "dash": "dash"}
    if vertical:
        return {
            "type": "line",
            "x0": percent,
            "x1": percent,
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "line": line,
        }
    return {
        "type": "line",
        "y0": percent,
        "y1": percent,
        "x0": 0,
        "x1": 1,
        "xref": "paper",
        "line": line,
    }


def target_label(percent: int, *, vertical: bool) -> dict[str, Any]:
    if vertical:
        return {
            "x": percent,
            "y": 1,
            "yref": "paper",
            "yanchor": "bottom",
            "text": f"target {percent}%",
            "showarrow": False,
        }
    return {
        "y": percent,
        "x": 0,
        "xref": "paper",
        "xanchor": "left",
        "yanchor": "bottom",
        "text": f"target {percent}%",
        "showarrow": False,
    }


def date_axis(days: Sequence[date], *, pad_days: int, **more: Any) -> dict[str, Any]:
    """A time axis over these days with room either side: left to itself, plotly
    spreads a single day over milliseconds."""
    axis: dict[str, Any] = {"type": "date", **more}
    if days:
        pad = timedelta(days=pad_days)
        axis["range"] = [(min(days) - pad).isoformat(), (max(days) + pad).isoformat()]
    return axis
