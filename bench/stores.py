"""Migrated stores for the in-process benchmarks: a SQLite file, and PostgreSQL.

PostgreSQL: `WAYPOINT_BENCH_POSTGRES_URL` (else `WAYPOINT_TEST_POSTGRES_URL`, else the
local `test` database), in a schema of the benchmark's own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.migrate import upgrade_sync

POSTGRES_URL = os.environ.get(
    "WAYPOINT_BENCH_POSTGRES_URL",
    os.environ.get("WAYPOINT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
STORES = ("sqlite", "postgresql")


class StoreMissing(RuntimeError):
    pass


async def postgres_problem() -> str | None:
    engine = create_engine(POSTGRES_URL)
    try:
        async with asyncio.timeout(5), engine.connect() as conn:
            await conn.execute(text("select 1"))
    except Exception as error:
        return f"no PostgreSQL at {POSTGRES_URL}: {type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


@asynccontextmanager
async def migrated_store(kind: str, work: Path, name: str) -> AsyncIterator[AsyncEngine]:
    """An empty store at the head migration, gone afterwards (the SQLite file stays in `work`)."""
    if kind == "sqlite":
        await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
        url = f"sqlite:///{work / f'{name}.db'}"
        # Alembic's env runs its own event loop: off this one.
        await asyncio.to_thread(upgrade_sync, url)
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    problem = await postgres_problem()
    if problem:
        raise StoreMissing(problem)
    schema = f"wp_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'create schema "{schema}"'))
        engine = create_engine(POSTGRES_URL, schema=schema)
        try:
            await asyncio.to_thread(upgrade_sync, POSTGRES_URL, schema)
            yield engine
        finally:
            await engine.dispose()
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'drop schema if exists "{schema}" cascade'))
        await admin.dispose()
