"""Conversation references: where Waypoint can reach someone proactively."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationRef, utcnow
from storage.outbox import release_waiting

# Announcements of one install arrive within moments of each other.
SAME_INSTALL = timedelta(minutes=1)

# Whether a notice reaches a person (chat_state).
REACHABLE = "reachable"
NOT_INSTALLED = "not installed"
REMOVED = "removed"


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
    now: datetime | None = None,
) -> tuple[ConversationRef, bool]:
    """Insert or refresh the reference (an app reinstalled keeps one row).

    `authenticated`: the turn that announced it carried a checked token. A reference
    from an unchecked (development-mode) turn is never sent a token.

    Also says whether this is a new install: not when the same person's install
    was announced moments ago (Teams announces one install twice).

    A person's own chat makes what waited for them due (storage/outbox.py), once:
    the second announcement finds nothing left waiting. `now`: the caller's clock.
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
    if conversation_type == "personal" and service_url:
        await release_waiting(session, trust_id=trust_id, person_id=person_id, now=now or utcnow())
    return row, fresh


async def remove_reference(session: AsyncSession, *, trust_id: int, conversation_id: str) -> None:
    """Waypoint was uninstalled from the conversation: kept as "removed" (as a 403
    would mark it), so messages for the person end "blocked or removed" rather than
    waiting as for someone who never installed. Installing again clears it."""
    await session.execute(
        update(ConversationRef)
        .where(
            ConversationRef.trust_id == trust_id,
            ConversationRef.conversation_id == conversation_id,
        )
        .values(gone_at=utcnow())
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


async def chat_state(session: AsyncSession, *, trust_id: int, person_id: int) -> str:
    """Whether a notice reaches the person now: "reachable"; "not installed" (it waits
    for them); or "removed" (they blocked or removed Waypoint: it never will)."""
    reference = await personal_reference(session, trust_id=trust_id, person_id=person_id)
    if reference is None or not reference.service_url:
        return NOT_INSTALLED
    return REMOVED if reference.gone_at is not None else REACHABLE
