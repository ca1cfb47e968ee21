"""Walking the migrations on a store of the test's own, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from storage.engine import create_engine


async def execute_sql(url: str, schema: str | None, *statements: str) -> str | None:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    except OSError as error:
        return f"no PostgreSQL at {url}: {error}"
    finally:
        await engine.dispose()
    return None


async def rows_of(url: str, schema: str | None, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(query))]
    finally:
        await engine.dispose()


async def fails(url: str, schema: str | None, *statements: str) -> bool:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    except Exception as error:  # the store's integrity error, whichever driver
        return "integrity" in type(error).__name__.lower()
    finally:
        await engine.dispose()
    return False
