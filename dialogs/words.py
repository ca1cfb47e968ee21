"""How dates and lists read on Waypoint's cards: one spelling for every job."""

from __future__ import annotations

from datetime import date


def short_day(day: date) -> str:
    """Thu 19 Nov 2026: a row of a list."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def long_date(day: date | None) -> str:
    """12 March 2026: unambiguous for UK readers."""
    return f"{day.day} {day:%B %Y}" if day else ""


def full_day(day: date) -> str:
    """Thursday 19 November 2026: a date someone must act by."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def bullets(items: list[str]) -> str:
    """A markdown list for a TextBlock (Teams renders "- " lines as bullets)."""
    return "\n".join(f"- {' '.join(item.split())}" for item in items)
