"""The people CSV's `role@URN` pairs beside its roles-and-schools format, on SQLite and
PostgreSQL: what is stored, and every row that cannot be held reported by line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.imports import ImportReport
from storage.imports.people import import_people
from storage.imports.schools import import_schools
from storage.models import Person, PersonRole, School
from tests.test_imports import (
    SCHOOLS,
    Sessions,
    lines_of,
    messages_on,
    new_trust,
    oid,
    rejected,
    run,
    table_counts,
)

HEADER = "aad_object_id,email,display_name,roles,schools,subjects\n"

# (object id, role, URN or None for the whole trust)
Held = set[tuple[str, str, str | None]]


@pytest.fixture
async def trust_id(sessions: Sessions) -> int:
    trust = await new_trust(sessions)
    await run(sessions, import_schools, trust, SCHOOLS)
    return trust


async def held(sessions: Sessions, trust_id: int) -> Held:
    async with sessions() as session:
        rows = await session.execute(
            select(Person.aad_object_id, PersonRole.role, School.urn)
            .join(PersonRole, PersonRole.person_id == Person.id)
            .outerjoin(School, School.id == PersonRole.school_id)
            .where(Person.trust_id == trust_id)
        )
        return {(person, role, urn) for person, role, urn in rows}


async def test_role_at_urn_pairs_hold_each_role_at_its_own_school(
    sessions: Sessions, trust_id: int
) -> None:
    text = HEADER + (
        f"{oid(1)},dual@example.org,Dana Dual,head@100001;teacher@100002;trust_lead,,\n"
        f"{oid(2)},lead@example.org,Tara Trustwide,attendance_lead@trust,,\n"
        f"{oid(3)},al@example.org,Ali Lead,attendance_lead@100003,,\n"
        # Both formats in one row: bare roles at every listed school.
        f"{oid(4)},mix@example.org,Max Mix,subject_lead@100004;teacher,100001;100002,Art\n"
    )

    report = await run(sessions, import_people, trust_id, text)

    assert report == ImportReport(created=4, updated=0, unchanged=0)
    assert await held(sessions, trust_id) == {
        (oid(1), "head", "100001"),
        (oid(1), "teacher", "100002"),
        (oid(1), "trust_lead", None),
        (oid(2), "attendance_lead", None),
        (oid(3), "attendance_lead", "100003"),
        (oid(4), "subject_lead", "100004"),
        (oid(4), "teacher", "100001"),
        (oid(4), "teacher", "100002"),
    }
    # The same file again changes nothing.
    again = await run(sessions, import_people, trust_id, text)
    assert again == ImportReport(created=0, updated=0, unchanged=4)


async def test_roles_and_schools_keep_meaning_every_role_at_every_school(
    sessions: Sessions, trust_id: int
) -> None:
    text = HEADER + f"{oid(1)},sam@example.org,Sam,head;teacher,100001;100002,\n"

    await run(sessions, import_people, trust_id, text)

    assert await held(sessions, trust_id) == {
        (oid(1), role, urn) for role in ("head", "teacher") for urn in ("100001", "100002")
    }


async def test_a_reimport_with_fewer_schools_removes_the_roles_there(
    sessions: Sessions, trust_id: int
) -> None:
    await run(
        sessions,
        import_people,
        trust_id,
        HEADER + f"{oid(1)},sam@example.org,Sam,head;teacher,100001;100002,\n",
    )

    report = await run(
        sessions,
        import_people,
        trust_id,
        HEADER + f"{oid(1)},sam@example.org,Sam,teacher@100002,,\n",
    )

    assert report == ImportReport(created=0, updated=1, unchanged=0)
    assert await held(sessions, trust_id) == {(oid(1), "teacher", "100002")}


async def test_a_role_that_cannot_be_held_where_written_is_reported_by_line(
    sessions: Sessions, trust_id: int
) -> None:
    text = HEADER + (
        f"{oid(1)},one@example.org,One,head@100001,,\n"
        f"{oid(2)},two@example.org,Two,head@12x;teacher@100001,,\n"
        f"{oid(3)},three@example.org,Three,teacher@999999,,\n"
        f"{oid(4)},four@example.org,Four,trust_lead@100001,,\n"
        f"{oid(5)},five@example.org,Five,head@100001;coach,,\n"
        f"{oid(6)},six@example.org,Six,wizard@100001,,\n"
        f"{oid(7)},seven@example.org,Seven,subject_lead@100001,,\n"
        # An empty schools cell never makes an attendance lead trust-wide.
        f"{oid(8)},eight@example.org,Eight,attendance_lead,,\n"
        f"{oid(9)},nine@example.org,Nine,head@trust,,\n"
    )

    errors = await rejected(sessions, import_people, trust_id, text)

    assert sorted(set(lines_of(errors))) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert messages_on(errors, 3) == (
        "roles: 'head@12x': '12x' is not a URN (a URN is 5 to 8 digits)"
    )
    assert messages_on(errors, 4) == "roles: unknown URN 999999 in this trust"
    assert messages_on(errors, 5) == (
        "trust_lead is held for the whole trust: write it without @100001"
    )
    assert messages_on(errors, 6) == (
        "coach needs a school: write coach@URN, or list the person's schools in schools"
    )
    assert messages_on(errors, 7).startswith("roles: unknown role 'wizard'")
    assert messages_on(errors, 8) == "a subject_lead needs at least one subject in subjects"
    assert messages_on(errors, 9) == (
        "attendance_lead needs a school: write attendance_lead@URN, or attendance_lead@trust "
        "for the whole trust, or list the person's schools in schools"
    )
    assert messages_on(errors, 10) == ("head cannot be held for the whole trust: write head@URN")
    # Nothing written, not even line 2's good row.
    assert (await table_counts(sessions))["Person"] == 0
