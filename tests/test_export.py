"""`waypoint export`: the demo trust's star schema for Power BI, as CSV files and as a
workbook, with nothing private in either (issue 17, item 4)."""

from __future__ import annotations

import csv
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.cli import main as waypoint
from storage.demo import DEMO_TENANT_ID, load_demo
from storage.directory import add_trust
from storage.engine import Sessions
from storage.export import TABLES, export_workbook
from storage.models import (
    ActionEvent,
    AttendanceConcern,
    AuditEvent,
    CoachingSession,
    ConcernEvent,
    Person,
    PersonRole,
    QaSummary,
    School,
    SchoolAction,
    SchoolCategorisation,
    Trust,
    Visit,
)
from tests.support import in_store

pytestmark = pytest.mark.storage

# Written into the demo trust where only coach and coachee, or the school's attendance
# staff, may read it: none may reach an export file.
SECRETS = {
    "coaching note": "ZEBRA-NOTE-7781",
    "action step": "QUOKKA-STEP-4410",
    "pupil reference": "PR-XYZ-9931",
    "done so far": "NARWHAL-DONE-5521",
    "concern event text": "OCELOT-EVENT-1204",
    "year group": "Y99",
    "visit strengths": "HERON-STRENGTH-3302",
    "action progress note": "IBEX-PROGRESS-8813",
    "categorisation rationale": "LYNX-RATIONALE-6620",
    "qa strengths": "TAPIR-QA-1147",
}

COLUMNS = {
    "dim_schools": ["school_id", "urn", "name", "hub", "phase"],
    "dim_people": ["person_id", "display_name"],
    "fact_coaching_sessions": [
        "coaching_session_id",
        "school_id",
        "coach_id",
        "coachee_id",
        "held_on",
        "term_key",
        "strand_id",
        "strand",
        "status",
    ],
    "fact_attendance_weekly": [
        "school_id",
        "week_starting",
        "term_key",
        "stage",
        "concerns_raised",
        "still_open",
        "persistent_absence",
        "severe_absence",
    ],
}


def _demo_with_secrets(url: str) -> dict[str, int]:
    """Load the demo trust, write the secrets into its private text, and count what
    the export should hold."""

    async def work(sessions: Sessions) -> dict[str, int]:
        async with sessions.begin() as session:
            trust = await load_demo(session)
            await _write_secrets(session, trust.id)
        async with sessions() as session:
            return await _store_counts(session, trust.id)

    return in_store(url, work)


async def _first_id(session: AsyncSession, column: Any) -> int:
    found = await session.scalar(select(func.min(column)))
    assert found is not None, f"the demo trust has no {column}"
    return int(found)


async def _write_secrets(session: AsyncSession, trust_id: int) -> None:
    coaching = await _first_id(session, CoachingSession.id)
    await session.execute(
        update(CoachingSession)
        .where(CoachingSession.id == coaching)
        .values(notes=SECRETS["coaching note"], action_step=SECRETS["action step"])
    )
    concern = await _first_id(session, AttendanceConcern.id)
    await session.execute(
        update(AttendanceConcern)
        .where(AttendanceConcern.id == concern)
        .values(
            pupil_ref=SECRETS["pupil reference"],
            done_so_far=SECRETS["done so far"],
            year_group=SECRETS["year group"],
        )
    )
    session.add(ConcernEvent(concern_id=concern, kind="action", text=SECRETS["concern event text"]))
    visit = await _first_id(session, Visit.id)
    await session.execute(
        update(Visit).where(Visit.id == visit).values(strengths=SECRETS["visit strengths"])
    )
    action = await _first_id(session, SchoolAction.id)
    session.add(
        ActionEvent(
            action_id=action, kind="note", value="note", note=SECRETS["action progress note"]
        )
    )
    categorisation = await _first_id(session, SchoolCategorisation.id)
    await session.execute(
        update(SchoolCategorisation)
        .where(SchoolCategorisation.id == categorisation)
        .values(rationale=SECRETS["categorisation rationale"])
    )
    summary = await _first_id(session, QaSummary.id)
    await session.execute(
        update(QaSummary).where(QaSummary.id == summary).values(strengths=SECRETS["qa strengths"])
    )


