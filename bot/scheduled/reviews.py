"""Standards review reminders: in the 14 days before a term ends, each trust lead gets
one card per school whose review for the term (or annual standards meeting) is not
recorded, never twice (`waypoint reviews remind`, and every tick of `waypoint serve`).

A reminder is an outbox delivery, unique per (trust, kind, period, recipient) with
one period per school and term: queuing it again, on any replica, any number of
times, queues nothing. The outbox sender delivers it (bot/sender.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.review_reminder import reminder_card
from storage.directory import trust_today
from storage.models import Trust
from storage.outbox import Message, enqueue_many
from storage.standards import (
    REVIEW_REMINDER,
    NothingDue,
    reminders_queued,
    review_reminder_readers,
    reviews_due,
)

log = logging.getLogger("waypoint.scheduler")


@dataclass(frozen=True)
class ReviewReminderRun:
    term: str | None
    schools: int = 0
    queued: int = 0
    reason: str = ""

    def __str__(self) -> str:
        if self.term is None:
            return self.reason
        return (
            f"{self.term}: {self.schools} school(s) due a standards review or meeting; "
            f"{self.queued} reminder(s) queued now"
        )


async def queue_review_reminders(
    sessions: async_sessionmaker[AsyncSession], *, trust_id: int, today: date, now: datetime
) -> ReviewReminderRun:
    """Queue each trust lead's reminders due today that were not queued before.

    Who is due is read without a write lock; only new reminders take one, so a tick
    that finds nothing new (nearly every tick) writes nothing. Two replicas that
    both find one new queue it once: the outbox keeps one per period and recipient.
    """
    async with sessions() as session:
        due = await reviews_due(session, trust_id=trust_id, today=today)
        if isinstance(due, NothingDue):
            return ReviewReminderRun(None, reason=due.reason)
        readers = await review_reminder_readers(session, trust_id=trust_id)
        queued_before = await reminders_queued(session, trust_id=trust_id, due=due)
    messages = []
    for school in due.schools:
        period = due.period(school.school_id)
        waiting = [p for p in readers if (period, p) not in queued_before]
        if not waiting:
            continue
        card = reminder_card(due.term, school)
        messages += [
            Message(REVIEW_REMINDER, period, person_id, {"text": None, "card": card})
            for person_id in waiting
        ]
    queued = 0
    if messages:
        async with sessions.begin() as session:
            queued = await enqueue_many(session, trust_id=trust_id, messages=messages, now=now)
    return ReviewReminderRun(due.term.title, schools=len(due.schools), queued=queued)


async def remind_every_trust(
    sessions: async_sessionmaker[AsyncSession], trusts: list[Trust], now: datetime
) -> int:
    """One tick's reminders for every trust, each on its own day; how many were queued.
    A trust whose reminders fail is tried again at the next tick; the others go on."""
    queued = 0
    for trust in trusts:
        try:
            run = await queue_review_reminders(
                sessions, trust_id=trust.id, today=trust_today(trust, now), now=now
            )
        except Exception:
            log.exception("review reminders: trust %d failed; trying again next tick", trust.id)
            continue
        if run.queued:
            log.info("review reminders: trust %d: %s", trust.id, run)
        queued += run.queued
    return queued
