"""A synthetic trust at scale: schools, staff, and three academic years of history.

At 200 schools: 6,013 staff (30 a school and 13 trust-wide), about 300,000
coaching sessions, 20,000 QA summaries, 30,000 attendance concerns and 20,000
actions (with their status events), and each school's categorisations. Every
figure scales with the number of schools, so 50 schools is a quarter of it.

Rows go in with executemany (one statement per table chunk; asyncpg and sqlite3
batch them), with ids chosen here, so that a table of 300,000 rows takes seconds;
on PostgreSQL the id sequences are moved past them afterwards. Random choices
come from a seeded generator: the same shape gives the same trust.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.academic_calendar import academic_year_of, default_terms
from storage.attendance.rules import CONCERN_TYPES, STAGES, VULNERABLE_GROUPS
from storage.directory import add_trust, every_role_at_every_school
from storage.models import (
    ActionEvent,
    AttendanceConcern,
    Base,
    Category,
    CoachingSession,
    CoachingStrand,
    Framework,
    Person,
    PersonRole,
    PersonSubject,
    QaSummary,
    Role,
    School,
    SchoolAction,
    SchoolCategorisation,
)
from storage.qa import EVIDENCE

SUBJECTS = (
    "English",
    "Mathematics",
    "Science",
    "History",
    "Geography",
    "Art",
    "Music",
    "Computing",
    "Design and technology",
    "Physical education",
    "Religious education",
    "Modern languages",
)
CHUNK = 5_000


@dataclass(frozen=True)
class TrustShape:
    schools: int
    years: int = 3
    # Per school, over the whole history.
    coaching_sessions: int = 1_500
    concerns: int = 150
    actions: int = 100
    # Per school: 1 head, 2 coaches, one subject lead per subject, 1 attendance lead,
    # and teachers to make up the staff.
    staff: int = 30
    subjects: int = len(SUBJECTS)
    # Trust-wide people.
    trust_leads: int = 2
    advisers: int = 10
    seed: int = 20261122


@dataclass
class SyntheticTrust:
    trust_id: int
    shape: TrustShape
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


class _Ids:
    """Primary keys handed out here, past whatever a table holds already."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    async def start(self, session: AsyncSession, model: type[Base]) -> None:
        table = _table(model)
        top = await session.scalar(select(func.max(table.c.id)))
        self._next[table.name] = int(top or 0) + 1

    def take(self, model: type[Base]) -> int:
        name = _table(model).name
        value = self._next[name]
        self._next[name] = value + 1
        return value


def _school_days(first: date, last: date) -> list[date]:
    days: list[date] = []
    day = first
    while day <= last:
        # Weekdays outside August: near enough a school's calendar for volume.
        if day.weekday() < 5 and day.month != 8:
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, hour: int = 16) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=UTC)


