"""Conversation references: where Waypoint can reach someone proactively."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationRef, utcnow

# Announcements of one install arrive within moments of each other.
SAME_INSTALL = timedelta(minutes=1)


async def save_reference(
    session: AsyncSession,
    *,
    trust_id: int,
    person_id: int | None,
    conversation_id: str,
    conversation_type: str,
    channel_id: str,
    service_url: str,
    bot_id: str,
    reference: dict[str, Any],
    authenticated: bool = False,
) -> tuple[ConversationRef, bool]:
    """Insert or refresh the reference (an app reinstalled keeps one row).

    `authenticated`: the turn that announced it carried a checked token. A reference
    from an unchecked (development-mode) turn is never sent a token.

    Also says whether this is a new install: not when the same person's install
    was announced moments ago (Teams announces one install twice).
    """
    row = await session.scalar(
        select(ConversationRef).where(
            ConversationRef.trust_id == trust_id,
            ConversationRef.conversation_id == conversation_id,
        )
    )
    now = utcnow()
    fresh = row is None or row.person_id != person_id or now - row.updated_at > SAME_INSTALL
    if row is None:
        row = ConversationRef(trust_id=trust_id, conversation_id=conversation_id)
        session.add(row)
    row.person_id = person_id
    row.conversation_type = conversation_type
    row.channel_id = channel_id
    row.service_url = service_url
    row.bot_id = bot_id
    row.reference = reference
    row.authenticated = authenticated
    row.updated_at = now
    # Installing again after blocking or removing Waypoint makes them reachable.
    row.gone_at = None
    await session.flush()
    return row, fresh


async def remove_reference(session: AsyncSession, *, trust_id: int, conversation_id: str) -> None:
    await session.execute(
        delete(ConversationRef).where(
            ConversationRef.trust_id == trust_id,
            ConversationRef.conversation_id == conversation_id,
        )
    )


async def personal_reference(
    session: AsyncSession, *, trust_id: int, person_id: int
) -> ConversationRef | None:
    """The person's one-to-one chat with Waypoint, if they installed it."""
    return await session.scalar(
        select(ConversationRef)
        .where(
            ConversationRef.trust_id == trust_id,
            ConversationRef.person_id == person_id,
            ConversationRef.conversation_type == "personal",
        )
        .order_by(ConversationRef.updated_at.desc())
        .limit(1)
    )
