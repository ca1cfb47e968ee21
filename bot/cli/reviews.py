"""Standards reviews: the reminders (for cron, when the server's tick is off) and the
term of the annual standards meeting."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, Commands, command, iso_date, sending
from storage.models import Trust


def meeting_term(value: str) -> int | None:
    """An argparse type: a term's number, or "last"."""
    if value.strip().casefold() == "last":
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a term number or last") from None


def add_commands(commands: Commands) -> None:
    reviews = commands.add_parser("reviews", help="standards reviews").add_subparsers(
        dest="reviews_command", required=True, metavar="ACTION"
    )
    remind = reviews.add_parser(
        "remind",
        help="remind trust leads of standards reviews and meetings due this term (run daily)",
    )
    remind.add_argument("--tenant-id", required=True)
    remind.add_argument(
        "--today", type=iso_date, help="the day to act as (YYYY-MM-DD; default today)"
    )
    remind.set_defaults(run=reviews_remind)
    settings = reviews.add_parser(
        "settings", help="the term of the annual standards meeting (shown; changed if given)"
    )
    settings.add_argument("--tenant-id", required=True)
    settings.add_argument(
        "--annual-meeting-term",
        type=meeting_term,
        default=argparse.SUPPRESS,
        metavar="N|last",
        help="the term (1 is the year's first) of the annual standards meeting, or last",
    )
    settings.set_defaults(run=reviews_settings)


@command
def reviews_remind(call: Call) -> str:
    from bot.scheduled.reviews import queue_review_reminders
    from storage.directory import trust_today

    async def remind() -> str:
        async with sending(call.settings) as (sessions, notifier):
            async with sessions() as session:
                trust = await call.trust(session)
            now = datetime.now(UTC)
            run = await queue_review_reminders(
                sessions,
                trust_id=trust.id,
                today=call.args.today or trust_today(trust, now),
                now=now,
            )
            # Send now as well, so a cron job needs no running server.
            await notifier.drain()
            return f"{trust.name}: {run}"

    return asyncio.run(remind())


@command
def reviews_settings(call: Call) -> str:
    from storage.standards import (
        REMINDER_DAYS,
        InvalidMeetingTerm,
        set_standards_meeting_term,
        standards_meeting_term,
    )

    args = call.args

    async def work(session: AsyncSession, trust: Trust) -> str:
        if "annual_meeting_term" in args:
            await set_standards_meeting_term(
                session, trust_id=trust.id, number=args.annual_meeting_term
            )
        number = await standards_meeting_term(session, trust_id=trust.id)
        term = "the last term of the year" if number is None else f"term {number}"
        return (
            f"{trust.name}: the annual standards meeting is in {term} (a year with fewer "
            f"terms: its last); trust leads are reminded in the {REMINDER_DAYS} days before "
            "that term ends"
        )

    return call.in_trust(
        work, refusing={InvalidMeetingTerm: lambda error: f"nothing changed: {error}"}
    )
