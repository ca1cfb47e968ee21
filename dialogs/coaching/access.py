"""Who may log, change, read and count coaching; what a refusal leaves on the trail."""

from __future__ import annotations

from dialogs.turn import Turn
from storage.audit import record_refusal
from storage.coaching import COACHING_LOGGERS, EDIT_WINDOW
from storage.engine import AsyncSession
from storage.models import CoachingSession, Role

LOGGERS = COACHING_LOGGERS
# Heads, advisers (their schools) and trust leads: counts and strands, never content.
COVERAGE_READERS = frozenset({Role.head, Role.sia, Role.trust_lead})

EDIT_REFUSAL = (
    "You don't have access to change that session: a session can be changed only "
    "by the coach who logged it, within 7 days."
)


def editable(row: CoachingSession, turn: Turn) -> bool:
    """Its own coach, within the edit window."""
    return row.coach_id == turn.actor.person_id and turn.now - row.created_at <= EDIT_WINDOW


async def refused(
    session: AsyncSession,
    turn: Turn,
    action: str,
    row: CoachingSession | None,
    *,
    school_id: int | None = None,
) -> None:
    """Keep a refusal on the audit trail, naming the session when there is one."""
    await record_refusal(
        session,
        turn.actor,
        action,
        school_id=school_id if school_id is not None else (row.school_id if row else None),
        subject_type="coaching_session" if row else None,
        subject_id=row.id if row else None,
    )
