"""Counts of open concerns: for everyone, and for the digests. They never read a
pupil reference or a line of text."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.attendance import OPEN
from storage.attendance.rules import CONCERN_TYPES, STAGES, VULNERABLE_GROUPS
from storage.models import AttendanceConcern, School


@dataclass(frozen=True)
class SchoolCount:
    school_id: int
    school_name: str
    open: int


@dataclass
class AttendanceCounts:
    """Open concerns counted; no pupil reference and no text is ever read for these."""

    total: int = 0
    persistent: int = 0
    severe: int = 0
    penalty_notice: int = 0
    by_school: list[SchoolCount] = field(default_factory=list)
    by_type: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    by_vulnerable: dict[str, int] = field(default_factory=dict)


async def attendance_counts(
    session: AsyncSession, *, trust_id: int, school_ids: Collection[int] | None = None
) -> AttendanceCounts:
    """Open concerns by school, type, stage and vulnerable group (every key present)."""
    schools_query = select(School.id, School.name).where(School.trust_id == trust_id)
    concern_query = select(
        AttendanceConcern.school_id,
        AttendanceConcern.concern_type,
        AttendanceConcern.stage,
        AttendanceConcern.vulnerable,
        AttendanceConcern.persistent_absence,
        AttendanceConcern.severe_absence,
        AttendanceConcern.consider_penalty_notice,
    ).where(AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN)
    if school_ids is not None:
        schools_query = schools_query.where(School.id.in_(list(school_ids)))
        concern_query = concern_query.where(AttendanceConcern.school_id.in_(list(school_ids)))
    schools = list(await session.execute(schools_query.order_by(School.name)))
    counts = AttendanceCounts(
        by_type=dict.fromkeys(CONCERN_TYPES, 0),
        by_stage=dict.fromkeys(STAGES, 0),
        by_vulnerable=dict.fromkeys(VULNERABLE_GROUPS, 0),
    )
    per_school: dict[int, int] = dict.fromkeys((school_id for school_id, _ in schools), 0)
    for school_id, kind, stage, vulnerable, persistent, severe, penalty in await session.execute(
        concern_query
    ):
        counts.total += 1
        counts.persistent += bool(persistent)
        counts.severe += bool(severe)
        counts.penalty_notice += bool(penalty)
        per_school[school_id] = per_school.get(school_id, 0) + 1
        counts.by_type[kind] = counts.by_type.get(kind, 0) + 1
        counts.by_stage[stage] = counts.by_stage.get(stage, 0) + 1
        for group in set(vulnerable or ()):
            counts.by_vulnerable[group] = counts.by_vulnerable.get(group, 0) + 1
    counts.by_school = [SchoolCount(sid, name, per_school[sid]) for sid, name in schools]
    return counts
