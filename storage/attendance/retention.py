"""Retention: closed concerns are anonymised after the trust's retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import academic_year_of
from storage.attendance import ANONYMISED, CLOSED
from storage.attendance.concerns import audit, event
from storage.directory import trust_zone
from storage.models import AttendanceConcern, ConcernEvent, Trust


def retention_expired(closed_at: datetime, today: date, years: int, zone: ZoneInfo) -> bool:
    """Kept for the academic year of closure and `years` more, then anonymised.

    Closed in 2023-24 with two years: kept to 31 August 2026, anonymised from
    1 September 2026. Closure dates are the school's: a concern closed at 00:30 on
    1 September (in `zone`, the trust's) belongs to the new academic year.
    """
    closed_on = closed_at.astimezone(zone).date()
    return academic_year_of(today) - academic_year_of(closed_on) > years


@dataclass(frozen=True)
class RetentionRun:
    anonymised: list[int]
    years: int

    def __str__(self) -> str:
        count = len(self.anonymised)
        noun = "concern" if count == 1 else "concerns"
        return (
            f"anonymised {count} closed attendance {noun} "
            f"(kept for the academic year of closure plus {self.years})"
        )


async def anonymise_expired(
    session: AsyncSession, *, trust_id: int, today: date, at: datetime
) -> RetentionRun:
    """Anonymise the trust's closed concerns past retention: the pupil reference and
    every line of text go; the figures, flags, stages and dates stay for the counts."""
    trust = await session.get(Trust, trust_id)
    if trust is None:
        return RetentionRun(anonymised=[], years=0)
    retention = trust.attendance_retention_years
    zone = trust_zone(trust)
    closed = await session.scalars(
        select(AttendanceConcern)
        .where(
            AttendanceConcern.trust_id == trust_id,
            AttendanceConcern.status == CLOSED,
            AttendanceConcern.closed_at.is_not(None),
            AttendanceConcern.anonymised_at.is_(None),
        )
        .order_by(AttendanceConcern.id)
    )
    done: list[int] = []
    for row in list(closed):
        assert row.closed_at is not None
        if not retention_expired(row.closed_at, today, retention, zone):
            continue
        row.pupil_ref = ANONYMISED
        row.done_so_far = ""
        row.anonymised_at = at
        await session.execute(
            update(ConcernEvent).where(ConcernEvent.concern_id == row.id).values(text="")
        )
        session.add(event(row, None, at, None, ANONYMISED))
        await audit(session, row, person_id=None, action="attendance.anonymise")
        done.append(row.id)
    return RetentionRun(anonymised=done, years=retention)
