"""Importing a trust's schools from a `urn,name,phase,hub` file: created or updated by URN."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.csv_rows import ImportRejected, csv_lines, parse_rows, repeats
from storage.imports import ImportReport, require_trust
from storage.imports.rows import SCHOOL_COLUMNS, SchoolRow
from storage.models import School


async def import_schools(session: AsyncSession, *, trust_id: int, csv_text: str) -> ImportReport:
    """Create or update the trust's schools from a `urn,name,phase,hub` file."""
    await require_trust(session, trust_id)
    lines, errors = csv_lines(csv_text, SCHOOL_COLUMNS)
    rows, row_errors = parse_rows(lines, SchoolRow)
    errors += row_errors + repeats(rows, "urn", lambda row: row.urn)
    if errors:
        raise ImportRejected(errors)

    stored = {
        school.urn: school
        for school in await session.scalars(select(School).where(School.trust_id == trust_id))
    }
    newcomers: list[SchoolRow] = []
    updated = unchanged = 0
    for _, row in rows:
        school = stored.get(row.urn)
        if school is None:
            newcomers.append(row)
        elif (school.name, school.phase, school.hub) == (row.name, row.phase, row.hub):
            unchanged += 1
        else:
            school.name, school.phase, school.hub = row.name, row.phase, row.hub
            updated += 1
    await session.flush()
    if newcomers:
        # One multi-row insert: the unit of work would insert them one by one on SQLite.
        await session.execute(
            insert(School),
            [{"trust_id": trust_id, **row.model_dump()} for row in newcomers],
        )
    return ImportReport(created=len(newcomers), updated=updated, unchanged=unchanged)
