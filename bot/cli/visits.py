"""Visits: the trust's visit programme, the adviser visits a school of each phase is
entitled to in an academic year and the focus planned for each visit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, Commands, command
from storage.models import Trust


def add_commands(commands: Commands) -> None:
    visits = commands.add_parser("visits", help="adviser visits").add_subparsers(
        dest="visits_command", required=True, metavar="ACTION"
    )
    programme = visits.add_parser(
        "programme", help="the trust's visit programme (entitlement and planned focus)"
    ).add_subparsers(dest="programme_command", required=True, metavar="ACTION")
    replace = programme.add_parser(
        "set",
        help="set each phase's visits from CSV with header phase,visit,focus "
        "(a line per visit; its entitlement is the visits listed)",
    )
    replace.add_argument("file")
    replace.add_argument("--tenant-id", required=True)
    replace.set_defaults(run=programme_set)
    show = programme.add_parser("show", help="each phase's visits a year and planned focus")
    show.add_argument("--tenant-id", required=True)
    show.set_defaults(run=programme_show)


@command
def programme_set(call: Call) -> str:
    from storage.csv_rows import ImportRejected, read_csv_file
    from storage.visit_programme import set_visit_programme

    csv_text = call.read(read_csv_file)

    async def work(session: AsyncSession, trust: Trust) -> str:
        report = await set_visit_programme(session, trust_id=trust.id, csv_text=csv_text)
        return f"visit programme set for {trust.name!r}: {report}"

    return call.in_trust(
        work,
        refusing={ImportRejected: lambda rejected: f"{call.file}: nothing changed\n{rejected}"},
    )


@command
def programme_show(call: Call) -> str:
    from storage.visit_programme import describe_programme, visit_programme

    async def work(session: AsyncSession, trust: Trust) -> str:
        programme = await visit_programme(session, trust_id=trust.id)
        heading = f"{trust.name}: the visits a school is entitled to each academic year"
        return "\n".join([heading, *describe_programme(programme)])

    return call.in_trust(work)