async def _store_counts(session: AsyncSession, trust_id: int) -> dict[str, int]:
    async def count(model: Any, *where: Any) -> int:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query) or 0)

    return {
        "dim_schools": await count(School, School.trust_id == trust_id),
        "dim_people": await count(Person, Person.trust_id == trust_id),
        "dim_person_roles": await count(
            PersonRole.__table__.join(Person.__table__), Person.trust_id == trust_id
        ),
        "fact_categorisations": await count(
            SchoolCategorisation, SchoolCategorisation.trust_id == trust_id
        ),
        "fact_visits": await count(Visit, Visit.trust_id == trust_id),
        "fact_actions": await count(SchoolAction, SchoolAction.trust_id == trust_id),
        "fact_action_events": await count(
            ActionEvent.__table__.join(SchoolAction.__table__),
            SchoolAction.trust_id == trust_id,
            ActionEvent.kind.in_(("rag", "status")),
        ),
        "fact_qa_summaries": await count(QaSummary, QaSummary.trust_id == trust_id),
        "fact_coaching_sessions": await count(
            CoachingSession, CoachingSession.trust_id == trust_id
        ),
        "concerns": await count(AttendanceConcern, AttendanceConcern.trust_id == trust_id),
    }


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def _as_csv_text(value: Any) -> str:
    """A workbook cell as the CSV file spells it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _audit_exports(url: str) -> list[tuple[int | None, str]]:
    async def work(sessions: Sessions) -> list[tuple[int | None, str]]:
        async with sessions() as session:
            rows = await session.execute(
                select(AuditEvent.person_id, AuditEvent.outcome).where(
                    AuditEvent.action == "export"
                )
            )
            return [(person, outcome) for person, outcome in rows]

    return in_store(url, work)


def _export(folder: Path, *extra: str) -> int:
    return waypoint(["export", "--tenant-id", DEMO_TENANT_ID, "--out", str(folder), *extra])


def test_the_demo_trust_exports_every_table_as_csv_and_the_same_rows_as_a_workbook(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = _demo_with_secrets(store_env)
    assert _export(tmp_path / "csv") == 0
    said = capsys.readouterr().out
    assert _export(tmp_path / "xlsx", "--format", "xlsx") == 0
    assert f"to {tmp_path / 'xlsx' / 'waypoint.xlsx'}:" in capsys.readouterr().out

    tables = {table.name: _read_csv(tmp_path / "csv" / f"{table.name}.csv") for table in TABLES}
    assert sorted(path.name for path in (tmp_path / "csv").iterdir()) == sorted(
        f"{name}.csv" for name in tables
    )
    for table in TABLES:
        assert tables[table.name][0] == list(table.columns), table.name
        # What the command printed is what the file holds.
        assert f"{table.name}: {len(tables[table.name]) - 1} rows" in said
    for name, columns in COLUMNS.items():
        assert tables[name][0] == columns

    # The row counts are the store's.
    for name, expected in counts.items():
        if name.startswith(("dim_", "fact_")):
            assert len(tables[name]) - 1 == expected, name
    assert counts["fact_coaching_sessions"] > 20 and counts["fact_visits"] > 5
    weekly = tables["fact_attendance_weekly"]
    raised = weekly[0].index("concerns_raised")
    assert sum(int(row[raised]) for row in weekly[1:]) == counts["concerns"] > 0
    schools = {row[2] for row in tables["dim_schools"][1:]}
    assert "Brontë Academy" in schools and len(schools) == 6
    # Every school a fact names is in the schools dimension.
    school_ids = {row[0] for row in tables["dim_schools"][1:]}
    for name in ("fact_visits", "fact_coaching_sessions", "fact_actions"):
        column = tables[name][0].index("school_id")
        assert {row[column] for row in tables[name][1:]} <= school_ids, name
    # Dates are ISO days, and every term a fact names is in the terms dimension.
    held_on = tables["fact_coaching_sessions"][0].index("held_on")
    assert all(date.fromisoformat(row[held_on]) for row in tables["fact_coaching_sessions"][1:])
    term_keys = {row[0] for row in tables["dim_terms"][1:]}
    for name in ("fact_visits", "fact_coaching_sessions", "fact_qa_summaries"):
        column = tables[name][0].index("term_key")
        assert {row[column] for row in tables[name][1:]} - {""} <= term_keys, name

    # The workbook: a sheet per table, the same rows as the CSV files.
    workbook = openpyxl.load_workbook(tmp_path / "xlsx" / "waypoint.xlsx", read_only=True)
    assert workbook.sheetnames == [table.name for table in TABLES]
    for table in TABLES:
        # A read-only sheet drops a row's trailing empty cells: padded back here.
        width = len(table.columns)
        rows = [
            [_as_csv_text(value) for value in row] + [""] * (width - len(row))
            for row in workbook[table.name].iter_rows(values_only=True)
        ]
        assert rows == tables[table.name], table.name
    workbook.close()

    # Nothing private in any file: not in the CSVs, nor in any part of the workbook.
    texts = {path.name: path.read_text(encoding="utf-8-sig") for path in tmp_path.glob("csv/*")}
    with zipfile.ZipFile(tmp_path / "xlsx" / "waypoint.xlsx") as archive:
        texts |= {part: archive.read(part).decode("utf-8") for part in archive.namelist()}
    for what, secret in SECRETS.items():
        leaks = [name for name, text in texts.items() if secret in text]
        assert not leaks, f"the {what} is in {leaks}"

    # Both exports are on the audit trail, by no person (the command line).
    assert _audit_exports(store_env) == [(None, "ok"), (None, "ok")]


def test_an_unknown_tenant_writes_nothing(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo_with_secrets(store_env)
    folder = tmp_path / "out"
    code = waypoint(["export", "--tenant-id", "not-a-tenant", "--out", str(folder)])
    assert code == 1
    assert "no trust with tenant id not-a-tenant" in capsys.readouterr().err
    assert not folder.exists()
    assert _audit_exports(store_env) == []


def test_a_folder_that_cannot_be_written_is_said_and_not_audited(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo_with_secrets(store_env)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for extra in ((), ("--format", "xlsx")):
        assert _export(blocker / "export", *extra) == 1
        assert f"cannot write to {blocker / 'export'}" in capsys.readouterr().err
    assert _audit_exports(store_env) == []


async def test_the_workbook_takes_as_many_statements_for_one_school_as_for_six(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    async with sessions.begin() as session:
        demo = await load_demo(session)
        small = await add_trust(
            session, tenant_id="small-trust", name="Small Trust", framework_key="five-categories"
        )
        session.add(School(trust_id=small.id, urn="100001", name="Only School", phase="primary"))

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        sizes = {}
        for trust in (demo, small):
            statements.clear()
            async with sessions() as session:
                content = await export_workbook(session, trust_id=trust.id)
            sizes[trust.name] = len(statements)
            assert content[:2] == b"PK"  # an XLSX is a zip archive
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert sizes[demo.name] == sizes["Small Trust"] <= len(TABLES) + 4
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Trust)) == 2


EVIL_SCHOOL = '=HYPERLINK("https://evil.example","Oak")'
EVIL_PERSON = "@SUM(1+1)"


def test_a_name_that_looks_like_a_formula_stays_text_in_both_files(
    store_env: str, tmp_path: Path
) -> None:
    async def work(sessions: Sessions) -> None:
        async with sessions.begin() as session:
            await load_demo(session)
            school = await _first_id(session, School.id)
            await session.execute(
                update(School).where(School.id == school).values(name=EVIL_SCHOOL)
            )
            person = await _first_id(session, Person.id)
            await session.execute(
                update(Person).where(Person.id == person).values(display_name=EVIL_PERSON)
            )

    in_store(store_env, work)
    assert _export(tmp_path / "csv") == 0
    assert _export(tmp_path / "xlsx", "--format", "xlsx") == 0

    # CSV: Excel evaluates a field starting with =, +, -, @: a quote keeps it text.
    schools = [row[2] for row in _read_csv(tmp_path / "csv" / "dim_schools.csv")]
    assert "'" + EVIL_SCHOOL in schools and EVIL_SCHOOL not in schools
    people = [row[1] for row in _read_csv(tmp_path / "csv" / "dim_people.csv")]
    assert "'" + EVIL_PERSON in people

    # XLSX: a text cell holding exactly the name, and no formula anywhere.
    path = tmp_path / "xlsx" / "waypoint.xlsx"
    workbook = openpyxl.load_workbook(path)
    cells = [cell for row in workbook["dim_schools"].iter_rows() for cell in row]
    evil = [cell for cell in cells if cell.value == EVIL_SCHOOL]
    assert len(evil) == 1 and evil[0].data_type == "s"
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if "worksheets/" in n]
    assert sheets and not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
