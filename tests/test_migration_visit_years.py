"""Migration 0010: visits are numbered per academic year. Past visits keep their
numbers and get the year they happened in (it starts on 1 September), on SQLite and
PostgreSQL; the programme's tables start empty."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command

from storage.migrate import alembic_config, upgrade_sync
from tests.migrating import execute_sql, fails, rows_of

# (id, school, number, visited on) as 0009 held them: numbers ran on across years.
OLD_VISITS = [
    (1, 1, 1, "2025-09-15"),
    (2, 1, 2, "2026-03-10"),
    # The last day of 2025-26, and the first of 2026-27.
    (3, 1, 3, "2026-08-31"),
    (4, 1, 4, "2026-09-01"),
    (5, 2, 1, "2024-07-19"),
]


def _visit(visit_id: int, school_id: int, number: int, day: str, year: str | None = None) -> str:
    columns = "id, trust_id, school_id, adviser_id, number, visited_on, focus, strengths, risks, "
    columns += "form_id, recorded_at"
    values = f"{visit_id}, 1, {school_id}, 1, {number}, '{day}', 'Focus {visit_id}', '', '', "
    values += f"'form-{visit_id}', '{day} 15:00:00+00'"
    if year is not None:
        columns += ", academic_year"
        values += f", '{year}'"
    return f"insert into visit ({columns}) values ({values})"


def _seed_0009(url: str, schema: str | None) -> None:
    statements = [
        "insert into trust (id, tenant_id, name, created_at) values (1, 't1', 'T1', '2026-01-01')",
        "insert into school (id, trust_id, urn, name, phase) "
        "values (1, 1, '100001', 'A', 'primary')",
        "insert into school (id, trust_id, urn, name, phase) "
        "values (2, 1, '100002', 'B', 'secondary')",
        "insert into person (id, trust_id, aad_object_id, email, display_name) "
        "values (1, 1, 'p', 'p@x.org', 'P')",
        *(_visit(*visit) for visit in OLD_VISITS),
        # An action visit 2 left: it must still name its visit after the table is rebuilt.
        "insert into school_action (id, trust_id, school_id, visit_id, description, status, "
        "created_at, updated_at) values (1, 1, 1, 2, 'Audit reading books', 'open', "
        "'2026-03-10', '2026-03-10')",
    ]
    assert asyncio.run(execute_sql(url, schema, *statements)) is None


def _visits(url: str, schema: str | None) -> list[tuple[object, ...]]:
    return asyncio.run(
        rows_of(url, schema, "select id, school_id, number, academic_year from visit order by id")
    )


def test_0010_past_visits_keep_their_numbers_and_get_their_years(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0009")
    _seed_0009(url, schema)

    upgrade_sync(url, schema, "0010")

    assert _visits(url, schema) == [
        (1, 1, 1, "2025-26"),
        (2, 1, 2, "2025-26"),
        (3, 1, 3, "2025-26"),
        (4, 1, 4, "2026-27"),
        (5, 2, 1, "2023-24"),
    ]
    assert asyncio.run(rows_of(url, schema, "select visit_id from school_action")) == [(2,)]
    for table in ("visit_entitlement", "visit_plan"):
        assert asyncio.run(rows_of(url, schema, f"select count(*) from {table}")) == [(0,)]


def test_0010_numbers_start_again_each_academic_year(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0009")
    _seed_0009(url, schema)
    # Before: a school's number once, whatever the year.
    assert asyncio.run(fails(url, schema, _visit(6, 1, 1, "2026-10-01")))
    upgrade_sync(url, schema, "0010")

    # After: visit 1 of 2026-27 is a new number; visit 4 of 2026-27 is taken.
    assert asyncio.run(execute_sql(url, schema, _visit(6, 1, 1, "2026-10-01", "2026-27"))) is None
    assert asyncio.run(fails(url, schema, _visit(7, 1, 4, "2026-11-01", "2026-27")))
    # A visit needs its year.
    assert asyncio.run(fails(url, schema, _visit(8, 1, 9, "2026-11-01")))


def test_0010_downgrades_while_every_number_is_still_unique_per_school(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0009")
    _seed_0009(url, schema)
    upgrade_sync(url, schema, "0010")

    command.downgrade(alembic_config(url, schema), "0009")

    numbers = asyncio.run(rows_of(url, schema, "select id, number from visit order by id"))
    assert numbers == [(visit_id, number) for visit_id, _, number, _ in OLD_VISITS]
    assert asyncio.run(fails(url, schema, _visit(6, 1, 1, "2026-10-01")))


def test_0010_refuses_to_downgrade_a_number_used_in_two_years(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0009")
    _seed_0009(url, schema)
    upgrade_sync(url, schema, "0010")
    assert asyncio.run(execute_sql(url, schema, _visit(6, 1, 1, "2026-10-01", "2026-27"))) is None

    with pytest.raises(RuntimeError, match="visit numbers are used in more than one academic"):
        command.downgrade(alembic_config(url, schema), "0009")

    assert asyncio.run(rows_of(url, schema, "select version_num from alembic_version")) == [
        ("0010",)
    ]
    assert len(_visits(url, schema)) == 6
