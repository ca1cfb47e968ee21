"""Run Alembic migrations from code (`waypoint db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# The advisory lock's key: Waypoint's migrations ("WPMG"), and with it the schema.
MIGRATION_LOCK = 0x57504D47


def lock_migrations(connection: Connection) -> RootTransaction | None:
    """Let one upgrade at a time migrate a store, however many replicas start at once;
    called on the migration connection before Alembic reads the version table.

    PostgreSQL: an advisory lock, taken in the transaction the migrations then run
    in (Alembic joins a transaction already begun), so held until they commit or
    roll back. A replica that waited finds the store at head and does nothing. The
    key is fixed, with the schema beside it, so that upgrades of different schemas
    in one database do not wait for each other.

    SQLite: one file, one writer, so the file's write lock is the lock, provided it
    is held for the whole upgrade. Alembic would commit each SQLite migration on its
    own (it assumes no transactional DDL), and another upgrade could read the
    version between two of them and run the next one again; so the transaction is
    begun here, IMMEDIATE (storage/engine.py), and every migration runs in it; the
    caller commits what is returned. A second upgrade waits for the lock
    (busy_timeout), then finds the store at head.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("select pg_advisory_xact_lock(:key, hashtext(coalesce(current_schema(), '')))"),
            {"key": MIGRATION_LOCK},
        )
    elif not connection.in_transaction():
        return connection.begin()
    return None


def alembic_config(url: str, schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's ini interpolation would choke on '%' in a password.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def upgrade_sync(url: str, schema: str | None = None, revision: str = "head") -> None:
    """Upgrade the store at `url`; call outside a running event loop."""
    command.upgrade(alembic_config(url, schema), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade through an engine we already have (inside an event loop)."""

    def _upgrade(connection: object) -> None:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.connect() as connection:
        await connection.run_sync(_upgrade)
        await connection.commit()
