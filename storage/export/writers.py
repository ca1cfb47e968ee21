"""Writing the export: one CSV file per table, or one workbook with a sheet per table.

CSV files are UTF-8 with a byte-order mark: Power BI reads UTF-8 either way, and the
mark is what makes Excel (where a data team often looks first) show "Brontë"
rather than "BrontÃ«". Dates are ISO 8601 (2026-12-04), true/false are written
`true`/`false`, and a missing value is an empty field. The
workbook holds the same rows with real dates, numbers and booleans in its cells.

Text is never a formula (a school named `=HYPERLINK(…)` must not run in Excel): in
the workbook every such string is a text cell; in the CSV files, which Excel
evaluates as it opens them, a text starting with = + - @, a tab or a carriage
return is written after a single quote (docs/EXPORT.md).
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from sqlalchemy.ext.asyncio import AsyncSession

from storage.export.activity import ACTIVITY_FACTS
from storage.export.dimensions import DIMENSIONS, trust_calendar
from storage.export.improvement import IMPROVEMENT_FACTS
from storage.export.schema import Row, Table, Value

if TYPE_CHECKING:
    # openpyxl names its write-only sheet only in this module; for the type alone.
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

TABLES: tuple[Table, ...] = (*DIMENSIONS, *IMPROVEMENT_FACTS, *ACTIVITY_FACTS)
CSV_ENCODING = "utf-8-sig"
WORKBOOK_NAME = "waypoint.xlsx"


@dataclass(frozen=True)
class Written:
    """One table as written: where, and how many rows (the header aside)."""

    table: str
    rows: int
    path: Path | None = None


# What makes Excel (or a sheet it feeds) read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Value) -> str | int:
    """A cell as the CSV files spell it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


async def write_csv_tables(session: AsyncSession, *, trust_id: int, folder: Path) -> list[Written]:
    """Every table of the trust as `<table>.csv` in `folder` (made if missing)."""
    calendar = await trust_calendar(session, trust_id=trust_id)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    written: list[Written] = []
    for table in TABLES:
        path = folder / f"{table.name}.csv"
        count = 0
        # The command line writes these, never a turn: a blocking file is fine here.
        with path.open("w", encoding=CSV_ENCODING, newline="") as file:
            writer = csv.writer(file)
            writer.writerow(table.columns)
            async for batch in table.rows(session, calendar):
                writer.writerows(_csv_rows(batch))
                count += len(batch)
        written.append(Written(table.name, count, path))
    return written


def _csv_rows(batch: Iterable[Row]) -> Iterable[list[str | int]]:
    return ([csv_value(value) for value in row] for row in batch)


async def build_workbook(session: AsyncSession, *, trust_id: int) -> tuple[bytes, list[Written]]:
    """The trust's tables as one XLSX workbook (a sheet per table), and their counts.

    Write-only sheets keep only the row being written in memory. Rows are appended
    and the file assembled off the event loop, a batch at a time, since the
    dashboard's download runs in the server beside everyone's turns.
    """
    calendar = await trust_calendar(session, trust_id=trust_id)
    workbook = Workbook(write_only=True)
    written: list[Written] = []
    for table in TABLES:
        sheet = workbook.create_sheet(table.name)
        sheet.append(list(table.columns))
        count = 0
        async for batch in table.rows(session, calendar):
            await asyncio.to_thread(_append, sheet, batch)
            count += len(batch)
        written.append(Written(table.name, count))
    buffer = BytesIO()
    await asyncio.to_thread(workbook.save, buffer)
    return buffer.getvalue(), written


def _append(sheet: WriteOnlyWorksheet, batch: list[Row]) -> None:
    for row in batch:
        sheet.append([_text_cell(sheet, value) for value in row])


def _text_cell(sheet: WriteOnlyWorksheet, value: Value) -> Value | Cell:
    """openpyxl stores a string starting with = as a formula: such a string is
    written as a text cell, which shows exactly what was typed."""
    if not (isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


async def export_workbook(session: AsyncSession, *, trust_id: int) -> bytes:
    """The XLSX the dashboard offers trust leads for download: every table, one sheet
    each. Raises storage.export.NoSuchTrust for a trust not in the store."""
    content, _ = await build_workbook(session, trust_id=trust_id)
    return content


async def write_workbook(session: AsyncSession, *, trust_id: int, folder: Path) -> list[Written]:
    """The workbook as `folder/waypoint.xlsx` (folder made if missing)."""
    content, written = await build_workbook(session, trust_id=trust_id)
    path = folder / WORKBOOK_NAME
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(path.write_bytes, content)
    return [Written(item.table, item.rows, path) for item in written]
