"""The trust's data for Power BI: a documented star schema (docs/EXPORT.md) written
as CSV files or as one XLSX workbook.

Dimensions: schools, terms, categories, coaching strands, people and their roles.
Facts: categorisations, visits, actions and their RAG/status history, QA summaries
and their evidence kinds, coaching sessions (activity only), and attendance
concerns as weekly counts. No pupil data, coaching notes, action steps or other
free text is ever read into a row (storage/export/activity.py, improvement.py).

`waypoint export` writes the files (bot/cli/exports.py); the dashboard offers the
workbook to trust leads through `export_workbook`. Both are audited as "export".
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import record_event
from storage.export.dimensions import NoSuchTrust, trust_calendar
from storage.export.schema import Calendar, Table
from storage.export.writers import (
    CSV_ENCODING,
    TABLES,
    WORKBOOK_NAME,
    Written,
    build_workbook,
    csv_value,
    export_workbook,
    write_csv_tables,
    write_workbook,
)

EXPORT_ACTION = "export"

__all__ = [
    "CSV_ENCODING",
    "EXPORT_ACTION",
    "TABLES",
    "WORKBOOK_NAME",
    "Calendar",
    "NoSuchTrust",
    "Table",
    "Written",
    "build_workbook",
    "csv_value",
    "export_workbook",
    "record_export",
    "trust_calendar",
    "write_csv_tables",
    "write_workbook",
]


async def record_export(session: AsyncSession, *, trust_id: int, person_id: int | None) -> None:
    """The audit trail's line for an export: who took the trust's data (none for the
    command line, which acts as no person), when."""
    await record_event(
        session, trust_id=trust_id, person_id=person_id, action=EXPORT_ACTION, outcome="ok"
    )
