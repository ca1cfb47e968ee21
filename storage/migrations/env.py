"""Alembic environment: the same history builds SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from storage.engine import create_engine
from storage.migrate import lock_migrations
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table in batch mode by copying it and dropping the old one;
        # with foreign keys on, that drop deletes the rows of every child table first
        # (ON DELETE CASCADE). The pragma only works outside a transaction: set here,
        # before the migrations' transaction begins, and checked and restored after.
        _pragma(connection, "PRAGMA foreign_keys=OFF")
    # Before Alembic looks at the version: one upgrade at a time (several replicas).
    began = lock_migrations(connection)
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"a migration broke foreign keys: {broken[:5]}")
        if began is not None:
            began.commit()
    finally:
        if began is not None and began.is_active:
            began.rollback()
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, statement: str) -> None:
    # On the driver's connection: SQLAlchemy's would begin a transaction first.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


async def _run_async(url: str, schema: str | None) -> None:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection: Any = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "storage.migrate sets sqlalchemy.url"
    asyncio.run(_run_async(url, config.attributes.get("schema")))


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
