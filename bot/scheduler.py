"""The scheduler: a tick inside `waypoint serve`.

Each trust's weekly digest is due from its slot (Monday 07:30 Europe/London
unless the trust says otherwise). Composing is once per trust and week whoever
does it (this tick in any replica, or `waypoint digest run` from cron), so the
tick can simply try. Standards review reminders are queued at every tick: each is
queued once per school, term and trust lead, whoever tries (bot/scheduled/reviews.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.scheduled.digests import ComposeRun, compose_week
from bot.scheduled.reviews import remind_every_trust
from storage.digest_runs import trusts_and_runs
from storage.digests import week_period
from storage.models import Trust
from storage.standards import every_trust

log = logging.getLogger("waypoint.scheduler")


def digest_slot(trust: Trust, now: datetime) -> datetime:
    """This week's moment for the trust's digest, in its own time zone."""
    zone = ZoneInfo(trust.digest_timezone)
    local = now.astimezone(zone)
    hours, minutes = (int(part) for part in trust.digest_time.split(":"))
    monday = local.date() - timedelta(days=local.weekday())
    day = monday + timedelta(days=trust.digest_weekday)
    return datetime.combine(day, time(hours, minutes), tzinfo=zone)


def digest_due(trust: Trust, now: datetime) -> bool:
    return now >= digest_slot(trust, now)


async def due_trusts(sessions: async_sessionmaker[AsyncSession], now: datetime) -> list[int]:
    """Trusts past their slot whose digest for this week is not composed yet."""
    async with sessions() as session:
        trusts, composed = await trusts_and_runs(session)
    due = []
    for trust in trusts:
        period = week_period(now.astimezone(ZoneInfo(trust.digest_timezone)).date())
        if digest_due(trust, now) and (trust.id, period) not in composed:
            due.append(trust.id)
    return due


async def tick(sessions: async_sessionmaker[AsyncSession], now: datetime) -> list[ComposeRun]:
    runs = []
    for trust_id in await due_trusts(sessions, now):
        run = await compose_week(sessions, trust_id=trust_id, now=now)
        log.info("digest tick: trust %d: %s", trust_id, run)
        runs.append(run)
    return runs


async def review_tick(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Queue the standards review reminders due now; how many were new."""
    async with sessions() as session:
        trusts = await every_trust(session)
    return await remind_every_trust(sessions, trusts, now)


async def run_scheduler(
    sessions: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    *,
    wake_sender: asyncio.Event,
    every: float = 60.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    while not stop.is_set():
        try:
            if any(run.queued for run in await tick(sessions, clock())):
                wake_sender.set()
        except Exception:
            log.exception("digest tick failed; trying again at the next tick")
        try:
            if await review_tick(sessions, clock()):
                wake_sender.set()
        except Exception:
            log.exception("review reminder tick failed; trying again at the next tick")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
