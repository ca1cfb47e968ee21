"""What happened since the last digest: counts over the trust's schools, a handful of
statements whatever their number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionEvent,
    AttendanceConcern,
    CoachingSession,
    QaSummary,
    School,
    SchoolAction,
    SchoolCategorisation,
)


@dataclass
class Changes:
    """What happened since the last digest."""

    since: datetime | None
    recategorised: list[tuple[str, str]] = field(default_factory=list)
    actions_done: int = 0
    actions_new: int = 0
    coaching_held: int = 0
    qa_submitted: int = 0
    concerns_raised: int = 0


async def changes_since(
    session: AsyncSession, *, trust_id: int, school_ids: list[int], since: datetime | None
) -> Changes:
    changes = Changes(since=since)
    if since is None:
        return changes
    recategorised = await session.execute(
        select(School.name, SchoolCategorisation.category_name)
        .join(School, School.id == SchoolCategorisation.school_id)
        .where(
            SchoolCategorisation.trust_id == trust_id,
            SchoolCategorisation.school_id.in_(school_ids),
            SchoolCategorisation.recorded_at > since,
        )
        .order_by(SchoolCategorisation.recorded_at)
    )
    changes.recategorised = [(name, category) for name, category in recategorised]
    in_scope = and_(SchoolAction.trust_id == trust_id, SchoolAction.school_id.in_(school_ids))
    done = await session.scalar(
        select(func.count(func.distinct(ActionEvent.action_id)))
        .join(SchoolAction, SchoolAction.id == ActionEvent.action_id)
        .where(
            in_scope,
            ActionEvent.kind == "status",
            ActionEvent.value == "done",
            ActionEvent.at > since,
        )
    )
    new = await session.scalar(
        select(func.count())
        .select_from(SchoolAction)
        .where(in_scope, SchoolAction.created_at > since)
    )
    held = await session.scalar(
        select(func.count())
        .select_from(CoachingSession)
        .where(
            CoachingSession.trust_id == trust_id,
            CoachingSession.school_id.in_(school_ids),
            CoachingSession.status == "held",
            CoachingSession.created_at > since,
        )
    )
    submitted = await session.scalar(
        select(func.count())
        .select_from(QaSummary)
        .where(
            QaSummary.trust_id == trust_id,
            QaSummary.school_id.in_(school_ids),
            QaSummary.submitted_at > since,
        )
    )
    raised = await session.scalar(
        select(func.count())
        .select_from(AttendanceConcern)
        .where(
            AttendanceConcern.trust_id == trust_id,
            AttendanceConcern.school_id.in_(school_ids),
            AttendanceConcern.raised_at > since,
        )
    )
    changes.actions_done, changes.actions_new = int(done or 0), int(new or 0)
    changes.coaching_held, changes.qa_submitted = int(held or 0), int(submitted or 0)
    changes.concerns_raised = int(raised or 0)
    return changes
