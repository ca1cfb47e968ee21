"""Activities already handled: Teams may deliver one activity twice.

A turn claims its activity when it begins and marks the claim finished when it ends.
A second delivery of a finished activity is a redelivery, dropped. A second delivery
of an unfinished one is either still being answered (another replica is on it: the
channel should try again shortly) or was left by a replica that died mid-turn: past
`CLAIM_LEASE` the claim is taken over and the turn runs again. Forms are stored once
whatever happens (storage/forms.py), so a turn run twice never stores twice.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, case, delete, update
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
    token: str,
) -> Claim:
    """Claim the activity for this turn, or say why not, in one statement.

    The INSERT makes the claim, under this turn's own random token (`claim_token`); on a conflict
    its UPDATE takes over a claim left unfinished past its lease (and puts this
    turn's token on it) and leaves any other as it was. What it hands back decides:
    a claim bearing this turn's token is this turn's (new or taken over), a finished
    one was handled, any other is in flight. On PostgreSQL a second INSERT waits for
    the first to commit and then updates the row it made, so of two replicas taking
    over one stale claim the second sees the first's token; on SQLite writers take
    turns on the file. A redelivery costs this one statement (issue 18: at most one).
    """
    received = ProcessedActivity.received_at
    stale = and_(ProcessedActivity.finished_at.is_(None), received < utcnow() - CLAIM_LEASE)
    async with sessions.begin() as session:
        conn = await session.connection()
        insert = _insert(conn.dialect.name).values(
            channel_id=channel_id,
            conversation_id=conversation_id,
            activity_id=activity_id,
            received_at=utcnow(),
            claim=token,
        )
        taking_over = {
            "received_at": case((stale, insert.excluded.received_at), else_=received),
            "claim": case((stale, insert.excluded.claim), else_=ProcessedActivity.claim),
        }
        claim = insert.on_conflict_do_update(index_elements=_KEY, set_=taking_over).returning(
            ProcessedActivity.claim, ProcessedActivity.finished_at
        )
        holder, finished = (await conn.execute(claim)).one()
    if finished is not None:
        return Claim.handled
    return Claim.first if holder == token else Claim.in_flight


# The unique key a claim conflicts on.
_KEY = ("channel_id", "conversation_id", "activity_id")


def claim_token() -> str:
    """A turn's own name for its claim: two replicas may read the same instant from
    their clocks (the cluster run saw it), never the same 128 random bits."""
    return secrets.token_hex(16)


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
    token: str,
) -> None:
    """The turn is done: a later delivery of this activity is a redelivery. Only
    while the claim is still this turn's: one taken over past its lease belongs to
    the turn answering it now."""
    async with sessions.begin() as session:
        await session.execute(
            update(ProcessedActivity)
            .where(
                ProcessedActivity.channel_id == channel_id,
                ProcessedActivity.conversation_id == conversation_id,
                ProcessedActivity.activity_id == activity_id,
                ProcessedActivity.claim == token,
            )
            .values(finished_at=utcnow())
        )


async def release_delivery(
    sessions: async_sessionmaker[AsyncSession],
    *,
    channel_id: str,
    conversation_id: str,
    activity_id: str,
    token: str,
) -> None:
    """Give up a claim whose turn failed, so the channel's retry is handled; not one
    another turn has taken over meanwhile (a hung turn failing late must not free
    the activity while that turn answers it)."""
    async with sessions.begin() as session:
        await session.execute(
            delete(ProcessedActivity).where(
                ProcessedActivity.channel_id == channel_id,
                ProcessedActivity.conversation_id == conversation_id,
                ProcessedActivity.activity_id == activity_id,
                ProcessedActivity.claim == token,
            )
        )


async def forget_deliveries_before(session: AsyncSession, cutoff: datetime) -> int:
    """Drop claims older than any redelivery can be (housekeeping)."""
    result = await session.execute(
        delete(ProcessedActivity).where(ProcessedActivity.received_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
