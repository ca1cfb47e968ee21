"""How a concern's dates, figures and groups read on a card."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal

from dialogs.words import short_day
from storage.attendance import OPEN
from storage.attendance.rules import OUTCOMES, VULNERABLE_GROUPS
from storage.models import AttendanceConcern


def choices(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"title": title, "value": key} for key, title in items.items()]


def day(value: date | None) -> str:
    return short_day(value) if value else "not set"


def moment(at: datetime, zone: tzinfo) -> str:
    local = at.astimezone(zone)
    return f"{day(local.date())} at {local:%H:%M}"


def percent(value: Decimal) -> str:
    # 89.95 must not show as 90.0: keep the second place when it is there.
    places = Decimal("0.1") if value == value.quantize(Decimal("0.1")) else Decimal("0.01")
    return f"{value.quantize(places)}%"


def groups(names: list[str]) -> str:
    shown = [VULNERABLE_GROUPS.get(g, g) for g in names]
    return ", ".join(shown) if shown else "None recorded"


def status(row: AttendanceConcern, zone: tzinfo) -> str:
    if row.status == OPEN:
        return "Open"
    outcome = OUTCOMES.get(row.outcome or "", "")
    closed = day(row.closed_at.astimezone(zone).date()) if row.closed_at else ""
    return f"Closed {closed}: {outcome}" if outcome else f"Closed {closed}"


def review(on: date | None, today: date) -> tuple[str, bool]:
    """How a review date reads, and whether it is overdue."""
    if on is None:
        return "No review date", True
    if on < today:
        late = (today - on).days
        return f"Review overdue by {late} day{'s' if late != 1 else ''} ({day(on)})", True
    if on == today:
        return "Review due today", False
    return f"Review due {day(on)}", False
