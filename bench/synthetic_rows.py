"""The rows of a bulk load: primary keys chosen up front, rows gathered per table,
inserted in chunks.

Rows go in with executemany (one statement per table chunk; asyncpg and sqlite3
batch them), with ids chosen here, so that a table of 300,000 rows takes seconds;
on PostgreSQL the id sequences are moved past them afterwards. Used by
bench/synthetic.py for the synthetic trust.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base

CHUNK = 5_000


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


class Rows:
    """Rows to insert, per table in the order they were added, and the primary keys
    handed out for them, past whatever each table holds already."""

    def __init__(self) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._next: dict[str, int] = {}

    async def start_ids(self, session: AsyncSession, models: Iterable[type[Base]]) -> None:
        """Hand out each model's ids from past the largest it holds."""
        for model in models:
            table = table_of(model)
            top = await session.scalar(select(func.max(table.c.id)))
            self._next[table.name] = int(top or 0) + 1

    def take_id(self, model: type[Base]) -> int:
        name = table_of(model).name
        value = self._next[name]
        self._next[name] = value + 1
        return value

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self._rows.setdefault(table_of(model).name, []).append(row)

    def counts(self) -> dict[str, int]:
        """How many rows each table gets, by table name."""
        return {name: len(table_rows) for name, table_rows in self._rows.items()}

    async def insert(self, session: AsyncSession, order: Sequence[type[Base]]) -> None:
        """Insert every table's rows, the tables in `order` (parents first)."""
        for model in order:
            table = table_of(model)
            for chunk in _chunks(self._rows.get(table.name, [])):
                await session.execute(insert(table), chunk)
        if session.get_bind().dialect.name == "postgresql":
            # Ids were chosen here: move each sequence past them for later inserts.
            for model in order:
                table = table_of(model)
                if "id" in table.c:
                    await session.execute(
                        text(
                            f"select setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(select max(id) from {table.name}))"
                        )
                    )
