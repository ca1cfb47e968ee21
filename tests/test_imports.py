"""CSV imports of schools and people, on SQLite and PostgreSQL (the `sessions` fixture)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.csv_rows import ImportRejected, RowError, read_csv_file
from storage.directory import add_trust
from storage.imports import ImportReport
from storage.imports.people import import_people
from storage.imports.rows import (
    DISPLAY_NAME_MAX,
    EMAIL_MAX,
    HUB_MAX,
    PERSON_COLUMNS,
    SCHOOL_NAME_MAX,
    SCHOOL_PHASES,
    SUBJECT_MAX,
)
from storage.imports.schools import import_schools
from storage.models import Person, PersonRole, PersonSubject, School

Sessions = async_sessionmaker[AsyncSession]
Importer = Callable[..., Awaitable[ImportReport]]

SCHOOLS = """urn,name,phase,hub
100001,St Mary's C of E Primary,Primary,North
100002,Ysgol Gymraeg Llwyncelyn,primary,
100003,Hillside Academy,Secondary,South
100004,"Brook Lane School, The",special,South
"""


def oid(n: int) -> str:
    """A well-formed Entra object id, distinct for each n."""
    return f"00000000-0000-4000-8000-{n:012d}"


PEOPLE = f"""aad_object_id,email,display_name,roles,schools,subjects
{oid(1)},zoe.bronte@example.org,Zoë Brontë,head,100001,
{oid(2)},sam.o'neill@example.org,Sam O'Neill,teacher;subject_lead,100001;100002,Maths;Science
{oid(3)},ada@example.org,Ada Lovelace,trust_lead,,
{oid(4)},priya@example.org,Priya Shah,coach;teacher,100003,
"""


async def new_trust(sessions: Sessions, tenant_id: str = "tenant-a") -> int:
    async with sessions() as session, session.begin():
        trust = await add_trust(
            session, tenant_id=tenant_id, name=f"Trust {tenant_id}", framework_key="five-categories"
        )
        return trust.id


async def run(sessions: Sessions, importer: Importer, trust_id: int, text: str) -> ImportReport:
    async with sessions() as session, session.begin():
        return await importer(session, trust_id=trust_id, csv_text=text)


async def rejected(
    sessions: Sessions, importer: Importer, trust_id: int, text: str
) -> list[RowError]:
    """The errors of an import that must fail, having left the session untouched."""
    async with sessions() as session, session.begin():
        with pytest.raises(ImportRejected) as caught:
            await importer(session, trust_id=trust_id, csv_text=text)
        assert not session.new and not session.dirty and not session.deleted
    return caught.value.errors


async def table_counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__name__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (School, Person, PersonRole, PersonSubject)
        }


async def stored_schools(sessions: Sessions, trust_id: int) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(School.urn, School.name, School.phase, School.hub)
            .where(School.trust_id == trust_id)
            .order_by(School.urn)
        )
        return [tuple(row) for row in rows]


async def stored_people(sessions: Sessions, trust_id: int) -> dict[str, tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(School.id, School.urn).where(School.trust_id == trust_id)
        )
        urns = {school_id: urn for school_id, urn in rows}
        people = await session.scalars(select(Person).where(Person.trust_id == trust_id))
        return {
            person.aad_object_id: (
                person.email,
                person.display_name,
                sorted({link.role for link in person.roles}),
                # The schools a person is linked to are the schools of their roles.
                sorted({urns[link.school_id] for link in person.roles if link.school_id}),
                sorted(link.subject for link in person.subjects),
            )
            for person in people
        }


def lines_of(errors: list[RowError]) -> list[int]:
    return [error.line for error in errors]


def messages_on(errors: list[RowError], line: int) -> str:
    return " | ".join(error.message for error in errors if error.line == line)


@pytest.fixture
async def trust_id(sessions: Sessions) -> int:
    """A trust with the four schools of SCHOOLS."""
    trust = await new_trust(sessions)
    await run(sessions, import_schools, trust, SCHOOLS)
    return trust


# --- schools ---------------------------------------------------------------------------


async def test_schools_are_stored_exactly_as_the_file_says(sessions: Sessions) -> None:
    trust = await new_trust(sessions)

    report = await run(sessions, import_schools, trust, SCHOOLS)

    assert report == ImportReport(created=4, updated=0, unchanged=0)
    assert await stored_schools(sessions, trust) == [
        ("100001", "St Mary's C of E Primary", "primary", "North"),
        ("100002", "Ysgol Gymraeg Llwyncelyn", "primary", None),
        ("100003", "Hillside Academy", "secondary", "South"),
        ("100004", "Brook Lane School, The", "special", "South"),
    ]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("Nursery", "nursery"),
        ("ALL-THROUGH", "all-through"),
        ("all through", "all-through"),
        ("Alternative Provision", "alternative provision"),
        ("16 Plus", "16 plus"),
        ("16-plus", "16 plus"),
        ("Secondary", "secondary"),
    ],
)
async def test_a_phase_is_accepted_in_any_case_and_stored_normalised(
    sessions: Sessions, written: str, stored: str
) -> None:
    trust = await new_trust(sessions)

    await run(sessions, import_schools, trust, f"urn,name,phase,hub\n100001,A School,{written},\n")

    assert await stored_schools(sessions, trust) == [("100001", "A School", stored, None)]


async def test_importing_the_same_schools_again_changes_nothing(
    sessions: Sessions, trust_id: int
) -> None:
    before = await stored_schools(sessions, trust_id)

    report = await run(sessions, import_schools, trust_id, SCHOOLS)

    assert report == ImportReport(created=0, updated=0, unchanged=4)
    assert await stored_schools(sessions, trust_id) == before


async def test_a_changed_school_row_updates_that_school_and_leaves_others_alone(
    sessions: Sessions, trust_id: int
) -> None:
    changed = """urn,name,phase,hub
