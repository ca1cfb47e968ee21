"""The attendance panel: open concerns by school and stage, and new severe-absence
concerns by week. Counts only: no pupil reference, year group, figure or line of
text is ever selected (storage/attendance/counts.py's rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.attendance import OPEN
from storage.attendance.rules import STAGES
from storage.dashboard.model import AttendancePanel, SchoolRef, StageCount, WeekCount
from storage.dashboard.scope import of_schools
from storage.models import AttendanceConcern


async def attendance_panel(
    session: AsyncSession,
    *,
    trust_id: int,
    schools: list[SchoolRef],
    ids: list[int] | None,
    today: date,
    weeks: tuple[date, ...],
    zone: ZoneInfo,
) -> AttendancePanel:
    """Two statements whatever the number of schools."""
    rows = await session.execute(
        select(AttendanceConcern.school_id, AttendanceConcern.stage, func.count())
        .where(
            AttendanceConcern.trust_id == trust_id,
            of_schools(AttendanceConcern.school_id, ids),
            AttendanceConcern.status == OPEN,
        )
        .group_by(AttendanceConcern.school_id, AttendanceConcern.stage)
    )
    counted = {(school_id, stage): int(count) for school_id, stage, count in rows}
    # Every school at every stage, in the DfE's order, so a table has no holes.
    by_school = tuple(
        StageCount(school.id, stage, counted.get((school.id, stage), 0))
        for school in schools
        for stage in STAGES
    )
    return AttendancePanel(
        stages=tuple(STAGES),
        by_school=by_school,
        severe_by_week=await _new_severe_by_week(
            session, trust_id=trust_id, ids=ids, today=today, weeks=weeks, zone=zone
        ),
    )


async def _new_severe_by_week(
    session: AsyncSession,
    *,
    trust_id: int,
    ids: list[int] | None,
    today: date,
    weeks: tuple[date, ...],
    zone: ZoneInfo,
) -> tuple[WeekCount, ...]:
    """Severe-absence concerns raised in each week, by the trust's day (open or closed
    since): only the moments they were raised are read."""
    if not weeks:
        return ()
    start = datetime.combine(weeks[0], time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    raised = await session.scalars(
        select(AttendanceConcern.raised_at).where(
            AttendanceConcern.trust_id == trust_id,
            of_schools(AttendanceConcern.school_id, ids),
            AttendanceConcern.severe_absence.is_(True),
            AttendanceConcern.raised_at >= start,
            AttendanceConcern.raised_at < end,
        )
    )
    counts = dict.fromkeys(weeks, 0)
    for moment in raised:
        day = moment.astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        if monday in counts:
            counts[monday] += 1
    return tuple(WeekCount(week, count) for week, count in counts.items())
