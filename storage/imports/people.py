"""Importing a trust's people from an
`aad_object_id,email,display_name,roles,schools,subjects` file: created or updated by
Entra object id, each person's roles and subjects becoming exactly what their row says.

A trust can hold thousands of people: what is stored is read in three queries for the
whole trust, and new people, roles and subjects are written in multi-row inserts,
rather than a few statements per person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from storage.csv_rows import ImportRejected, RowError, csv_lines, parse_rows, repeats
from storage.imports import ImportReport, require_trust
from storage.imports.rows import PERSON_COLUMNS, PersonRow
from storage.models import Person, PersonRole, PersonSubject, School
from storage.people_roles import FOR_THE_TRUST, with_school_ids


async def import_people(session: AsyncSession, *, trust_id: int, csv_text: str) -> ImportReport:
    """Create or update the trust's people from an
    `aad_object_id,email,display_name,roles,schools,subjects` file."""
    await require_trust(session, trust_id)
    lines, errors = csv_lines(csv_text, PERSON_COLUMNS)
    rows, row_errors = parse_rows(lines, PersonRow)
    errors += row_errors
    errors += repeats(rows, "aad_object_id", lambda row: row.aad_object_id)
    errors += repeats(rows, "email", lambda row: row.email.casefold())

    school_ids = await _school_ids_by_urn(session, trust_id)
    for line, row in rows:
        # A school of another trust is as unknown here as one that does not exist.
        for column, urns in (
            ("schools", row.schools),
            ("roles", [item.urn for item in row.roles if item.urn not in (None, FOR_THE_TRUST)]),
        ):
            unknown = list(dict.fromkeys(urn for urn in urns if urn not in school_ids))
            if unknown:
                noun = "URN" if len(unknown) == 1 else "URNs"
                errors.append(
                    RowError(line, f"{column}: unknown {noun} {', '.join(unknown)} in this trust")
                )
    if errors:
        raise ImportRejected(errors)

    stored = await _people_with_reach(session, trust_id)
    newcomers: list[PersonRow] = []
    changed: list[Person] = []
    new_roles: list[dict[str, Any]] = []
    unchanged = 0
    for _, row in rows:
        person = stored.get(row.aad_object_id)
        wanted_roles = with_school_ids(row.held, school_ids)
        if person is None:
            newcomers.append(row)
        elif _as_stored(person) == _as_row(row, wanted_roles):
            unchanged += 1
        else:
            new_roles += _update(person, row, wanted_roles)
            changed.append(person)
    await session.flush()
    if new_roles:
        # One multi-row insert: the unit of work inserts a row with a generated key
        # one statement at a time on SQLite.
        await session.execute(insert(PersonRole), new_roles)
        for person in changed:
            session.expire(person, ["roles"])
    await _add_people(session, trust_id, newcomers, school_ids)
    updated = len(changed)
    return ImportReport(created=len(newcomers), updated=updated, unchanged=unchanged)


async def _add_people(
    session: AsyncSession, trust_id: int, newcomers: list[PersonRow], school_ids: dict[str, int]
) -> None:
    """Insert new people and their links in a handful of multi-row statements.

    SQLite cannot say which generated id belongs to which row of a multi-row insert,
    so the unit of work would insert people one statement each; returning the object
    id beside the id lets us pair them ourselves.
    """
    if not newcomers:
        return
    inserted = await session.execute(
        insert(Person).returning(Person.aad_object_id, Person.id),
        [
            {
                "trust_id": trust_id,
                "aad_object_id": row.aad_object_id,
                "email": row.email,
                "display_name": row.display_name,
            }
            for row in newcomers
        ],
    )
    person_ids = {aad_object_id: person_id for aad_object_id, person_id in inserted}
    links: list[tuple[type[PersonRole | PersonSubject], list[dict[str, Any]]]] = [
        (
            PersonRole,
            [
                {"person_id": person_ids[row.aad_object_id], "role": role, "school_id": school_id}
                for row in newcomers
                for role, school_id in sorted(
                    with_school_ids(row.held, school_ids), key=_role_order
                )
            ],
        ),
        (
            PersonSubject,
            [
                {"person_id": person_ids[row.aad_object_id], "subject": subject}
                for row in newcomers
                for subject in row.subjects
            ],
        ),
    ]
    for link, values in links:
        if values:
            await session.execute(insert(link), values)


async def _school_ids_by_urn(session: AsyncSession, trust_id: int) -> dict[str, int]:
    rows = await session.execute(select(School.urn, School.id).where(School.trust_id == trust_id))
    return {urn: school_id for urn, school_id in rows}


LinkT = TypeVar("LinkT", PersonRole, PersonSubject)


async def _people_with_reach(session: AsyncSession, trust_id: int) -> dict[str, Person]:
    """The trust's people by object id, their roles and subjects loaded.

    The relationships' own eager loading would batch 500 people a query; loading each
    link table once for the whole trust keeps a 6,000-person trust to three queries.
    """
    people = list(
        await session.scalars(
            select(Person)
            .where(Person.trust_id == trust_id)
            .options(lazyload(Person.roles), lazyload(Person.subjects))
        )
    )
    roles = await _links_by_person(session, PersonRole, trust_id)
    subjects = await _links_by_person(session, PersonSubject, trust_id)
    for person in people:
        set_committed_value(person, "roles", roles.get(person.id, []))
        set_committed_value(person, "subjects", subjects.get(person.id, []))
    return {person.aad_object_id: person for person in people}


async def _links_by_person(
    session: AsyncSession, link: type[LinkT], trust_id: int
) -> dict[int, list[LinkT]]:
    found = await session.scalars(
        select(link).join(Person, Person.id == link.person_id).where(Person.trust_id == trust_id)
    )
    by_person: defaultdict[int, list[LinkT]] = defaultdict(list)
    for item in found:
        by_person[item.person_id].append(item)
    return by_person


# A role as stored: its name, and its school (None for the whole trust).
_RoleKey = tuple[str, int | None]
_Reach = tuple[str, str, frozenset[_RoleKey], frozenset[str]]


def _role_order(key: _RoleKey) -> tuple[str, int]:
    return key[0], key[1] or 0


def _as_stored(person: Person) -> _Reach:
    return (
        person.email,
        person.display_name,
        frozenset((link.role, link.school_id) for link in person.roles),
        frozenset(link.subject for link in person.subjects),
    )


def _as_row(row: PersonRow, roles: frozenset[_RoleKey]) -> _Reach:
    return (row.email, row.display_name, roles, frozenset(row.subjects))


def _update(person: Person, row: PersonRow, roles: frozenset[_RoleKey]) -> list[dict[str, Any]]:
    """Make the person what the row says; the roles they gain are returned, to be
    inserted together for the whole file."""
    person.email = row.email
    person.display_name = row.display_name
    for link in [link for link in person.roles if (link.role, link.school_id) not in roles]:
        person.roles.remove(link)
    have = {(link.role, link.school_id) for link in person.roles}
    gained = [
        {"person_id": person.id, "role": role, "school_id": school_id}
        for role, school_id in sorted(roles - have, key=_role_order)
    ]
    _replace(
        person.subjects,
        set(row.subjects),
        lambda link: link.subject,
        lambda subject: PersonSubject(subject=subject),
    )
    return gained


KeyT = TypeVar("KeyT", str, int)


def _replace(
    links: list[LinkT],
    wanted: set[KeyT],
    key_of: Callable[[LinkT], KeyT],
    make: Callable[[KeyT], LinkT],
) -> None:
    """Make `links` exactly `wanted`, keeping the links that stay.

    Removing and re-adding a link that stays would delete and insert the same
    primary key in one flush, which the unit of work refuses.
    """
    for link in [link for link in links if key_of(link) not in wanted]:
        links.remove(link)
    have = {key_of(link) for link in links}
    links.extend(make(key) for key in sorted(wanted - have))
