"""Which week's digests a trust has composed: one run per trust and week, claimed by
whoever composes first (the tick in any replica, or cron), so each is composed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.forms import insert_for
from storage.models import DigestRun, Trust


async def claim_digest_run(
    session: AsyncSession, *, trust_id: int, period: str, now: datetime
) -> bool:
    """Take this week's run for the trust; False when another composer has it."""
    statement = (
        insert_for(session)(DigestRun)
        .values(trust_id=trust_id, period=period, composed_at=now, queued=0)
        .on_conflict_do_nothing(index_elements=["trust_id", "period"])
        .returning(DigestRun.id)
    )
    return (await session.execute(statement)).scalar() is not None


async def record_queued(session: AsyncSession, *, trust_id: int, period: str, queued: int) -> None:
    """How many deliveries the run queued (its sender's report counts them)."""
    await session.execute(
        update(DigestRun)
        .where(DigestRun.trust_id == trust_id, DigestRun.period == period)
        .values(queued=queued)
    )


async def trusts_and_runs(session: AsyncSession) -> tuple[list[Trust], set[tuple[int, str]]]:
    """Every trust, and the (trust, week) runs composed so far."""
    trusts = list(await session.scalars(select(Trust)))
    composed = {
        (trust_id, period)
        for trust_id, period in await session.execute(select(DigestRun.trust_id, DigestRun.period))
    }
    return trusts, composed
