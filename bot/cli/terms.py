"""The school year: a trust's term dates, and the QA windows and reminders they set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, Commands, command, iso_date, sending
from storage.models import Trust


def add_commands(commands: Commands) -> None:
    terms = commands.add_parser("terms", help="the trust's term dates").add_subparsers(
        dest="terms_command", required=True, metavar="ACTION"
    )
    replace = terms.add_parser(
        "set", help="set term dates from CSV with header academic_year,term,starts,ends"
    )
    replace.add_argument("file")
    replace.add_argument("--tenant-id", required=True)
    replace.set_defaults(run=terms_set)
    show = terms.add_parser("show", help="the terms and QA windows around a day")
    show.add_argument("--tenant-id", required=True)
    show.add_argument(
        "--today", type=iso_date, help="the day to look around (YYYY-MM-DD; default today)"
    )
    show.set_defaults(run=terms_show)

    qa = commands.add_parser("qa", help="subject-lead QA summaries").add_subparsers(
        dest="qa_command", required=True, metavar="ACTION"
    )
    remind = qa.add_parser(
        "remind", help="remind subject leads whose QA summary is due (run daily)"
    )
    remind.add_argument("--tenant-id", required=True)
    remind.add_argument(
        "--today", type=iso_date, help="the day to act as (YYYY-MM-DD; default today)"
    )
    remind.set_defaults(run=qa_remind)
    settings = qa.add_parser(
        "settings", help="the trust's QA window and reminder days (shown; changed if given)"
    )
    settings.add_argument("--tenant-id", required=True)
    settings.add_argument(
        "--weeks-before", type=int, help="window opens N weeks before a term ends"
    )
    settings.add_argument("--weeks-after", type=int, help="window closes N weeks after it ends")
    settings.add_argument("--reminder-days", type=int, help="remind N days before a term ends")
    settings.set_defaults(run=qa_settings)


@command
def terms_set(call: Call) -> str:
    from storage.csv_rows import ImportRejected, read_csv_file
    from storage.term_dates import set_terms

    csv_text = call.read(read_csv_file)

    async def work(session: AsyncSession, trust: Trust) -> str:
        report = await set_terms(session, trust_id=trust.id, csv_text=csv_text)
        return f"terms set for {trust.name!r}: {report or 'no rows, nothing changed'}"

    return call.in_trust(
        work,
        refusing={ImportRejected: lambda rejected: f"{call.file}: nothing changed\n{rejected}"},
    )


@command
def terms_show(call: Call) -> str:
    from storage.directory import trust_today
    from storage.terms import calendar_around

    async def work(session: AsyncSession, trust: Trust) -> str:
        today = call.args.today or trust_today(trust, datetime.now(UTC))
        qa, windows = await calendar_around(session, trust_id=trust.id, day=today)
        lines = [
            f"{trust.name}: QA windows from {qa.weeks_before} weeks before a term ends to "
            f"{qa.weeks_after} weeks after; reminders {qa.reminder_days} days before it ends"
        ]
        lines += [
            f"{w.term.title}: {w.term.starts} to {w.term.ends}, QA window {w.opens} to {w.closes}"
            for w in windows
        ]
        return "\n".join(lines)

    return call.in_trust(work)


@command
def qa_remind(call: Call) -> str:
    from bot.scheduled.qa_reminders import send_qa_reminders
    from storage.directory import trust_today

    async def remind() -> str:
        async with sending(call.settings) as (sessions, notifier):
            async with sessions() as session:
                trust = await call.trust(session)
            run = await send_qa_reminders(
                sessions,
                trust_id=trust.id,
                today=call.args.today or trust_today(trust, datetime.now(UTC)),
                deliver=notifier.deliver,
            )
            # Send now as well, so a cron job needs no running server.
            await notifier.drain()
            return str(run)

    return asyncio.run(remind())


@command
def qa_settings(call: Call) -> str:
    from storage.terms import InvalidQaSettings, set_qa_settings

    args = call.args

    async def work(session: AsyncSession, trust: Trust) -> str:
        qa = await set_qa_settings(
            session,
            trust_id=trust.id,
            weeks_before=args.weeks_before,
            weeks_after=args.weeks_after,
            reminder_days=args.reminder_days,
        )
        return (
            f"{trust.name}: QA window from {qa.weeks_before} weeks before a term ends to "
            f"{qa.weeks_after} weeks after; reminders {qa.reminder_days} days before it ends"
        )

    return call.in_trust(
        work, refusing={InvalidQaSettings: lambda error: f"nothing changed: {error}"}
    )
