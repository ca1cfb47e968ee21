"""Migration 0011: a category's termly review, backfilled from the framework's keys; the
standards review table; the trust's term for the annual standards meeting."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade_sync
from tests.migrating import execute_sql, fails, rows_of

# (framework id, trust id, framework key): two presets and a framework of a trust's own.
FRAMEWORKS = ((1, 1, "five-categories"), (2, 2, "four-phases"), (3, 3, "our-own"))
CATEGORIES = {
    1: ("excellence", "refinement", "reinforcement", "recovery", "repair"),
    2: ("sustain", "improve", "repair", "stabilise"),
    3: ("strong", "recovery", "repair"),
}


def _seed_0009(url: str, schema: str | None) -> None:
    statements = []
    for framework_id, trust_id, key in FRAMEWORKS:
        statements += [
            f"insert into trust (id, tenant_id, name, created_at) "
            f"values ({trust_id}, 't{trust_id}', 'T{trust_id}', '2026-01-01')",
            f"insert into framework (id, trust_id, key, name, description) "
            f"values ({framework_id}, {trust_id}, '{key}', '{key}', '')",
        ]
        for rank, category in enumerate(CATEGORIES[framework_id], start=1):
            statements.append(
                "insert into category (framework_id, key, name, rank, descriptor, evidence, "
                "support, challenge, improvement_target, monitoring, needs_attention) values "
                f"({framework_id}, '{category}', '{category.title()}', {rank}, '', '[]', '[]', "
                "'[]', '', '', false)"
            )
    statements.append(
        "insert into school (id, trust_id, urn, name, phase) values (1, 1, '100001', 'A', 'x')"
    )
    assert asyncio.run(execute_sql(url, schema, *statements)) is None


def _review(review_id: int, form_id: str) -> str:
    return (
        "insert into standards_review (id, trust_id, school_id, academic_year, term, term_name, "
        "held_on, attendees, trustees_attended, outcome, category_name, notes, form_id, "
        f"recorded_at) values ({review_id}, 1, 1, '2026-27', 1, 'Autumn term', '2026-12-08', "
        f"'Head, DE', true, 'confirmed', 'Recovery', '', '{form_id}', '2026-12-08')"
    )


def test_0011_flags_the_termly_review_categories_of_the_presets_only(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0009")
    _seed_0009(url, schema)

    upgrade_sync(url, schema, "0011")

    flagged = asyncio.run(
        rows_of(
            url,
            schema,
            "select f.key, c.key from category c join framework f on f.id = c.framework_id "
            "where c.termly_review order by f.key, c.rank",
        )
    )
    assert flagged == [
        ("five-categories", "recovery"),
        ("five-categories", "repair"),
        ("four-phases", "repair"),
        ("four-phases", "stabilise"),
    ]
    terms = asyncio.run(rows_of(url, schema, "select standards_meeting_term from trust"))
    assert terms == [(None,), (None,), (None,)]
    # A review's form id is unique per trust.
    assert asyncio.run(execute_sql(url, schema, _review(1, "f" * 32))) is None
    assert asyncio.run(fails(url, schema, _review(2, "f" * 32)))


def test_0011_downgrades(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0009")
    _seed_0009(url, schema)
    upgrade_sync(url, schema, "0011")
    assert asyncio.run(execute_sql(url, schema, _review(1, "f" * 32))) is None

    command.downgrade(alembic_config(url, schema), "0009")

    keys = asyncio.run(rows_of(url, schema, "select key from category order by id"))
    assert len(keys) == 12
    tables, trust, category = asyncio.run(_shape(url, schema))
    assert "standards_review" not in tables
    assert "standards_meeting_term" not in trust and "termly_review" not in category


async def _shape(url: str, schema: str | None) -> tuple[set[str], set[str], set[str]]:
    """The tables, and the columns of trust and category."""

    def read(connection: Connection) -> tuple[set[str], set[str], set[str]]:
        found = inspect(connection)
        return (
            set(found.get_table_names()),
            {c["name"] for c in found.get_columns("trust")},
            {c["name"] for c in found.get_columns("category")},
        )

    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()
