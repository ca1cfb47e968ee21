"""Several replicas starting at once each run `waypoint db upgrade`: one migrated store.

Three `waypoint db upgrade` processes are started together against an empty store
(a fresh PostgreSQL schema; a fresh SQLite file). All three succeed, and the store
holds one migrated schema: one alembic_version row, at head, and each table once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.engine import create_engine
from storage.migrate import alembic_config
from storage.models import Base

WAYPOINT = str(Path(sys.executable).with_name("waypoint"))
REPLICAS = 3


def cli_url(url: str, schema: str | None) -> str:
    """The store as `waypoint` finds it: libpq's options select the schema."""
    return f"{url}?options=-csearch_path%3D{schema}" if schema else url


async def store_shape(url: str, schema: str | None) -> tuple[list[str], list[str]]:
    """The alembic_version rows, and the tables (as many times as they exist)."""
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            versions = list(await conn.scalars(text("select version_num from alembic_version")))
            if conn.dialect.name == "postgresql":
                tables = await conn.scalars(
                    text("select table_name from information_schema.tables where table_schema=:s"),
                    {"s": schema},
                )
            else:
                tables = await conn.scalars(
                    text("select name from sqlite_master where type = 'table'")
                )
            return versions, list(tables)
    finally:
        await engine.dispose()


def test_three_replicas_upgrading_at_once_leave_one_migrated_store(
    store_url: tuple[str, str | None], tmp_path: Path
) -> None:
    url, schema = store_url
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "WAYPOINT_DATABASE_URL": cli_url(url, schema),
    }
    # No .env of the repository: each process sees only the store above.
    upgrades = [
        subprocess.Popen(
            [WAYPOINT, "db", "upgrade"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(REPLICAS)
    ]
    outcomes = [(upgrade.wait(timeout=180), upgrade.communicate()[0]) for upgrade in upgrades]
    assert [code for code, _ in outcomes] == [0] * REPLICAS, outcomes
    assert all("store is up to date" in said for _, said in outcomes), outcomes

    versions, tables = asyncio.run(store_shape(url, schema))
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert versions == [head]
    tables = [name for name in tables if not name.startswith("sqlite_")]
    assert sorted(tables) == sorted({*Base.metadata.tables, "alembic_version"})
