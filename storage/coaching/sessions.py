"""Coaching sessions: stored once per form, changed by their coach, read by their
coach and coachee only."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.forms import Stored, store_once
from storage.models import CoachingSession, CoachingStrand, Person


@dataclass(frozen=True)
class SessionLine:
    """A session as its coach or coachee sees it."""

    id: int
    held_on: date
    status: str
    coach_id: int
    coach_name: str
    coachee_id: int
    coachee_name: str
    strand: str
    action_step: str
    next_session_on: date | None


# -- recording ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionDetails:
    """A session as the form gives it; each field is the column of the same name."""

    coachee_id: int
    school_id: int
    held_on: date
    strand_id: int | None
    status: str
    action_step: str
    notes: str
    next_session_on: date | None


async def record_coaching_session(
    session: AsyncSession,
    *,
    trust_id: int,
    coach_id: int,
    form_id: str,
    details: SessionDetails,
    logged_at: datetime,
) -> Stored[CoachingSession]:
    """Store a new session once per form (storage/forms.py): a double-clicked or
    redelivered submit gets the session stored the first time. Raises FormTaken
    for a form id another coach's session was stored with."""
    return await store_once(
        session,
        CoachingSession,
        {
            "trust_id": trust_id,
            "coach_id": coach_id,
            "form_id": form_id,
            "created_at": logged_at,
            "updated_at": logged_at,
            **asdict(details),
        },
        same=("coach_id",),
    )


async def update_coaching_session(
    session: AsyncSession, *, row: CoachingSession, details: SessionDetails
) -> CoachingSession:
    _apply(row, details)
    await session.flush()
    return row


def _apply(row: CoachingSession, details: SessionDetails) -> None:
    for column, value in asdict(details).items():
        setattr(row, column, value)


async def coaching_session(
    session: AsyncSession, *, trust_id: int, session_id: int
) -> CoachingSession | None:
    return await session.scalar(
        select(CoachingSession).where(
            CoachingSession.trust_id == trust_id, CoachingSession.id == session_id
        )
    )


# -- reading, for the coach and the coachee ---------------------------------


# Built once: an alias made per call costs its column adaptation every time.
_COACH = aliased(Person, name="coach")
_COACHEE = aliased(Person, name="coachee")


async def _session_lines(
    session: AsyncSession, *, where: list[object], limit: int
) -> list[SessionLine]:
    coach, coachee = _COACH, _COACHEE
    query = (
        select(CoachingSession, coach.display_name, coachee.display_name, CoachingStrand.name)
        .join(coach, coach.id == CoachingSession.coach_id)
        .join(coachee, coachee.id == CoachingSession.coachee_id)
        .outerjoin(CoachingStrand, CoachingStrand.id == CoachingSession.strand_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(CoachingSession.held_on.desc(), CoachingSession.id.desc())
        .limit(limit)
    )
    return [
        SessionLine(
            id=row.id,
            held_on=row.held_on,
            status=row.status,
            coach_id=row.coach_id,
            coach_name=coach_name,
            coachee_id=row.coachee_id,
            coachee_name=coachee_name,
            strand=strand or "",
            action_step=row.action_step,
            next_session_on=row.next_session_on,
        )
        for row, coach_name, coachee_name, strand in await session.execute(query)
    ]


async def sessions_as_coach(
    session: AsyncSession, *, trust_id: int, coach_id: int, limit: int = 8
) -> list[SessionLine]:
    return await _session_lines(
        session,
        where=[CoachingSession.trust_id == trust_id, CoachingSession.coach_id == coach_id],
        limit=limit,
    )


async def sessions_as_coachee(
    session: AsyncSession, *, trust_id: int, coachee_id: int, limit: int = 8
) -> list[SessionLine]:
    return await _session_lines(
        session,
        where=[CoachingSession.trust_id == trust_id, CoachingSession.coachee_id == coachee_id],
        limit=limit,
    )


async def session_line(
    session: AsyncSession, *, trust_id: int, session_id: int
) -> SessionLine | None:
    lines = await _session_lines(
        session,
        where=[CoachingSession.trust_id == trust_id, CoachingSession.id == session_id],
        limit=1,
    )
    return lines[0] if lines else None
