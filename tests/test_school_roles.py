"""A role belongs to a school: head of one school and teacher at another has a
teacher's reach at the second. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage.attendance.concerns import ConcernDetails, raise_concern
from storage.imports.people import import_people
from storage.models import (
    Person,
    PersonRole,
    QaSummary,
    School,
    SchoolAction,
    Trust,
)
from tests.support import TENANT, Seeded, Served, serve, shown_in

SETTINGS = Settings(_env_file=None)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

# Head of Oakfield (A), a teacher at St Mary's (B).
DUAL = "cccccccc-0000-4000-8000-000000000001"
# Attendance lead of Oakfield only.
LEAD_A = "cccccccc-0000-4000-8000-000000000002"
# Attendance lead for the whole trust.
LEAD_TRUST = "cccccccc-0000-4000-8000-000000000003"
# Subject lead at St Mary's: the author of its QA summary.
AUTHOR_B = "cccccccc-0000-4000-8000-000000000004"

PUPILS = {"A": "AQ1001", "B": "BQ2002", "C": "CQ3003"}
URNS = {"A": "100001", "B": "100002", "C": "100003"}
NAMES = {"A": "Oakfield Primary", "B": "St Mary's C of E", "C": "Brook Academy"}
PEOPLE_HEADER = "aad_object_id,email,display_name,roles,schools,subjects\n"


@dataclass
class World(Served):
    """Three schools of one trust, a concern, an action and a QA summary at each; people
    whose roles differ from school to school."""

    concerns: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    summaries: dict[str, int] = field(default_factory=dict)

    async def refusals(self) -> list[tuple[str, int | None]]:
        return [(e.action, e.school_id) for e in await self.audit() if e.outcome == "refused"]

    async def action(self, key: str) -> tuple[str, str | None]:
        async with self.sessions() as session:
            row = await session.get(SchoolAction, self.actions[key])
            assert row is not None
            return row.status, row.rag


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> tuple[Seeded, dict[str, Any]]:
    async with sessions.begin() as session:
        trust = Trust(tenant_id=TENANT, name="Test Trust")
        session.add(trust)
        await session.flush()
        schools: dict[str, int] = {}
        for key, urn in URNS.items():
            school = School(trust_id=trust.id, urn=urn, name=NAMES[key], phase="primary")
            session.add(school)
            await session.flush()
            schools[key] = school.id
        people: dict[str, int] = {}
        for aad, name, roles in (
            (DUAL, "Dana Dual", [("head", "A"), ("teacher", "B")]),
            (LEAD_A, "Ali Lead", [("attendance_lead", "A")]),
            (LEAD_TRUST, "Tara Trustwide", [("attendance_lead", None)]),
            (AUTHOR_B, "Bea Author", [("subject_lead", "B"), ("teacher", "B")]),
        ):
            person = Person(
                trust_id=trust.id,
                aad_object_id=aad,
                email=f"{name.split()[0].lower()}@example.org",
                display_name=name,
            )
            person.roles = [
                PersonRole(role=role, school_id=schools[at] if at else None) for role, at in roles
            ]
            session.add(person)
            await session.flush()
            people[aad] = person.id
        concerns: dict[str, int] = {}
        actions: dict[str, int] = {}
        summaries: dict[str, int] = {}
        for key, school_id in schools.items():
            concern, _ = await raise_concern(
                session,
                trust_id=trust.id,
                raised_by=people[LEAD_TRUST],
                form_id=f"{key * 32}".lower()[:32].ljust(32, "0"),
                details=ConcernDetails(
                    school_id=school_id,
                    pupil_ref=PUPILS[key],
                    year_group="Y4",
                    attendance_percent=Decimal("86.5"),
                    unauthorised_sessions=4,
                    concern_type="persistent",
                    vulnerable=[],
                    done_so_far="",
                    stage="monitor",
                ),
                raised_at=NOW,
                today=NOW.date(),
            )
            concerns[key] = concern.id
            action = SchoolAction(
                trust_id=trust.id,
                school_id=school_id,
                description=f"Action at {NAMES[key]}",
                due_on=date(2027, 1, 15),
                status="open",
            )
            summary = QaSummary(
                trust_id=trust.id,
                school_id=school_id,
                subject="History",
                academic_year="2026-27",
                term=1,
                term_name="Autumn",
                version=1,
                author_id=people[AUTHOR_B] if key == "B" else None,
                strengths=f"Strengths seen at {NAMES[key]}",
                areas_for_development="Retrieval",
                evidence=["deep dive"],
                judgement="green",
                form_id=f"qa-{key}",
            )
            session.add_all([action, summary])
            await session.flush()
            actions[key], summaries[key] = action.id, summary.id
    seeded = Seeded(trust.id, schools, people)
    return seeded, {"concerns": concerns, "actions": actions, "summaries": summaries}


@pytest.fixture
async def world(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[World]:
    seeded, records = await _seed(sessions)
    async with serve(engine, sessions, seeded, settings=SETTINGS, kind=World, **records) as served:
        yield served


# -- attendance ---------------------------------------------------------------------


async def test_head_at_one_school_and_teacher_at_another_lists_only_their_own_concerns(
    world: World,
) -> None:
    listed = shown_in(await world.say("concerns", DUAL))
    assert PUPILS["A"] in listed
    assert PUPILS["B"] not in listed and PUPILS["C"] not in listed

    # Named, St Mary's gives a teacher's answer: counts, never a pupil.
    at_b = shown_in(await world.say("concerns St Mary's", DUAL))
    assert PUPILS["B"] not in at_b
    assert "St Mary's" in at_b


async def test_head_at_one_school_and_teacher_at_another_cannot_open_the_others_concern(
    world: World,
) -> None:
    opened = shown_in(
        await world.execute("attendance.open", {"concern_id": world.concerns["A"]}, DUAL)
    )
    assert PUPILS["A"] in opened

    refused = shown_in(
        await world.execute("attendance.open", {"concern_id": world.concerns["B"]}, DUAL)
    )
    assert PUPILS["B"] not in refused
    assert "don't have access" in refused
    assert ("attendance.view", world.schools["B"]) in await world.refusals()


async def test_an_attendance_lead_of_one_school_reaches_only_that_school(world: World) -> None:
    listed = shown_in(await world.say("concerns", LEAD_A))
    assert PUPILS["A"] in listed
    assert PUPILS["B"] not in listed and PUPILS["C"] not in listed
    refused = shown_in(
        await world.execute("attendance.open", {"concern_id": world.concerns["C"]}, LEAD_A)
    )
    assert PUPILS["C"] not in refused and "don't have access" in refused


async def test_a_trust_wide_attendance_lead_reaches_every_school(world: World) -> None:
    listed = shown_in(await world.say("concerns", LEAD_TRUST))
    assert all(pupil in listed for pupil in PUPILS.values())
    opened = shown_in(
        await world.execute("attendance.open", {"concern_id": world.concerns["C"]}, LEAD_TRUST)
    )
    assert PUPILS["C"] in opened


# -- QA -----------------------------------------------------------------------------


async def test_head_at_one_school_reads_its_qa_summary_but_not_the_other_schools(
    world: World,
) -> None:
    own = shown_in(await world.execute("qa.show", {"summary_id": world.summaries["A"]}, DUAL))
    assert "Strengths seen at Oakfield Primary" in own

    other = shown_in(await world.execute("qa.show", {"summary_id": world.summaries["B"]}, DUAL))
    assert "Strengths seen at St Mary's" not in other
    assert "don't have access" in other
    # Its author still reads it.
    authored = shown_in(
        await world.execute("qa.show", {"summary_id": world.summaries["B"]}, AUTHOR_B)
    )
    assert "Strengths seen at St Mary's" in authored


async def test_head_at_one_school_cannot_read_the_other_schools_qa_status(world: World) -> None:
    typed = shown_in(await world.say("qa status St Mary's", DUAL))
    assert "don't have access to that school's QA summaries" in typed
    pressed = shown_in(await world.execute("qa.status", {"school_id": world.schools["B"]}, DUAL))
    assert "don't have access to that school's QA summaries" in pressed
    assert [a for a in await world.refusals() if a[0] == "qa.status"] == [
        ("qa.status", world.schools["B"]),
        ("qa.status", world.schools["B"]),
    ]


# -- coaching coverage ----------------------------------------------------------------


async def test_head_at_one_school_sees_coverage_of_that_school_only(world: World) -> None:
    refused = shown_in(await world.say("coverage St Mary's", DUAL))
    assert "You don't have access to coaching coverage for St Mary's C of E" in refused

    own = shown_in(await world.say("coverage", DUAL))
    assert "Coaching coverage — Oakfield Primary" in own
    assert "St Mary's" not in own


# -- actions ------------------------------------------------------------------------


async def test_head_at_one_school_lists_and_changes_only_that_schools_actions(
    world: World,
) -> None:
    listed = shown_in(await world.say("my actions", DUAL))
    assert "Action at Oakfield Primary" in listed
    assert "Action at St Mary's C of E" not in listed

    b = world.actions["B"]
    refused = shown_in(await world.execute("actions.done", {"action_id": b}, DUAL))
    assert "don't have access" in refused
    refused = shown_in(
        await world.execute("actions.update", {"action_id": b, f"rag_{b}": "red"}, DUAL)
    )
    assert "don't have access" in refused
    assert await world.action("B") == ("open", None)
    assert [a for a in await world.refusals() if a[0].startswith("actions.")] == [
        ("actions.done", world.schools["B"]),
        ("actions.update", world.schools["B"]),
    ]

    done = shown_in(await world.execute("actions.done", {"action_id": world.actions["A"]}, DUAL))
    assert "Marked done, awaiting the adviser's rating: Action at Oakfield Primary" in done
    assert await world.action("A") == ("done", None)


# -- removing a school by re-import -----------------------------------------------------


async def test_reimporting_a_person_without_a_school_removes_their_access_there(
    world: World,
) -> None:
    # Dana keeps only her St Mary's teaching: Oakfield, her last school as head, goes.
    async with world.sessions.begin() as session:
        await import_people(
            session,
            trust_id=world.trust_id,
            csv_text=PEOPLE_HEADER + f"{DUAL},dana@example.org,Dana Dual,teacher@100002,,\n",
        )
    listed = shown_in(await world.say("concerns", DUAL))
    assert PUPILS["A"] not in listed
    refused = shown_in(
        await world.execute("attendance.open", {"concern_id": world.concerns["A"]}, DUAL)
    )
    assert PUPILS["A"] not in refused and "don't have access" in refused
    refused = shown_in(await world.execute("actions.done", {"action_id": world.actions["A"]}, DUAL))
    assert await world.action("A") == ("open", None)


async def test_an_attendance_lead_who_loses_their_school_gains_no_trust_wide_reach(
    world: World,
) -> None:
    # Ali stays in Waypoint as a teacher at Brook, no longer attendance lead anywhere:
    # no school left for the role is not "every school".
    async with world.sessions.begin() as session:
        await import_people(
            session,
            trust_id=world.trust_id,
            csv_text=PEOPLE_HEADER + f"{LEAD_A},ali@example.org,Ali Lead,teacher,100003,\n",
        )
    listed = shown_in(await world.say("concerns", LEAD_A))
    assert not any(pupil in listed for pupil in PUPILS.values())
