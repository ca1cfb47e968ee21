"""The weekly digests: the trust's for trust leads, each school's for its heads.

`compose_week` composes every digest of a week and queues one delivery per
recipient in the same transaction as the week's digest run, so composing twice
(the scheduler in two replicas, and `waypoint digest run` from cron) queues
each once. The outbox sender delivers them (bot/sender.py); a digest for someone
who has not installed Waypoint waits for them (storage/waiting.py), so `waypoint
serve` composing at start-up on a new store sends nothing to people who never
installed it, and they get the latest digest when they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.digest_cards import school_digest_card, trust_digest_card
from storage.digest_runs import claim_digest_run, record_queued
from storage.digests import (
    SCHOOL_DIGEST,
    TRUST_DIGEST,
    last_digest_at,
    school_digest_readers,
    trust_digest_readers,
    trust_position,
    week_period,
)
from storage.directory import trust_by_id, trust_today
from storage.outbox import Message, enqueue_many


@dataclass(frozen=True)
class ComposeRun:
    period: str
    composed: bool
    queued: int

    def __str__(self) -> str:
        if not self.composed:
            return f"digests for {self.period} were composed already; nothing queued"
        return f"digests for {self.period}: {self.queued} queued"


async def compose_week(
    sessions: async_sessionmaker[AsyncSession], *, trust_id: int, now: datetime
) -> ComposeRun:
    """Compose and queue every digest of this week for the trust, once."""
    async with sessions.begin() as session:
        trust = await trust_by_id(session, trust_id)
        assert trust is not None
        today = trust_today(trust, now)
        period = week_period(today)
        if not await claim_digest_run(session, trust_id=trust_id, period=period, now=now):
            return ComposeRun(period, composed=False, queued=0)
        since = await last_digest_at(session, trust_id=trust_id, before_period=period)
        position = await trust_position(session, trust_id=trust_id, today=today, since=since)
        trust_card = trust_digest_card(position)
        # One INSERT for the week's messages, however many schools: the statements a
        # composition takes don't grow with the trust.
        messages = [
            Message(TRUST_DIGEST, period, person_id, {"card": trust_card})
            for person_id in await trust_digest_readers(session, trust_id=trust_id)
        ]
        by_school = {s.school_id: s for s in position.schools}
        messages += [
            Message(
                SCHOOL_DIGEST,
                f"{period}/school-{school_id}",
                person_id,
                {"card": school_digest_card(position, by_school[school_id])},
            )
            for person_id, school_id in await school_digest_readers(session, trust_id=trust_id)
            if school_id in by_school
        ]
        # A digest still waiting for someone who has not installed Waypoint is
        # replaced by this week's: they get the latest one only.
        queued = await enqueue_many(
            session, trust_id=trust_id, messages=messages, now=now, latest_only=True
        )
        await record_queued(session, trust_id=trust_id, period=period, queued=queued)
    return ComposeRun(period, composed=True, queued=queued)