100001,St Mary's Catholic Primary,primary,
100003,Hillside Academy,Secondary,South
100005,New Road Nursery,nursery,East
"""
    report = await run(sessions, import_schools, trust_id, changed)

    assert report == ImportReport(created=1, updated=1, unchanged=1)
    assert await stored_schools(sessions, trust_id) == [
        ("100001", "St Mary's Catholic Primary", "primary", None),
        ("100002", "Ysgol Gymraeg Llwyncelyn", "primary", None),
        ("100003", "Hillside Academy", "secondary", "South"),
        ("100004", "Brook Lane School, The", "special", "South"),
        ("100005", "New Road Nursery", "nursery", "East"),
    ]


async def test_one_bad_school_row_names_its_line_and_writes_nothing(
    sessions: Sessions, trust_id: int
) -> None:
    before = await table_counts(sessions)
    text = """urn,name,phase,hub
100001,St Mary's C of E Primary,Primary,North
200001,Good New School,primary,
20A002,Bad Urn School,primary,
200003,Another Good School,secondary,
"""
    errors = await rejected(sessions, import_schools, trust_id, text)

    assert errors == [
        RowError(4, "urn: '20A002' is not a URN (a URN is 5 to 8 digits)"),
    ]
    assert await table_counts(sessions) == before


async def test_every_bad_school_row_is_reported(sessions: Sessions) -> None:
    trust = await new_trust(sessions)
    text = f"""urn,name,phase,hub
