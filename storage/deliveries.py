"""Activities already handled: Teams may deliver one activity twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ProcessedActivity


async def first_delivery(
    sessions: async_sessionmaker[AsyncSession],
    *,
    channel_id: str,
    conversation_id: str,
    activity_id: str,
) -> bool:
    """Claim the activity; False if it was claimed before (a redelivery)."""
    try:
        async with sessions.begin() as session:
            session.add(
                ProcessedActivity(
                    channel_id=channel_id,
                    conversation_id=conversation_id,
                    activity_id=activity_id,
                )
            )
    except IntegrityError:
        return False
    return True


async def release_delivery(
    sessions: async_sessionmaker[AsyncSession],
    *,
    channel_id: str,
    conversation_id: str,
    activity_id: str,
) -> None:
    """Give up a claim whose turn failed, so the channel's retry is handled."""
    async with sessions.begin() as session:
        await session.execute(
            delete(ProcessedActivity).where(
                ProcessedActivity.channel_id == channel_id,
                ProcessedActivity.conversation_id == conversation_id,
                ProcessedActivity.activity_id == activity_id,
            )
        )


async def forget_deliveries_before(session: AsyncSession, cutoff: datetime) -> int:
    """Drop claims older than any redelivery can be (housekeeping)."""
    result = await session.execute(
        delete(ProcessedActivity).where(ProcessedActivity.received_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
