"""Run Alembic migrations from code (`waypoint db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


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
