"""Reading concerns: pupil data, for callers that have checked `may_follow`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.attendance import OPEN
from storage.models import AttendanceConcern, ConcernEvent, Person, School


async def concern_in_trust(
    session: AsyncSession, *, trust_id: int, concern_id: int
) -> AttendanceConcern | None:
    return await session.scalar(
        select(AttendanceConcern).where(
            AttendanceConcern.id == concern_id, AttendanceConcern.trust_id == trust_id
        )
    )


@dataclass(frozen=True)
class ConcernLine:
    id: int
    school_id: int
    school_name: str
    pupil_ref: str
    year_group: str
    stage: str
    next_review_on: date | None
    raised_at: datetime


async def open_concerns(
    session: AsyncSession,
    *,
    trust_id: int,
    school_ids: Collection[int] | None,
    limit: int,
) -> tuple[list[ConcernLine], int]:
    """Open concerns, the most overdue review first, and how many there are in all."""
    where = [AttendanceConcern.trust_id == trust_id, AttendanceConcern.status == OPEN]
    if school_ids is not None:
        where.append(AttendanceConcern.school_id.in_(list(school_ids)))
    total = await session.scalar(select(func.count()).select_from(AttendanceConcern).where(*where))
    rows = await session.execute(
        select(
            AttendanceConcern.id,
            AttendanceConcern.school_id,
            School.name,
            AttendanceConcern.pupil_ref,
            AttendanceConcern.year_group,
            AttendanceConcern.stage,
            AttendanceConcern.next_review_on,
            AttendanceConcern.raised_at,
        )
        .join(School, School.id == AttendanceConcern.school_id)
        .where(*where)
        # No review date sorts first: nobody has said when to look again.
        .order_by(
            AttendanceConcern.next_review_on.is_not(None),
            AttendanceConcern.next_review_on,
            AttendanceConcern.raised_at,
            AttendanceConcern.id,
        )
        .limit(limit)
    )
    return [ConcernLine(*row) for row in rows], int(total or 0)


@dataclass(frozen=True)
class ChronologyEntry:
    at: datetime
    by: str | None
    kind: str
    stage: str | None
    on_date: date | None
    text: str


async def chronology(session: AsyncSession, *, concern_id: int) -> list[ChronologyEntry]:
    rows = await session.execute(
        select(
            ConcernEvent.at,
            Person.display_name,
            ConcernEvent.kind,
            ConcernEvent.stage,
            ConcernEvent.on_date,
            ConcernEvent.text,
        )
        .outerjoin(Person, Person.id == ConcernEvent.by_person_id)
        .where(ConcernEvent.concern_id == concern_id)
        .order_by(ConcernEvent.at, ConcernEvent.id)
    )
    return [ChronologyEntry(*row) for row in rows]
