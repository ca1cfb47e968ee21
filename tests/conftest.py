"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL: `WAYPOINT_TEST_POSTGRES_URL` (default the local `test` database). Each
test run gets a schema of its own, so parallel runs never see each other's rows.
Without a PostgreSQL the PostgreSQL half is skipped with the reason, except under
`CI`, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import Sessions, create_engine, session_factory
from storage.migrate import upgrade_sync
from storage.models import Base
from tests.migrating import execute_sql

POSTGRES_URL = os.environ.get(
    "WAYPOINT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
STORES = ["sqlite", "postgresql"]


async def _postgres_problem(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with asyncio.timeout(5), engine.connect() as conn:
            await conn.execute(text("select 1"))
    except Exception as error:
        return f"no PostgreSQL at {url}: {type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    problem = asyncio.run(_postgres_problem(POSTGRES_URL))
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL for the storage tests: {problem}")
        pytest.skip(problem)
    schema = f"wp_test_{uuid.uuid4().hex[:10]}"

    async def _exec(sql: str) -> None:
        engine = create_engine(POSTGRES_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(_exec(f'create schema "{schema}"'))
    try:
        upgrade_sync(POSTGRES_URL, schema=schema)
        yield schema
    finally:
        asyncio.run(_exec(f'drop schema "{schema}" cascade'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade_sync(f"sqlite:///{path}")
    return path


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """Which store this test runs on: "sqlite" or "postgresql"."""
    return str(request.param)


@pytest.fixture
def database_url(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str | None]]:
    """A migrated, empty store: (url, schema)."""
    if store == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "waypoint.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}", None
    else:
        schema: str = request.getfixturevalue("postgres_schema")
        asyncio.run(_truncate(POSTGRES_URL, schema))
        yield POSTGRES_URL, schema


async def _truncate(url: str, schema: str) -> None:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"truncate {names} restart identity cascade"))
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(database_url: tuple[str, str | None]) -> AsyncIterator[AsyncEngine]:
    url, schema = database_url
    eng = create_engine(url, schema=schema)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    return session_factory(engine)


@pytest.fixture
def store_env(database_url: tuple[str, str | None], monkeypatch: pytest.MonkeyPatch) -> str:
    """The migrated store as the command line finds it: WAYPOINT_DATABASE_URL."""
    url, schema = database_url
    if schema:
        # The CLI has no schema option; libpq's options select the test schema.
        url = f"{url}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", url)
    return url


@pytest.fixture
def store_url(store: str, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """An empty store of its own, since this test walks the migrations itself."""
    if store == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrating.db'}", None
        return
    schema = f"wp_mig_{uuid.uuid4().hex[:10]}"
    problem = asyncio.run(execute_sql(POSTGRES_URL, None, f'create schema "{schema}"'))
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    try:
        yield POSTGRES_URL, schema
    finally:
        asyncio.run(execute_sql(POSTGRES_URL, None, f'drop schema "{schema}" cascade'))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` run under CI (`make test`) or with WAYPOINT_SLOW=1.

    Elsewhere they are skipped, with the reason, so that a local `pytest -q` stays
    quick; `WAYPOINT_SLOW=1 pytest -q -m slow` runs just them.
    """
    if os.environ.get("CI") or os.environ.get("WAYPOINT_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: runs under CI (make test) or with WAYPOINT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
