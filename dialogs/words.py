"""How dates and lists read on Waypoint's cards: one spelling for every job."""

from __future__ import annotations

from datetime import date, timedelta


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


def counted(count: float, noun: str, plural: str | None = None) -> str:
    """1 open concern, 2 open concerns, 1.5 sessions: the noun agrees with its count."""
    number = str(count) if isinstance(count, int) else f"{count:g}"
    return f"{number} {noun if count == 1 else plural or noun + 's'}"


def of_total(part: int, total: int, noun: str, plural: str | None = None) -> str:
    """0 of 1 subject, 2 of 5 subjects: the noun agrees with the whole."""
    return f"{part} of {counted(total, noun, plural)}"


def week_of(day: date) -> str:
    """Week of Monday 30 November 2026: a week is named by its Monday."""
    return f"Week of {full_day(day - timedelta(days=day.weekday()))}"
