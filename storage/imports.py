"""CSV imports of a trust's schools and people (`waypoint import schools|people FILE`).

An import is all or nothing. Every row is checked first: on its own (the row models
`SchoolRow` and `PersonRow`), against the rest of the file (no URN, object id or email
twice) and against the trust (a person's schools must be schools of the same trust).
Any problem rejects the whole file: `ImportRejected` lists every problem as
"line N: reason", N being the physical line in the file (the header is line 1), and
nothing has been written to the session.

A clean file is applied as an upsert, rows matched by URN (schools) or Entra object id
(people) within the trust:

- a row the trust does not have yet is created;
- a row that differs from what is stored replaces it: for a person the display name,
  email, roles (each at its school, storage.people_roles) and subjects all become
  exactly what the row says, so a school left out of the row is a school where the
  person no longer holds a role, and a person with no school left reaches none;
- a row that matches what is stored is left untouched, so importing the same file
  again reports 0 created, 0 updated and every row unchanged.

Schools and people that are not in the file are left alone: an import creates and
updates, it never deletes. Removing a school or a person is a separate, deliberate act.

A file with a header and no rows is a valid import that changes nothing (a report of
zeros); a file without even a header is rejected, since it is almost certainly the
wrong file.

Spreadsheets are forgiven their habits: a UTF-8 byte order mark, CRLF line endings,
spaces around values and column names, column names in any case and order, blank
lines and empty cells past the last column. Everything else about the layout is
strict: a missing, unknown, unnamed or repeated column rejects the file.

The import functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from storage.csv_rows import ImportRejected, RowError, csv_lines, parse_rows, quoted, repeats
from storage.models import Person, PersonRole, PersonSubject, Role, School, Trust
from storage.people_roles import (
    FOR_THE_TRUST,
    RoleAt,
    RoleItem,
    placement_problems,
    role_named,
    roles_at,
    split_item,
    with_school_ids,
)

SCHOOL_COLUMNS = ("urn", "name", "phase", "hub")
PERSON_COLUMNS = ("aad_object_id", "email", "display_name", "roles", "schools", "subjects")

# The stored spelling of each phase. Special schools and alternative provision are not
# phases in the DfE's sense, but trusts group their schools this way.
SCHOOL_PHASES = (
    "nursery",
    "primary",
    "secondary",
    "all-through",
    "special",
    "alternative provision",
    "16 plus",
)

# Lengths of the columns in storage.models, so that a long value is a row error here
# rather than a database error half-way through the flush.
SCHOOL_NAME_MAX = 200
HUB_MAX = 100
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 200
SUBJECT_MAX = 80

LIST_SEPARATOR = ";"

_URN = re.compile(r"[0-9]{5,8}")
_ENTRA_OBJECT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


# --- what a row may say ----------------------------------------------------------------


def _single_line(value: str) -> str:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must be one line of text, without line breaks or control characters")
    return value


def _urn(value: str) -> str:
    if not _URN.fullmatch(value):
        raise ValueError(f"{value!r} is not a URN (a URN is 5 to 8 digits)")
    return value


def _phase_key(value: str) -> str:
    return re.sub(r"[\s_-]+", "", value.casefold())


_PHASE_BY_KEY = {_phase_key(phase): phase for phase in SCHOOL_PHASES}


def _phase(value: str) -> str:
    phase = _PHASE_BY_KEY.get(_phase_key(value))
    if phase is None:
        raise ValueError(f"{value!r} is not a phase (phases are: {', '.join(SCHOOL_PHASES)})")
    return phase


def _entra_object_id(value: str) -> str:
    # Teams sends object ids in lower case; storing them so makes the match exact.
    lowered = value.lower()
    if not _ENTRA_OBJECT_ID.fullmatch(lowered):
        raise ValueError(
            f"{value!r} is not an Entra object id "
            "(a GUID such as 4f0c9e2a-7b1d-4c3e-9f6a-2d8b5e1a0c7f)"
        )
    return lowered


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _items(value: str) -> list[str]:
    """The items of a `;`-separated cell, each once, in the order given."""
    items: dict[str, str] = {}
    for raw in value.split(LIST_SEPARATOR):
        item = raw.strip()
        # Case-blind, so that "Maths;maths" is one subject and not two.
        if item and item.casefold() not in items:
            items[item.casefold()] = item
    return list(items.values())


Urn = Annotated[str, Field(min_length=1), AfterValidator(_urn)]
Phase = Annotated[str, Field(min_length=1), AfterValidator(_phase)]
SchoolName = Annotated[
    str, Field(min_length=1, max_length=SCHOOL_NAME_MAX), AfterValidator(_single_line)
]
Hub = Annotated[str, Field(max_length=HUB_MAX), AfterValidator(_single_line)]
EntraObjectId = Annotated[str, Field(min_length=1), AfterValidator(_entra_object_id)]
Email = Annotated[str, Field(min_length=1, max_length=EMAIL_MAX), AfterValidator(_email)]
DisplayName = Annotated[
    str, Field(min_length=1, max_length=DISPLAY_NAME_MAX), AfterValidator(_single_line)
]
Subject = Annotated[str, Field(min_length=1, max_length=SUBJECT_MAX), AfterValidator(_single_line)]


class SchoolRow(BaseModel):
    """One line of a schools file."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    urn: Urn
    name: SchoolName
    phase: Phase
    hub: Hub | None = None

    @field_validator("hub", mode="before")
    @classmethod
    def _no_hub_when_blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class PersonRow(BaseModel):
    """One line of a people file: who someone is, their roles (each at a school, or
    for the trust: storage.people_roles), schools and subjects."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    aad_object_id: EntraObjectId
    email: Email
    display_name: DisplayName
    roles: tuple[RoleItem, ...]
    schools: tuple[Urn, ...] = ()
    subjects: tuple[Subject, ...] = ()

    @field_validator("roles", mode="before")
    @classmethod
    def _parse_roles(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        items = _items(value)
        if not items:
            raise ValueError(f"at least one role is required (roles are: {', '.join(Role)})")
        parsed: dict[RoleItem, None] = {}
        unknown: list[str] = []
        problems: list[str] = []
        for item in items:
            name, urn = split_item(item)
            role = role_named(name)
            if role is None:
                unknown.append(name)
            elif urn is not None and urn != FOR_THE_TRUST and not _URN.fullmatch(urn):
                problems.append(f"{item!r}: {urn!r} is not a URN (a URN is 5 to 8 digits)")
            else:
                parsed[RoleItem(role, urn)] = None
        if unknown:
            noun = "role" if len(unknown) == 1 else "roles"
            problems.insert(0, f"unknown {noun} {quoted(unknown)} (roles are: {', '.join(Role)})")
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(parsed)

    @property
    def role_names(self) -> frozenset[Role]:
        return frozenset(item.role for item in self.roles)

    @property
    def urns(self) -> list[str]:
        """Every URN the row names, in its schools and after its roles' @."""
        named = list(self.schools) + [
            item.urn for item in self.roles if item.urn not in (None, FOR_THE_TRUST)
        ]
        return list(dict.fromkeys(named))

    @property
    def held(self) -> frozenset[RoleAt]:
        return roles_at(self.roles, self.schools)

    @field_validator("schools", "subjects", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        return _items(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _reach_fits_roles(self) -> PersonRow:
        problems = []
        leads_a_subject = Role.subject_lead in self.role_names
        if leads_a_subject and not self.subjects:
            problems.append("a subject_lead needs at least one subject in subjects")
        if self.subjects and not leads_a_subject:
            problems.append(
                "subjects are only for subject leads: add the subject_lead role "
                "or leave subjects empty"
            )
        problems += placement_problems(self.roles, self.schools)
        if problems:
            raise ValueError("; ".join(problems))
        return self


# --- reading and checking a file -------------------------------------------------------


async def _require_trust(session: AsyncSession, trust_id: int) -> None:
    if await session.get(Trust, trust_id) is None:
        raise ValueError(f"there is no trust with id {trust_id}")


# --- schools ---------------------------------------------------------------------------


async def import_schools(session: AsyncSession, *, trust_id: int, csv_text: str) -> ImportReport:
    """Create or update the trust's schools from a `urn,name,phase,hub` file."""
    await _require_trust(session, trust_id)
    lines, errors = csv_lines(csv_text, SCHOOL_COLUMNS)
    rows, row_errors = parse_rows(lines, SchoolRow)
    errors += row_errors + repeats(rows, "urn", lambda row: row.urn)
    if errors:
        raise ImportRejected(errors)

    stored = {
        school.urn: school
        for school in await session.scalars(select(School).where(School.trust_id == trust_id))
    }
    newcomers: list[SchoolRow] = []
    updated = unchanged = 0
    for _, row in rows:
        school = stored.get(row.urn)
        if school is None:
            newcomers.append(row)
        elif (school.name, school.phase, school.hub) == (row.name, row.phase, row.hub):
            unchanged += 1
        else:
            school.name, school.phase, school.hub = row.name, row.phase, row.hub
            updated += 1
    await session.flush()
    if newcomers:
        # One multi-row insert: the unit of work would insert them one by one on SQLite.
        await session.execute(
            insert(School),
            [{"trust_id": trust_id, **row.model_dump()} for row in newcomers],
        )
    return ImportReport(created=len(newcomers), updated=updated, unchanged=unchanged)


# --- people ----------------------------------------------------------------------------


async def import_people(session: AsyncSession, *, trust_id: int, csv_text: str) -> ImportReport:
    """Create or update the trust's people from an
    `aad_object_id,email,display_name,roles,schools,subjects` file."""
    await _require_trust(session, trust_id)
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
