"""QA reminders: each subject lead without a summary is reminded, once per term,
school and subject, in the days before the term ends (`waypoint qa remind`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cards.render import render_card
from dialogs.qa.verbs import QaVerb
from dialogs.qa.words import closed_text
from dialogs.turn import Reply
from dialogs.words import full_day
from storage.academic_calendar import QaOpen, Term
from storage.qa import ReminderDue, claim_qa_reminders, release_qa_reminders
from storage.terms import qa_period, qa_settings


class Deliver(Protocol):
    """Sends a card to a person's own chat now; True when it was accepted."""

    async def __call__(self, *, trust_id: int, person_id: int, reply: Reply) -> bool: ...


@dataclass(frozen=True)
class ReminderRun:
    term: Term | None
    people: int = 0
    delivered: int = 0
    reason: str = ""

    def __str__(self) -> str:
        if self.term is None or self.reason:
            return self.reason
        failed = self.people - self.delivered
        text = f"{self.term.title}: reminded {self.delivered} subject lead(s)"
        if failed:
            text += f"; {failed} could not be reached (they will be tried again next run)"
        return text


def reminder_card(term: Term, items: list[ReminderDue]) -> Reply:
    lines = [
        {
            "text": f"{item.subject} at {item.school_name}",
            "button": {
                "title": "Open the form",
                "data": {"verb": QaVerb.open, "school_id": item.school_id, "subject": item.subject},
            },
        }
        for item in items
    ]
    card = render_card(
        "qa_status",
        title=f"QA summary due: {term.title}",
        note=f"{term.name} ends on {full_day(term.ends)} and Waypoint has no QA summary "
        "from you yet for:",
        sections=[{"heading": "Still to submit", "items": lines, "empty": ""}],
    )
    return Reply(card=card)


async def send_qa_reminders(
    sessions: async_sessionmaker[AsyncSession], *, trust_id: int, today: date, deliver: Deliver
) -> ReminderRun:
    """Remind each subject lead without a summary, once per term, school and subject.

    At most once: reminders are claimed (written) and committed before sending,
    so a second run, or one on another machine, finds them taken. A send that
    fails releases its claim, so the next run retries; a process that dies
    between the claim and the send loses that reminder rather than risking a
    duplicate.
    """
    async with sessions.begin() as session:
        settings = await qa_settings(session, trust_id=trust_id)
        period = await qa_period(session, trust_id=trust_id, today=today, settings=settings)
        if not isinstance(period, QaOpen):
            return ReminderRun(None, reason="no reminders: " + closed_text(period))
        term = period.term
        first_day = term.ends.toordinal() - settings.reminder_days
        if not first_day <= today.toordinal() <= term.ends.toordinal():
            return ReminderRun(
                term,
                reason=f"no reminders: they go in the {settings.reminder_days} days before "
                f"{term.title} ends on {full_day(term.ends)}",
            )
        claimed = await claim_qa_reminders(
            session, trust_id=trust_id, term=term, now=datetime.now(UTC)
        )
    by_person: defaultdict[int, list[ReminderDue]] = defaultdict(list)
    for item in claimed:
        by_person[item.person_id].append(item)
    delivered = 0
    for person_id, items in by_person.items():
        if await deliver(trust_id=trust_id, person_id=person_id, reply=reminder_card(term, items)):
            delivered += 1
            continue
        async with sessions.begin() as session:
            await release_qa_reminders(session, reminder_ids=[i.reminder_id for i in items])
    return ReminderRun(term, people=len(by_person), delivered=delivered)
