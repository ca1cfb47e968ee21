"""Load a trust's schools and people from CSV: all rows or, if one is wrong, none."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, Commands, Handler, command
from storage.models import Trust

Kind = Literal["schools", "people"]
HEADERS: dict[Kind, str] = {
    "schools": "urn,name,phase,hub",
    "people": "aad_object_id,email,display_name,roles,schools,subjects",
}


def add_commands(commands: Commands) -> None:
    imports = commands.add_parser("import", help="load schools or people from CSV").add_subparsers(
        dest="import_command", required=True, metavar="WHAT"
    )
    for kind, header in HEADERS.items():
        load = imports.add_parser(kind, help=f"CSV with header {header}")
        load.add_argument("file")
        load.add_argument("--tenant-id", required=True)
        load.set_defaults(run=_import(kind))


def _import(kind: Kind) -> Handler:
    @command
    def import_csv(call: Call) -> str:
        from storage.csv_rows import ImportRejected, read_csv_file
        from storage.imports.people import import_people
        from storage.imports.schools import import_schools

        importer = import_schools if kind == "schools" else import_people
        csv_text = call.read(read_csv_file)

        async def work(session: AsyncSession, trust: Trust) -> str:
            report = await importer(session, trust_id=trust.id, csv_text=csv_text)
            return (
                f"{kind}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged"
            )

        return call.in_trust(
            work,
            refusing={
                ImportRejected: lambda rejected: f"{call.file}: nothing imported\n{rejected}"
            },
        )

    return import_csv
