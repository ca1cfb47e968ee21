"""Migration 0008 keeps today's access for today's data, on SQLite and PostgreSQL.

Rows are written as the 0007 schema held them (a person's roles, and separately
their schools); after the upgrade every role is held where it reached before.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade_sync
from tests.conftest import POSTGRES_URL

# (person, role, school) as 0008 holds them; None is the whole trust.
Held = set[tuple[str, str, str | None]]

OLD_PEOPLE = {
    # name: (roles, schools) as 0007 stored them
    "dual": (["head", "teacher"], ["A", "B"]),
    "lead_at_a": (["attendance_lead"], ["A"]),
    "lead_for_trust": (["attendance_lead"], []),
    "trust_lead": (["trust_lead"], []),
    "trust_lead_linked": (["trust_lead", "head"], ["C"]),
    "admin_and_lead": (["admin", "attendance_lead"], []),
    "unlinked_teacher": (["teacher"], []),
}


@pytest.fixture
def store_url(store: str, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """An empty store of its own, since this test walks the migrations itself."""
    if store == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrating.db'}", None
        return
    schema = f"wp_mig_{uuid.uuid4().hex[:10]}"
    problem = asyncio.run(_execute(POSTGRES_URL, None, f'create schema "{schema}"'))
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    try:
        yield POSTGRES_URL, schema
    finally:
        asyncio.run(_execute(POSTGRES_URL, None, f'drop schema "{schema}" cascade'))


async def _execute(url: str, schema: str | None, *statements: str) -> str | None:
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


async def _rows(url: str, schema: str | None, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(query))]
    finally:
        await engine.dispose()


def _seed_0007(url: str, schema: str | None) -> None:
    statements = [
        "insert into trust (id, tenant_id, name, created_at) values (1, 't', 'T', '2026-01-01')",
    ]
    for number, key in enumerate("ABC", 1):
        statements.append(
            "insert into school (id, trust_id, urn, name, phase) "
            f"values ({number}, 1, '10000{number}', 'School {key}', 'primary')"
        )
    for number, (name, (roles, schools)) in enumerate(OLD_PEOPLE.items(), 1):
        statements.append(
            "insert into person (id, trust_id, aad_object_id, email, display_name) "
            f"values ({number}, 1, '{name}', '{name}@x.org', '{name}')"
        )
        statements += [
            f"insert into person_role (person_id, role) values ({number}, '{role}')"
            for role in roles
        ]
        statements += [
            "insert into person_school (person_id, school_id) "
            f"values ({number}, {'ABC'.index(school) + 1})"
            for school in schools
        ]
    assert asyncio.run(_execute(url, schema, *statements)) is None


def _held(url: str, schema: str | None) -> Held:
    rows = asyncio.run(
        _rows(
            url,
            schema,
            "select p.aad_object_id, r.role, s.name from person_role r "
            "join person p on p.id = r.person_id left join school s on s.id = r.school_id",
        )
    )
    return {
        (str(person), str(role), str(school)[-1] if school is not None else None)
        for person, role, school in rows
    }


def _old_reach(url: str, schema: str | None) -> dict[str, tuple[set[str], set[str]]]:
    roles = asyncio.run(
        _rows(
            url,
            schema,
            "select p.aad_object_id, r.role from person_role r join person p on p.id = r.person_id",
        )
    )
    schools = asyncio.run(
        _rows(
            url,
            schema,
            "select p.aad_object_id, s.name from person_school l "
            "join person p on p.id = l.person_id join school s on s.id = l.school_id",
        )
    )
    reach: dict[str, tuple[set[str], set[str]]] = {}
    for person, role in roles:
        reach.setdefault(str(person), (set(), set()))[0].add(str(role))
    for person, school in schools:
        reach.setdefault(str(person), (set(), set()))[1].add(str(school)[-1])
    return reach


def test_0008_keeps_every_role_where_it_reached_and_makes_the_unlinked_lead_trust_wide(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0007")
    _seed_0007(url, schema)

    upgrade_sync(url, schema, "0008")

    assert _held(url, schema) == {
        ("dual", "head", "A"),
        ("dual", "head", "B"),
        ("dual", "teacher", "A"),
        ("dual", "teacher", "B"),
        ("lead_at_a", "attendance_lead", "A"),
        # Linked to no school, they followed every school's concerns: now said so.
        ("lead_for_trust", "attendance_lead", None),
        ("trust_lead", "trust_lead", None),
        ("trust_lead_linked", "trust_lead", None),
        ("trust_lead_linked", "head", "C"),
        ("admin_and_lead", "admin", None),
        ("admin_and_lead", "attendance_lead", None),
        # A teacher linked to no school reached nothing and has nowhere to be held.
    }
    tables = asyncio.run(
        _rows(
            url,
            schema,
            "select table_name from information_schema.tables where table_schema = current_schema()"
            if schema
            else "select name from sqlite_master where type = 'table'",
        )
    )
    assert ("person_school",) not in tables


def test_0008_refuses_a_school_role_without_a_school_and_a_trust_role_at_one(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    upgrade_sync(url, schema)
    _seed_head(url, schema)
    role = "insert into person_role (person_id, role, school_id) values (1, '{}', {})"
    for statements in (
        [role.format("teacher", "NULL")],
        [role.format("trust_lead", 1)],
        # NULLs are distinct in a unique constraint: twice for the trust is still refused.
        [role.format("attendance_lead", "NULL")] * 2,
        [role.format("head", 1)] * 2,
    ):
        assert asyncio.run(_fails(url, schema, *statements)), statements
    # What may be held: a school role at a school, the trust-wide attendance lead.
    allowed = [role.format("head", 1), role.format("attendance_lead", "NULL")]
    assert asyncio.run(_execute(url, schema, *allowed)) is None


def _seed_head(url: str, schema: str | None) -> None:
    assert (
        asyncio.run(
            _execute(
                url,
                schema,
                "insert into trust (id, tenant_id, name, created_at) "
                "values (1, 't', 'T', '2026-01-01')",
                "insert into school (id, trust_id, urn, name, phase) "
                "values (1, 1, '100001', 'School A', 'primary')",
                "insert into person (id, trust_id, aad_object_id, email, display_name) "
                "values (1, 1, 'p', 'p@x.org', 'p')",
            )
        )
        is None
    )


async def _fails(url: str, schema: str | None, *statements: str) -> bool:
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


def test_0008_downgrade_gives_back_roles_and_schools(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0007")
    _seed_0007(url, schema)
    before = _old_reach(url, schema)
    upgrade_sync(url, schema, "0008")

    config = alembic_config(url, schema)
    command.downgrade(config, "0007")

    after = _old_reach(url, schema)
    # The unlinked teacher's role had nowhere to be held; everyone else is as before.
    assert after == {k: v for k, v in before.items() if k != "unlinked_teacher"}
