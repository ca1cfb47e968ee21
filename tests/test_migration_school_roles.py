"""Migration 0008 keeps today's access for today's data, on SQLite and PostgreSQL.

Rows are written as the 0007 schema held them (a person's roles, and separately
their schools); after the upgrade every role is held where it reached before.
"""

from __future__ import annotations

import asyncio

from alembic import command

from storage.migrate import alembic_config, upgrade_sync
from tests.migrating import execute_sql, fails, rows_of

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
    assert asyncio.run(execute_sql(url, schema, *statements)) is None


def _held(url: str, schema: str | None) -> Held:
    rows = asyncio.run(
        rows_of(
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
        rows_of(
            url,
            schema,
            "select p.aad_object_id, r.role from person_role r join person p on p.id = r.person_id",
        )
    )
    schools = asyncio.run(
        rows_of(
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
        rows_of(
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
        assert asyncio.run(fails(url, schema, *statements)), statements
    # What may be held: a school role at a school, the trust-wide attendance lead.
    allowed = [role.format("head", 1), role.format("attendance_lead", "NULL")]
    assert asyncio.run(execute_sql(url, schema, *allowed)) is None


def _seed_head(url: str, schema: str | None) -> None:
    assert (
        asyncio.run(
            execute_sql(
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
