"""What every exported table shares: its name and columns, the rows it yields in
batches, and the trust's calendar the facts are placed in.

A table's rows come from one statement for the whole trust (never one per school),
read through a streamed result in batches, so a large trust is never held in memory
at once and the statements do not grow with the number of schools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import Term

Value: TypeAlias = str | int | bool | date | None
Row: TypeAlias = tuple[Value, ...]
Batches: TypeAlias = AsyncIterator[list[Row]]

# Rows fetched from the store at a time: enough to keep round trips few, small
# enough that a 200-school trust's coaching sessions never sit in memory at once.
BATCH_SIZE = 1000


@dataclass(frozen=True)
class Calendar:
    """The trust's clock and terms: a fact's day is the school's day, and its term the
    trust's term holding that day (none in a holiday)."""

    trust_id: int
    zone: ZoneInfo
    terms: tuple[Term, ...]

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def term_key(self, day: date | None) -> str | None:
        if day is None:
            return None
        for term in self.terms:
            if term.starts <= day <= term.ends:
                return term_key(term.academic_year, term.number)
        return None


def term_key(academic_year: str, number: int) -> str:
    """The terms table's key: "2026-27 T1", readable in a Power BI slicer as it is."""
    return f"{academic_year} T{number}"


@dataclass(frozen=True)
class Table:
    """One exported table: its name (file and sheet), its columns, and its rows."""

    name: str
    columns: tuple[str, ...]
    rows: Callable[[AsyncSession, Calendar], Batches]


async def streamed(
    session: AsyncSession, query: Select[*tuple[Any, ...]]
) -> AsyncIterator[list[Any]]:
    """The query's rows in batches, from a streamed (server-side on PostgreSQL) result."""
    result = await session.stream(query.execution_options(yield_per=BATCH_SIZE))
    async for partition in result.partitions(BATCH_SIZE):
        yield list(partition)
