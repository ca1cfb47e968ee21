"""`waypoint export`: the trust's data for Power BI (storage/export, docs/EXPORT.md)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, CommandFailed, Commands, command
from storage.models import Trust


def add_commands(commands: Commands) -> None:
    export = commands.add_parser(
        "export", help="write the trust's star schema for Power BI (CSV files or a workbook)"
    )
    export.add_argument("--tenant-id", required=True)
    export.add_argument("--out", required=True, help="the folder to write into (made if missing)")
    export.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        default="csv",
        help="csv: one file per table (default); xlsx: one workbook, a sheet per table",
    )
    export.set_defaults(run=export_tables)


@command
def export_tables(call: Call) -> str:
    from storage.export import record_export, write_csv_tables, write_workbook

    folder = Path(call.args.out)
    writer = write_workbook if call.args.format == "xlsx" else write_csv_tables

    async def work(session: AsyncSession, trust: Trust) -> str:
        try:
            written = await writer(session, trust_id=trust.id, folder=folder)
        except OSError as error:
            # Rolled back with the transaction: no audit line for an export not made.
            raise CommandFailed(f"cannot write to {folder}: {error.strerror or error}") from error
        # The command line acts as no person: the trail says "waypoint".
        await record_export(session, trust_id=trust.id, person_id=None)
        where = written[0].path if call.args.format == "xlsx" else folder
        lines = [f"exported {trust.name!r} to {where}:"]
        lines += [f"  {item.table}: {item.rows} rows" for item in written]
        return "\n".join(lines)

    return call.in_trust(work)
