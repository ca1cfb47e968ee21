"""A trust's records of personal data: who saw and changed what (the audit trail), and
how long closed attendance concerns are kept before they are anonymised."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, Commands, command, iso_date
from storage.models import Trust

AUDIT_COLUMNS = "at\twho\taction\toutcome\tschool\tsubject"


def add_commands(commands: Commands) -> None:
    audit_parser = commands.add_parser(
        "audit", help="print the trust's audit trail (who, when, what)"
    )
    audit_parser.add_argument("--tenant-id", required=True)
    audit_parser.add_argument(
        "--since", type=iso_date, help="from this day on (YYYY-MM-DD; default everything)"
    )
    audit_parser.set_defaults(run=audit)

    retention = commands.add_parser(
        "retention", help="personal data past the trust's retention period"
    ).add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    apply = retention.add_parser(
        "apply", help="anonymise closed attendance concerns past retention (run daily)"
    )
    apply.add_argument("--tenant-id", required=True)
    apply.add_argument(
        "--today", type=iso_date, help="the day to act as (YYYY-MM-DD; default today)"
    )
    apply.set_defaults(run=retention_apply)
    years = retention.add_parser(
        "set", help="years closed attendance concerns are kept after their academic year"
    )
    years.add_argument("--tenant-id", required=True)
    years.add_argument("--years", type=int, choices=range(0, 26), metavar="0-25", required=True)
    years.set_defaults(run=retention_set)


@command
def audit(call: Call) -> str:
    from storage.audit_trail import audit_trail
    from storage.directory import trust_zone

    async def work(session: AsyncSession, trust: Trust) -> list[str]:
        # A day means the school's day: from midnight where the trust is.
        since = (
            datetime.combine(call.args.since, datetime.min.time(), tzinfo=trust_zone(trust))
            if call.args.since
            else None
        )
        return [str(line) for line in await audit_trail(session, trust_id=trust.id, since=since)]

    return "\n".join([AUDIT_COLUMNS, *call.in_trust(work)])


@command
def retention_apply(call: Call) -> str:
    from storage.attendance.retention import anonymise_expired
    from storage.directory import trust_today

    now = datetime.now(UTC)

    async def work(session: AsyncSession, trust: Trust) -> str:
        run = await anonymise_expired(
            session, trust_id=trust.id, today=call.args.today or trust_today(trust, now), at=now
        )
        return str(run)

    return call.in_trust(work)


@command
def retention_set(call: Call) -> str:
    years: int = call.args.years

    async def work(session: AsyncSession, trust: Trust) -> str:
        trust.attendance_retention_years = years
        return (
            f"closed attendance concerns of {trust.name!r} are kept for the academic year "
            f"of closure plus {years}"
        )

    return call.in_trust(work)
