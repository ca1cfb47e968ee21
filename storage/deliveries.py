"""Activities already handled: Teams may deliver one activity twice.

A turn claims its activity when it begins and marks the claim finished when it ends.
A second delivery of a finished activity is a redelivery, dropped. A second delivery
of an unfinished one is either still being answered (another replica is on it: the
channel should try again shortly) or was left by a replica that died mid-turn: past
`CLAIM_LEASE` the claim is taken over and the turn runs again. Forms are stored once
whatever happens (storage/forms.py), so a turn run twice never stores twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ProcessedActivity
from storage.models.base import utcnow

# Teams waits about 15 s for a bot's answer before it gives up and retries; a claim
# unfinished for longer belongs to a turn that no longer answers anyone (its replica
# was killed, or it hangs), and its retry may take it over.
CLAIM_LEASE = timedelta(seconds=15)


class Claim(StrEnum):
    first = "first"  # this turn handles the activity
    handled = "handled"  # handled before: a redelivery, dropped
    in_flight = "in flight"  # another turn is answering it now: try again shortly


async def claim_delivery(
    sessions: async_sessionmaker[AsyncSession],
    *,
    channel_id: str,
    conversation_id: str,
    activity_id: str,
) -> Claim:
    """Claim the activity for this turn, or say why not."""
    try:
        async with sessions.begin() as session:
            session.add(
                ProcessedActivity(
                    channel_id=channel_id,
                    conversation_id=conversation_id,
                    activity_id=activity_id,
                )
            )
        return Claim.first
    except IntegrityError:
        pass
    now = utcnow()
    key = (
        ProcessedActivity.channel_id == channel_id,
        ProcessedActivity.conversation_id == conversation_id,
        ProcessedActivity.activity_id == activity_id,
    )
    async with sessions.begin() as session:
        # One statement decides between two replicas taking over the same stale claim.
        taken = await session.scalar(
            update(ProcessedActivity)
            .where(
                *key,
                ProcessedActivity.finished_at.is_(None),
                ProcessedActivity.received_at < now - CLAIM_LEASE,
            )
            .values(received_at=now)
            .returning(ProcessedActivity.id)
        )
        if taken is not None:
            return Claim.first
        finished = await session.scalar(select(ProcessedActivity.finished_at).where(*key))
    # A claim released (deleted) between the two statements: its turn failed, and the
    # channel's next try will find no claim.
    return Claim.handled if finished is not None else Claim.in_flight


async def finish_delivery(
    sessions: async_sessionmaker[AsyncSession],
    *,
    channel_id: str,
    conversation_id: str,
    activity_id: str,
) -> None:
    """The turn is done: a later delivery of this activity is a redelivery."""
    async with sessions.begin() as session:
        await session.execute(
            update(ProcessedActivity)
            .where(
                ProcessedActivity.channel_id == channel_id,
                ProcessedActivity.conversation_id == conversation_id,
                ProcessedActivity.activity_id == activity_id,
            )
            .values(finished_at=utcnow())
        )


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
