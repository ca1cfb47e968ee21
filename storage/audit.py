"""The audit trail: who did or tried what, when. Ids only, never free text."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import Actor
from storage.models import AuditEvent


async def record_event(
    session: AsyncSession,
    *,
    trust_id: int,
    person_id: int | None,
    action: str,
    outcome: str,
    school_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
) -> None:
    session.add(
        AuditEvent(
            trust_id=trust_id,
            person_id=person_id,
            action=action,
            outcome=outcome,
            school_id=school_id,
            subject_type=subject_type,
            subject_id=subject_id,
        )
    )
    await session.flush()


async def record_refusal(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    school_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
) -> None:
    """Keep a trace of something `actor` was refused (out of their reach or role)."""
    await record_event(
        session,
        trust_id=actor.trust_id,
        person_id=actor.person_id,
        action=action,
        outcome="refused",
        school_id=school_id,
        subject_type=subject_type,
        subject_id=subject_id,
    )
