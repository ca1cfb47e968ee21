"""Migration 0009: form ids unique per trust for every form, and a record of each
update or close card applied to a concern, built from the events it made."""

from __future__ import annotations

import asyncio

from alembic import command

from storage.migrate import alembic_config, upgrade_sync
from tests.migrating import execute_sql, fails, rows_of

FORM = "0123456789abcdef0123456789abcdef"
UPDATE_CARD = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
CLOSE_CARD = "cccccccccccccccccccccccccccccccc"


def _concern(concern_id: int, trust_id: int, school_id: int, form_id: str) -> str:
    return (
        "insert into attendance_concern (id, trust_id, school_id, pupil_ref, year_group, "
        "attendance_percent, unauthorised_sessions_10_weeks, concern_type, vulnerable, "
        "done_so_far, stage, persistent_absence, severe_absence, consider_penalty_notice, "
        "status, form_id, raised_at, updated_at) values "
        f"({concern_id}, {trust_id}, {school_id}, 'AB', '5', 88.5, 4, 'persistent', '[]', '', "
        f"'monitor', true, false, false, 'open', '{form_id}', '2026-11-02', '2026-11-02')"
    )


def _event(event_id: int, concern_id: int, kind: str, form_id: str | None) -> str:
    form = f"'{form_id}'" if form_id else "NULL"
    return (
        "insert into concern_event (id, concern_id, at, by_person_id, kind, stage, text, form_id) "
        f"values ({event_id}, {concern_id}, '2026-11-0{event_id} 10:00:00+00', 1, '{kind}', "
        f"'monitor', '', {form})"
    )


def _seed_0008(url: str, schema: str | None) -> None:
    statements = [
        "insert into trust (id, tenant_id, name, created_at) values (1, 't1', 'T1', '2026-01-01')",
        "insert into trust (id, tenant_id, name, created_at) values (2, 't2', 'T2', '2026-01-01')",
        "insert into school (id, trust_id, urn, name, phase) values (1, 1, '100001', 'A', 'x')",
        "insert into school (id, trust_id, urn, name, phase) values (2, 2, '100002', 'B', 'x')",
        "insert into person (id, trust_id, aad_object_id, email, display_name) "
        "values (1, 1, 'p', 'p@x.org', 'P')",
        _concern(1, 1, 1, FORM),
        _event(1, 1, "raised", None),
        # One update card moved the stage and set a review: two events, one card.
        _event(2, 1, "stage", UPDATE_CARD),
        _event(3, 1, "review", UPDATE_CARD),
        _event(4, 1, "closed", CLOSE_CARD),
    ]
    assert asyncio.run(execute_sql(url, schema, *statements)) is None


def test_0009_records_each_card_applied_to_a_concern_once(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0008")
    _seed_0008(url, schema)

    upgrade_sync(url, schema, "0009")

    changes = asyncio.run(
        rows_of(
            url,
            schema,
            "select trust_id, concern_id, kind, by_person_id, form_id from concern_change "
            "order by form_id",
        )
    )
    assert changes == [(1, 1, "update", 1, UPDATE_CARD), (1, 1, "close", 1, CLOSE_CARD)]


def test_0009_form_ids_are_unique_per_trust(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0008")
    _seed_0008(url, schema)
    # Before: one form id across every trust.
    assert asyncio.run(fails(url, schema, _concern(2, 2, 2, FORM)))
    upgrade_sync(url, schema, "0009")

    # After: another trust's form may carry the same id; the same trust's may not.
    assert asyncio.run(execute_sql(url, schema, _concern(2, 2, 2, FORM))) is None
    assert asyncio.run(fails(url, schema, _concern(3, 1, 1, FORM)))
    change = (
        "insert into concern_change (trust_id, concern_id, kind, by_person_id, form_id, at) "
        f"values (1, 1, 'update', 1, '{UPDATE_CARD}', '2026-11-09')"
    )
    assert asyncio.run(fails(url, schema, change))


def test_0009_downgrades(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    upgrade_sync(url, schema, "0008")
    _seed_0008(url, schema)
    upgrade_sync(url, schema, "0009")

    command.downgrade(alembic_config(url, schema), "0008")

    kinds = asyncio.run(rows_of(url, schema, "select kind from concern_event order by id"))
    assert kinds == [("raised",), ("stage",), ("review",), ("closed",)]
    assert asyncio.run(fails(url, schema, _concern(2, 2, 2, FORM)))
