"""Activities already handled: Teams may deliver one activity twice.

A turn claims its activity when it begins and marks the claim finished when it ends.
A second delivery of a finished activity is a redelivery, dropped. A second delivery
of an unfinished one is either still being answered (another replica is on it: the
channel should try again shortly) or was left by a replica that died mid-turn: past
`CLAIM_LEASE` the claim is taken over and the turn runs again. Forms are stored once
whatever happens (storage/forms.py), so a turn run twice never stores twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, bindparam, case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
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
    """Claim the activity for this turn, or say why not, in one statement.

    The INSERT makes the claim; on a conflict its UPDATE takes over a claim left
    unfinished past its lease and leaves any other as it was. What it hands back
    decides: a claim stamped with this turn's `now` is this turn's (new or taken
    over), a finished one was handled, anything else is in flight. On PostgreSQL the
    conflicting row is locked, so of two replicas taking over one stale claim the
    second sees the first's stamp; on SQLite writers take turns on the file.
    """
    now = _claim_time()
    received = ProcessedActivity.received_at
    stale = and_(ProcessedActivity.finished_at.is_(None), received < now - CLAIM_LEASE)
    # A stale claim gets this turn's stamp; any other keeps its own.
    stamp = case((stale, bindparam("now", now, received.type)), else_=received)
    async with sessions.begin() as session:
        conn = await session.connection()
        insert = _insert(conn.dialect.name).values(
            channel_id=channel_id,
            conversation_id=conversation_id,
            activity_id=activity_id,
            received_at=now,
        )
        claim = insert.on_conflict_do_update(
            index_elements=_KEY,
            set_={"received_at": stamp},
        ).returning(received, ProcessedActivity.finished_at)
        received_at, finished_at = (await conn.execute(claim)).one()
    if finished_at is not None:
        return Claim.handled
    return Claim.first if received_at == now else Claim.in_flight


# The unique key a claim conflicts on.
_KEY = ("channel_id", "conversation_id", "activity_id")
_last_claim_time = datetime.min.replace(tzinfo=UTC)


def _claim_time() -> datetime:
    """Now, and never the same instant twice in this process: a claim knows itself
    by its stamp. (Two replicas would have to claim one activity in the same
    microsecond to be mistaken for each other.)"""
    global _last_claim_time
    now = max(utcnow(), _last_claim_time + timedelta(microseconds=1))
    _last_claim_time = now
    return now


def _insert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    # ON CONFLICT is spelled the same on both stores but lives in each dialect.
    if dialect == "postgresql":
        return postgresql.insert(ProcessedActivity)
    if dialect == "sqlite":
        return sqlite.insert(ProcessedActivity)
    raise NotImplementedError(f"claims support SQLite and PostgreSQL, not {dialect}")


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