async def generate_trust(
    sessions: async_sessionmaker[AsyncSession],
    *,
    shape: TrustShape,
    today: date,
    tenant_id: str = "synthetic-trust",
) -> SyntheticTrust:
    started = time.perf_counter()
    rng = random.Random(shape.seed)
    first_year = academic_year_of(today) - (shape.years - 1)
    history = _school_days(date(first_year, 9, 1), today)
    rows: dict[str, list[dict[str, Any]]] = {}

    def add(model: type[Base], row: dict[str, Any]) -> None:
        rows.setdefault(_table(model).name, []).append(row)

    async with sessions.begin() as session:
        trust = await add_trust(
            session, tenant_id=tenant_id, name="Synthetic Trust", framework_key="five-categories"
        )
        trust_id = trust.id
        categories = list(
            await session.scalars(
                select(Category)
                .join(Framework, Framework.id == Category.framework_id)
                .where(Framework.trust_id == trust_id)
                .order_by(Category.rank)
            )
        )
        strands = list(
            await session.scalars(
                select(CoachingStrand.id).where(CoachingStrand.trust_id == trust_id)
            )
        )
        ids = _Ids()
        keyed: tuple[type[Base], ...] = (
            School,
            Person,
            SchoolCategorisation,
            CoachingSession,
            QaSummary,
            AttendanceConcern,
            SchoolAction,
            ActionEvent,
        )
        for model in keyed:
            await ids.start(session, model)

    def person(name: str, roles: Sequence[str], schools: Sequence[int], subject: str | None) -> int:
        person_id = ids.take(Person)
        add(
            Person,
            {
                "id": person_id,
                "trust_id": trust_id,
                "aad_object_id": f"{trust_id:04x}{person_id:028x}",
                "email": f"person{person_id}@synthetic.example",
                "display_name": name,
            },
        )
        for grant in every_role_at_every_school([Role(role) for role in roles], schools):
            add(
                PersonRole,
                {"person_id": person_id, "role": grant.role.value, "school_id": grant.school_id},
            )
        if subject:
            add(PersonSubject, {"person_id": person_id, "subject": subject})
        return person_id

    school_ids: list[int] = []
    for n in range(shape.schools):
        school_id = ids.take(School)
        school_ids.append(school_id)
        add(
            School,
            {
                "id": school_id,
                "trust_id": trust_id,
                "urn": f"{200000 + n}",
                "name": f"School {n + 1:03d} {'Primary' if n % 3 else 'Academy'}",
                "phase": "primary" if n % 3 else "secondary",
                "hub": f"Hub {n % 8 + 1}",
            },
        )
    leads = [person(f"Trust Lead {k}", ["trust_lead"], [], None) for k in range(shape.trust_leads)]
    person("Trust Admin", ["admin"], [], None)
    per_adviser = max(1, -(-shape.schools // shape.advisers))
    for k in range(shape.advisers):
        advised = school_ids[k * per_adviser : (k + 1) * per_adviser]
        if advised:
            person(f"Adviser {k}", ["sia"], advised, None)

    terms = [
        term for year in range(first_year, first_year + shape.years) for term in default_terms(year)
    ]
    past_terms = [term for term in terms if term.starts <= today]
    for school_id in school_ids:
        head = person(f"Head {school_id}", ["head"], [school_id], None)
        coaches = [
            person(f"Coach {school_id}-{k}", ["teacher", "coach"], [school_id], None)
            for k in range(2)
        ]
        subject_leads = {
            subject: person(
                f"Lead {school_id} {subject}", ["teacher", "subject_lead"], [school_id], subject
            )
            for subject in SUBJECTS[: shape.subjects]
        }
        attendance_lead = person(f"Attendance {school_id}", ["attendance_lead"], [school_id], None)
        others = shape.staff - 4 - len(subject_leads)
        teachers = [
            person(f"Teacher {school_id}-{k}", ["teacher"], [school_id], None)
            for k in range(others)
        ]
        coachees = [*coaches, *subject_leads.values(), *teachers]

        # Two standards meetings: last summer's and the one before.
        for year in (today.year - 2, today.year - 1):
            category = rng.choice(categories)
            decided = date(year, 7, rng.randint(1, 15))
            add(
                SchoolCategorisation,
                {
                    "id": ids.take(SchoolCategorisation),
                    "trust_id": trust_id,
                    "school_id": school_id,
                    "category_id": category.id,
                    "category_name": category.name,
                    "decided_on": decided,
                    "attendees": "Trust lead, adviser, head",
                    "rationale": "Standards meeting.",
                    "recorded_by": leads[0],
                    "form_id": f"synthetic-{school_id}-{year}",
                    "recorded_at": _at(decided),
                },
            )

        for _ in range(shape.coaching_sessions):
            coach = rng.choice(coaches)
            coachee = rng.choice(coachees)
            if coachee == coach:
                coachee = teachers[0]
            held_on = rng.choice(history)
            session_id = ids.take(CoachingSession)
            add(
                CoachingSession,
                {
                    "id": session_id,
                    "trust_id": trust_id,
                    "school_id": school_id,
                    "coach_id": coach,
                    "coachee_id": coachee,
                    "held_on": held_on,
                    "strand_id": rng.choice(strands),
                    "status": "held" if rng.random() < 0.9 else "cancelled",
                    "action_step": "Three retrieval questions to open every lesson.",
                    "notes": "",
                    "next_session_on": held_on + timedelta(days=14),
                    "form_id": f"{session_id:032x}",
                    "created_at": _at(held_on),
                    "updated_at": _at(held_on),
                },
            )

        for term in past_terms:
            for subject, lead in subject_leads.items():
                submit_by = min(today, term.ends + timedelta(days=14))
                if term.ends > today and rng.random() < 0.4:
                    continue  # not in yet this term
                versions = 2 if rng.random() < 0.2 else 1
                for version in range(1, versions + 1):
                    summary_id = ids.take(QaSummary)
                    submitted = submit_by - timedelta(
                        days=rng.randint(0, 20) + 5 * (versions - version)
                    )
                    add(
                        QaSummary,
                        {
                            "id": summary_id,
                            "trust_id": trust_id,
                            "school_id": school_id,
                            "subject": subject,
                            "academic_year": term.academic_year,
                            "term": term.number,
                            "term_name": term.name,
                            "version": version,
                            "author_id": lead,
                            "strengths": "Secure sequencing.",
                            "areas_for_development": "Retrieval in lower years.",
                            "evidence": rng.sample(sorted(EVIDENCE), 2),
                            "judgement": rng.choice(("red", "amber", "green", "green")),
                            "actions": "",
                            "cpd": "",
                            "form_id": f"qa{summary_id:030x}",
                            "submitted_at": _at(submitted),
                        },
                    )

        for _ in range(shape.concerns):
            concern_id = ids.take(AttendanceConcern)
            raised = rng.choice(history)
            percent = Decimal(rng.randint(3500, 9600)) / 100
            unauthorised = rng.randint(0, 16)
            still_open = (today - raised).days < 120 and rng.random() < 0.6
            closed_on = (
                None if still_open else min(today, raised + timedelta(days=rng.randint(20, 120)))
            )
            add(
                AttendanceConcern,
                {
                    "id": concern_id,
                    "trust_id": trust_id,
                    "school_id": school_id,
                    "pupil_ref": f"P{concern_id:06d}",
                    "year_group": str(rng.randint(1, 11)),
                    "attendance_percent": percent,
                    "unauthorised_sessions_10_weeks": unauthorised,
                    "concern_type": rng.choice(sorted(CONCERN_TYPES)),
                    "vulnerable": rng.sample(sorted(VULNERABLE_GROUPS), rng.randint(0, 2)),
                    "done_so_far": "Letter home; meeting with parents.",
                    "stage": rng.choice(sorted(STAGES)),
                    "persistent_absence": percent <= 90,
                    "severe_absence": percent <= 50,
                    "consider_penalty_notice": unauthorised >= 10,
                    "status": "open" if still_open else "closed",
                    "outcome": None if still_open else "improved",
                    "next_review_on": raised + timedelta(days=28) if still_open else None,
                    "raised_by": attendance_lead,
                    "form_id": f"ac{concern_id:030x}",
                    "raised_at": _at(raised, 9),
                    "updated_at": _at(raised, 9),
                    "closed_at": _at(closed_on) if closed_on else None,
                    "anonymised_at": None,
                },
            )

        for _ in range(shape.actions):
            action_id = ids.take(SchoolAction)
            created = rng.choice(history)
            due = created + timedelta(days=42)
            if due < today - timedelta(days=30):
                status = rng.choices(("done", "dropped", "open"), (80, 5, 15))[0]
            else:
                status = "open"
            add(
                SchoolAction,
                {
                    "id": action_id,
                    "trust_id": trust_id,
                    "school_id": school_id,
                    "visit_id": None,
                    "description": "Embed the reading spine in Key Stage 2.",
                    "owner_id": head,
                    "due_on": due,
                    "status": status,
                    "rag": rng.choice(("red", "amber", "green", "green", None)),
                    "created_at": _at(created),
                    "updated_at": _at(created),
                },
            )
            if status == "done":
                add(
                    ActionEvent,
                    {
                        "id": ids.take(ActionEvent),
                        "action_id": action_id,
                        "at": _at(min(today, due - timedelta(days=rng.randint(0, 20)))),
                        "by_person_id": head,
                        "kind": "status",
                        "value": "done",
                        "visit_id": None,
                    },
                )

    order: list[type[Base]] = [
        School,
        Person,
        PersonRole,
        PersonSubject,
        SchoolCategorisation,
        CoachingSession,
        QaSummary,
        AttendanceConcern,
        SchoolAction,
        ActionEvent,
    ]
    async with sessions.begin() as session:
        for model in order:
            table = _table(model)
            for chunk in _chunks(rows.get(table.name, [])):
                await session.execute(insert(table), chunk)
        if session.get_bind().dialect.name == "postgresql":
            # Ids were chosen here: move each sequence past them for later inserts.
            for model in order:
                table = _table(model)
                if "id" in table.c:
                    await session.execute(
                        text(
                            f"select setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(select max(id) from {table.name}))"
                        )
                    )
    return SyntheticTrust(
        trust_id=trust_id,
        shape=shape,
        rows={name: len(table_rows) for name, table_rows in rows.items()},
        seconds=time.perf_counter() - started,
    )