100001,Fine School,primary,
1234,Short Urn,primary,
123456789,Long Urn,primary,
100002,Odd Phase,infant,
100001,Repeated Urn,primary,
100003,,primary,
,No Urn,primary,
100004,{"x" * 201},primary,
100005,Long Hub,primary,{"h" * 101}
100006,Missing Phase,,
100007,Too Few Values,primary
100008,Too Many,primary,,surprise
"""
    errors = await rejected(sessions, import_schools, trust, text)

    assert lines_of(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert "'1234' is not a URN" in messages_on(errors, 3)
    assert "'123456789' is not a URN" in messages_on(errors, 4)
    assert "'infant' is not a phase (phases are: nursery, primary," in messages_on(errors, 5)
    assert messages_on(errors, 6) == "urn: '100001' is already on line 2"
    assert messages_on(errors, 7) == "name is required"
    assert messages_on(errors, 8) == "urn is required"
    assert messages_on(errors, 9) == "name is longer than 200 characters"
    assert messages_on(errors, 10) == "hub is longer than 100 characters"
    assert messages_on(errors, 11) == "phase is required"
    assert messages_on(errors, 12) == "has 3 values but the header has 4 columns"
    assert messages_on(errors, 13) == "has 5 values but the header has 4 columns"
    assert await table_counts(sessions) == dict.fromkeys(
        ("School", "Person", "PersonRole", "PersonSubject"), 0
    )


async def test_several_problems_in_one_row_are_all_reported(sessions: Sessions) -> None:
    trust = await new_trust(sessions)

    errors = await rejected(sessions, import_schools, trust, "urn,name,phase,hub\nabc,,infant,\n")

    assert lines_of(errors) == [2, 2, 2]


# --- the file itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: the file is empty: it needs the header line urn,name,phase,hub"),
        ("  \n\n", "line 1: the file is empty: it needs the header line urn,name,phase,hub"),
        (
            "urn,name,phase\n100001,A,primary\n",
            "line 1: missing column 'hub' (the header should be urn,name,phase,hub)",
        ),
        (
            "urn,name,phase,hub,ofsted\n100001,A,primary,,good\n",
            "line 1: unknown column 'ofsted' (the header should be urn,name,phase,hub)",
        ),
        ("urn,name,name,phase,hub\n", "line 1: column 'name' appears more than once"),
        ("urn,name,,phase,hub\n", "line 1: column 3 has no name"),
        (
            "urn;name;phase;hub\n100001;A;primary;\n",
            "line 1: columns must be separated by commas: the header should be urn,name,phase,hub",
        ),
        (
            "\n\nschool,name,phase,hub\n",
            "line 3: unknown column 'school' (the header should be urn,name,phase,hub)\n"
            "line 3: missing column 'urn' (the header should be urn,name,phase,hub)",
        ),
    ],
)
async def test_a_bad_header_rejects_the_file(sessions: Sessions, text: str, expected: str) -> None:
    trust = await new_trust(sessions)

    async with sessions() as session:
        with pytest.raises(ImportRejected) as caught:
            await import_schools(session, trust_id=trust, csv_text=text)

    assert str(caught.value) == expected


async def test_a_header_alone_is_an_empty_import(sessions: Sessions) -> None:
    trust = await new_trust(sessions)

    assert await run(sessions, import_schools, trust, "urn,name,phase,hub\r\n") == ImportReport(
        0, 0, 0
    )
    assert await run(sessions, import_people, trust, ",".join(PERSON_COLUMNS)) == (
        ImportReport(0, 0, 0)
    )


async def test_columns_may_come_in_any_order_and_case(sessions: Sessions) -> None:
    trust = await new_trust(sessions)

    await run(sessions, import_schools, trust, " Name , URN,Hub,Phase\nA School,100001,,primary\n")

    assert await stored_schools(sessions, trust) == [("100001", "A School", "primary", None)]


async def test_bom_crlf_spaces_and_blank_lines_are_forgiven(sessions: Sessions) -> None:
    trust = await new_trust(sessions)
    text = (
        "\ufeffurn , name ,phase, hub\r\n"
        "  100001 ,  St Mary's C of E Primary  , Primary ,  North  \r\n"
        "\r\n"
        ",,,\r\n"
        "100002,Ysgol Gymraeg Llwyncelyn,primary,,,\r\n"
    )

    report = await run(sessions, import_schools, trust, text)

    assert report == ImportReport(created=2, updated=0, unchanged=0)
    assert await stored_schools(sessions, trust) == [
        ("100001", "St Mary's C of E Primary", "primary", "North"),
        ("100002", "Ysgol Gymraeg Llwyncelyn", "primary", None),
    ]


async def test_line_numbers_are_the_lines_of_the_file(sessions: Sessions) -> None:
    trust = await new_trust(sessions)
    text = (
        "urn,name,phase,hub\n"
        "\n"
        '100001,"Two\nLines",primary,\n'
        "100002,Fine,primary,\n"
        "bad,Bad,primary,\n"
    )

    errors = await rejected(sessions, import_schools, trust, text)

    assert lines_of(errors) == [3, 6]
    assert "name: must be one line of text" in messages_on(errors, 3)


async def test_a_line_the_csv_reader_cannot_read_is_reported(sessions: Sessions) -> None:
    trust = await new_trust(sessions)
    text = f"urn,name,phase,hub\n100001,Fine,primary,\n100002,{'x' * 200_000},primary,\n"

    errors = await rejected(sessions, import_schools, trust, text)

    assert lines_of(errors) == [3]
    assert errors[0].message.startswith("cannot be read as CSV: field larger than field limit")


async def test_an_import_flushes_but_leaves_the_commit_to_the_caller(sessions: Sessions) -> None:
    trust = await new_trust(sessions)

    async with sessions() as session:
        await import_schools(session, trust_id=trust, csv_text=SCHOOLS)
        await import_people(session, trust_id=trust, csv_text=PEOPLE)
        assert await session.scalar(select(func.count()).select_from(Person)) == 4
        await session.rollback()

    assert await stored_schools(sessions, trust) == []
    assert await stored_people(sessions, trust) == {}


async def test_an_unknown_trust_is_refused(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="no trust with id 999"):
            await import_schools(session, trust_id=999, csv_text=SCHOOLS)


async def test_read_csv_file_drops_the_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("urn,name,phase,hub\r\n100001,Zoë's School,primary,\r\n".encode("utf-8-sig"))

    text = read_csv_file(path)

    assert text.startswith("urn,name")
    assert "Zoë's School" in text


async def test_read_csv_file_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("urn,name,phase,hub\n100001,Zoë's School,primary,\n".encode("cp1252"))

    with pytest.raises(UnicodeDecodeError):
        read_csv_file(path)


def test_rejection_lists_every_problem_by_line() -> None:
    error = ImportRejected([RowError(7, "urn is required"), RowError(3, "name is required")])

    assert str(error) == "line 3: name is required\nline 7: urn is required"
    assert [e.line for e in error.errors] == [3, 7]


def test_length_limits_match_the_columns() -> None:
    def length(column: Any) -> int:
        column_type = column.property.columns[0].type
        assert isinstance(column_type, String)
        assert column_type.length is not None
        return column_type.length

    assert length(School.name) == SCHOOL_NAME_MAX
    assert length(School.hub) == HUB_MAX
    assert length(Person.email) == EMAIL_MAX
    assert length(Person.display_name) == DISPLAY_NAME_MAX
    assert length(PersonSubject.subject) == SUBJECT_MAX
    assert max(len(phase) for phase in SCHOOL_PHASES) <= length(School.phase)


# --- people ----------------------------------------------------------------------------


async def test_people_are_stored_exactly_as_the_file_says(
    sessions: Sessions, trust_id: int
) -> None:
    report = await run(sessions, import_people, trust_id, PEOPLE)

    assert report == ImportReport(created=4, updated=0, unchanged=0)
    assert await stored_people(sessions, trust_id) == {
        oid(1): ("zoe.bronte@example.org", "Zoë Brontë", ["head"], ["100001"], []),
        oid(2): (
            "sam.o'neill@example.org",
            "Sam O'Neill",
            ["subject_lead", "teacher"],
            ["100001", "100002"],
            ["Maths", "Science"],
        ),
        oid(3): ("ada@example.org", "Ada Lovelace", ["trust_lead"], [], []),
        oid(4): ("priya@example.org", "Priya Shah", ["coach", "teacher"], ["100003"], []),
    }


async def test_roles_and_object_ids_are_read_as_people_write_them(
    sessions: Sessions, trust_id: int
) -> None:
    upper = oid(9).upper()
    text = (
        "aad_object_id,email,display_name,roles,schools,subjects\n"
        f"{upper},kim@example.org,Kim,Subject Lead; Teacher ;teacher,100001;100001,"
        "Maths; maths ;English\n"
    )

    await run(sessions, import_people, trust_id, text)

    assert await stored_people(sessions, trust_id) == {
        oid(9): (
            "kim@example.org",
            "Kim",
            ["subject_lead", "teacher"],
            ["100001"],
            ["English", "Maths"],
        )
    }


async def test_importing_the_same_people_again_changes_nothing(
    sessions: Sessions, trust_id: int
) -> None:
    await run(sessions, import_people, trust_id, PEOPLE)
    before = await stored_people(sessions, trust_id)

    report = await run(sessions, import_people, trust_id, PEOPLE)

    assert report == ImportReport(created=0, updated=0, unchanged=4)
    assert await stored_people(sessions, trust_id) == before


async def test_a_changed_person_row_replaces_their_details_and_reach(
    sessions: Sessions, trust_id: int
) -> None:
    await run(sessions, import_people, trust_id, PEOPLE)
    changed = f"""aad_object_id,email,display_name,roles,schools,subjects
{oid(1)},zoe.bronte@example.org,Zoë Brontë,head,100001,
{oid(2)},sam.oneill@example.org,Sam O'Neill-Jones,subject_lead;coach,100002;100003,Science;History
{oid(4)},priya@example.org,Priya Shah,admin,,
"""
    report = await run(sessions, import_people, trust_id, changed)

    assert report == ImportReport(created=0, updated=2, unchanged=1)
    people = await stored_people(sessions, trust_id)
    assert people[oid(2)] == (
        "sam.oneill@example.org",
        "Sam O'Neill-Jones",
        ["coach", "subject_lead"],
        ["100002", "100003"],
        ["History", "Science"],
    )
    assert people[oid(4)] == ("priya@example.org", "Priya Shah", ["admin"], [], [])
    # Not in the file: left as they were.
    assert people[oid(3)] == ("ada@example.org", "Ada Lovelace", ["trust_lead"], [], [])
    counts = await table_counts(sessions)
    # Each role at each of its schools: head 1, Sam's two roles at two schools 4,
    # admin 1 and the untouched trust lead 1.
    assert (counts["PersonRole"], counts["PersonSubject"]) == (7, 2)


async def test_one_bad_person_row_names_its_line_and_writes_nothing(
    sessions: Sessions, trust_id: int
) -> None:
    await run(sessions, import_people, trust_id, PEOPLE)
    before_counts = await table_counts(sessions)
    before = await stored_people(sessions, trust_id)
    text = f"""aad_object_id,email,display_name,roles,schools,subjects
{oid(1)},zoe.bronte@example.org,Zoë Brontë Renamed,head,100001,
{oid(5)},new@example.org,New Person,teacher,100002,
{oid(6)},deputy@example.org,Dee Puty,deputy_head,100002,
"""
    errors = await rejected(sessions, import_people, trust_id, text)

    assert [str(error) for error in errors] == [
        "line 4: roles: unknown role 'deputy_head' (roles are: teacher, coach, subject_lead, "
        "head, attendance_lead, sia, trust_lead, admin, governor)"
    ]
    assert await table_counts(sessions) == before_counts
    assert await stored_people(sessions, trust_id) == before


async def test_every_bad_person_row_is_reported(sessions: Sessions, trust_id: int) -> None:
    text = f"""aad_object_id,email,display_name,roles,schools,subjects
{oid(1)},one@example.org,One,teacher,100001,
{oid(2)},two@example.org,Two,teacher,999999,
{oid(3)},three@example.org,Three,teacher;wizard,100001,
{oid(1)},again@example.org,Again,teacher,100001,
{oid(5)},not-an-email,Five,teacher,100001,
{oid(6)},six@example.org,Six,subject_lead,100001,
{oid(7)},seven@example.org,Seven,teacher,100001,Maths
{oid(8)},eight@example.org,Eight,head,,
not-a-guid,nine@example.org,Nine,teacher,100001,
{oid(10)},ten@example.org,,teacher,100001,
{oid(11)},ONE@example.org,Eleven,teacher,100001,
{oid(12)},twelve@example.org,Twelve,,100001,
{oid(13)},thirteen@example.org,Thirteen,teacher,10001x,
{oid(14)},fourteen@example.org,Fourteen,subject_lead,100001,{"s" * 81}
,fifteen@example.org,Fifteen,teacher,100001,
"""
    errors = await rejected(sessions, import_people, trust_id, text)

    assert sorted(set(lines_of(errors))) == list(range(3, 17))
    assert messages_on(errors, 3) == "schools: unknown URN 999999 in this trust"
    assert "unknown role 'wizard'" in messages_on(errors, 4)
    assert messages_on(errors, 5) == f"aad_object_id: '{oid(1)}' is already on line 2"
    assert messages_on(errors, 6) == "email: 'not-an-email' is not an email address"
    assert messages_on(errors, 7) == "a subject_lead needs at least one subject in subjects"
    assert messages_on(errors, 8).startswith("subjects are only for subject leads")
    assert messages_on(errors, 9) == (
        "head needs a school: write head@URN, or list the person's schools in schools"
    )
    assert "'not-a-guid' is not an Entra object id" in messages_on(errors, 10)
    assert messages_on(errors, 11) == "display_name is required"
    assert messages_on(errors, 12) == "email: 'one@example.org' is already on line 2"
    assert messages_on(errors, 13).startswith("roles: at least one role is required")
    assert messages_on(errors, 14) == "schools: '10001x' is not a URN (a URN is 5 to 8 digits)"
    assert messages_on(errors, 15) == f"subjects {'s' * 81!r} is longer than 80 characters"
    assert messages_on(errors, 16) == "aad_object_id is required"
    assert (await table_counts(sessions))["Person"] == 0


async def test_a_school_of_another_trust_is_an_unknown_urn(
    sessions: Sessions, trust_id: int
) -> None:
    other = await new_trust(sessions, "tenant-b")
    await run(sessions, import_schools, other, "urn,name,phase,hub\n300001,Elsewhere,primary,\n")
    text = f"""aad_object_id,email,display_name,roles,schools,subjects
{oid(1)},zoe.bronte@example.org,Zoë Brontë,head,100001;300001,
"""
    errors = await rejected(sessions, import_people, trust_id, text)

    assert [str(error) for error in errors] == ["line 2: schools: unknown URN 300001 in this trust"]
    assert (await table_counts(sessions))["Person"] == 0


async def test_the_same_person_in_another_trust_is_left_alone(
    sessions: Sessions, trust_id: int
) -> None:
    other = await new_trust(sessions, "tenant-b")
    await run(sessions, import_schools, other, "urn,name,phase,hub\n100001,Same URN,primary,\n")
    await run(
        sessions,
        import_people,
        other,
        PEOPLE.replace("100002", "100001").replace("100003", "100001"),
    )
    theirs = await stored_people(sessions, other)

    report = await run(sessions, import_people, trust_id, PEOPLE)

    assert report == ImportReport(created=4, updated=0, unchanged=0)
    assert await stored_people(sessions, other) == theirs


async def test_a_large_trust_imports_without_a_query_per_row(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    trust = await new_trust(sessions)
    schools = "urn,name,phase,hub\n" + "".join(
        f"{100000 + n},School {n},primary,Hub {n % 7}\n" for n in range(200)
    )
    await run(sessions, import_schools, trust, schools)

    def people(name: str, roles: str, first_school: int, subjects: str) -> str:
        header = "aad_object_id,email,display_name,roles,schools,subjects\n"
        return header + "".join(
            f"{oid(n)},p{n}@example.org,{name} {n},{roles},"
            f"{100000 + (n + first_school) % 200};{100000 + (n + 1) % 200},{subjects}\n"
            for n in range(600)
        )

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        created = await run(
            sessions, import_people, trust, people("Person", "teacher;subject_lead", 0, "Maths")
        )
        statements_to_create, statements[:] = len(statements), []
        # Every person renamed, one role and one school swapped, subjects dropped.
        updated = await run(sessions, import_people, trust, people("Renamed", "teacher", 2, ""))
        statements_to_update = len(statements)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)

    assert created == ImportReport(created=600, updated=0, unchanged=0)
    assert updated == ImportReport(created=0, updated=600, unchanged=0)
    assert statements_to_create <= 12
    assert statements_to_update <= 12
    # Each person a teacher at two schools.
    assert (await table_counts(sessions))["PersonRole"] == 1200
