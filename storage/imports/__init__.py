"""CSV imports of a trust's schools and people (`waypoint import schools|people FILE`).

An import is all or nothing. Every row is checked first: on its own (the row models
`SchoolRow` and `PersonRow`, storage.imports.rows), against the rest of the file (no
URN, object id or email twice) and against the trust (a person's schools must be
schools of the same trust). Any problem rejects the whole file: `ImportRejected`
(storage.csv_rows) lists every problem as "line N: reason", N being the physical line
in the file (the header is line 1), and nothing has been written to the session.

A clean file is applied as an upsert, rows matched by URN (schools,
storage.imports.schools) or Entra object id (people, storage.imports.people) within
the trust:

- a row the trust does not have yet is created;
- a row that differs from what is stored replaces it: for a person the display name,
  email, roles (each at its school, storage.people_roles) and subjects all become
  exactly what the row says, so a school left out of the row is a school where the
  person no longer holds a role, and a person with no school left reaches none;
- a row that matches what is stored is left untouched, so importing the same file
  again reports 0 created, 0 updated and every row unchanged.

Schools and people that are not in the file are left alone: an import creates and
updates, it never deletes. Removing a school or a person is a separate, deliberate act.

A file with a header and no rows is a valid import that changes nothing (a report of
zeros); a file without even a header is rejected, since it is almost certainly the
wrong file. What else is forgiven or refused in a file's layout is storage.csv_rows's.

The import functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Trust


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows created, rows updated, and rows already as stored."""

    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


async def require_trust(session: AsyncSession, trust_id: int) -> None:
    """Refuse an import into a trust that does not exist, before reading its file."""
    if await session.get(Trust, trust_id) is None:
        raise ValueError(f"there is no trust with id {trust_id}")
