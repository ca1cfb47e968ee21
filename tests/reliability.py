"""The reliability suite's world: two trusts alike in every name, every role, every record.

Trust A and trust B have the same name, the same schools (same names, same URNs)
and the same people (same names, same Entra object ids): only the tenant tells
them apart. Each holds one record of every kind at each school, and every piece
of text a person typed carries its trust's marker ("ALPHA" or "BRAVO"), so that
anything of one trust showing in the other's answers can be found.
"""

from __future__ import annotations

import itertools
import json
import logging
import traceback
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import Waypoint
from bot.logs import JsonFormatter, TextFormatter
from bot.settings import Settings
from storage.academic_calendar import QaOpen
from storage.actions import Rag
from storage.attendance.concerns import ConcernDetails, raise_concern
from storage.categories import record_categorisation
from storage.coaching.sessions import SessionDetails, record_coaching_session
from storage.directory import add_trust
from storage.models import (
    AuditEvent,
    Base,
    School,
    SchoolAction,
)
from storage.qa import QaContent, record_qa_summary
from storage.strands import active_strands
from storage.terms import qa_period
from storage.visits import record_visit
from tests.support import (
    OTHER_TENANT,
    TENANT,
    Client,
    Served,
    add_person,
    card_text,
    cards_in,
    execute,
    message,
    serve,
)

# The digest scheduler off: its writes, at the real clock's moments, would be taken
# for the writes of whichever request was running.
SETTINGS = Settings(_env_file=None, digest_scheduler=False)
# A Wednesday inside the autumn term's QA window (the term ends on Friday 18 December).
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
TRUST_NAME = "Riverside Learning Trust"
SUBJECT = "History"

ROLES = (
    "teacher",
    "coach",
    "subject_lead",
    "head",
    "attendance_lead",
    "sia",
    "trust_lead",
    "admin",
    "governor",
)
TRUST_WIDE = frozenset({"trust_lead", "admin"})

# Everyone in the matrix is at school "one" (trust-wide roles at none); the "two"
# people make school two a school with its own records.
PEOPLE: dict[str, tuple[str, list[str], str | None]] = {
    "teacher": ("Tom Teacher", ["teacher"], "one"),
    "coach": ("Cara Coach", ["coach"], "one"),
    "subject_lead": ("Sam Subject", ["subject_lead"], "one"),
    "head": ("Hana Head", ["head"], "one"),
    "attendance_lead": ("Alex Attendance", ["attendance_lead"], "one"),
    "sia": ("Sol Adviser", ["sia"], "one"),
    "trust_lead": ("Tess Lead", ["trust_lead"], None),
    "admin": ("Ada Admin", ["admin"], None),
    "teacher2": ("Tia Teacher", ["teacher"], "two"),
    "coach2": ("Cole Coach", ["coach"], "two"),
    "subject_lead2": ("Sid Subject", ["subject_lead"], "two"),
    "head2": ("Hal Head", ["head"], "two"),
    "governor": ("Gil Governor", ["governor"], "one"),
}
# The same Entra object ids in both tenants: only the tenant says who is who.
AAD = {key: f"cccccccc-0000-4000-8000-{n:012d}" for n, key in enumerate(PEOPLE, 1)}
SCHOOLS = {"one": ("100001", "Oakfield Primary"), "two": ("100002", "St Mary's C of E")}
# A school only trust B has: the name trust A's people type to reach "another trust".
ONLY_B = ("100003", "Zephyr Academy")
CATEGORIES = {("A", "one"): "refinement", ("A", "two"): "recovery"}
CATEGORIES |= {("B", "one"): "repair", ("B", "two"): "excellence", ("B", "only_b"): "repair"}

VISIT_NUMBER = {"A": 1, "B": 7}

_form_ids = itertools.count(1)


def form_id() -> str:
    """A fresh form id, as a card carries one (32 hex digits)."""
    return f"{next(_form_ids):032x}"


@dataclass
class Side:
    """One trust's ids, and the marker every text typed in it carries."""

    label: str
    marker: str
    tenant: str
    trust_id: int = 0
    schools: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    strand: int = 0
    coaching: dict[str, int] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    summaries: dict[str, int] = field(default_factory=dict)
    concerns: dict[str, int] = field(default_factory=dict)
    categorisations: dict[str, int] = field(default_factory=dict)
    # The form id each seeded record was stored with, by "<kind>:<school>".
    forms: dict[str, str] = field(default_factory=dict)

    def new_form(self, key: str) -> str:
        self.forms[key] = form_id()
        return self.forms[key]

    def pupil(self, school: str) -> str:
        return f"{self.marker[:2]}{'4821' if school == 'one' else '7305'}"

    def texts(self) -> list[str]:
        """Every distinctive text typed into this trust's records."""
        return [self.marker, self.pupil("one"), self.pupil("two")]


@dataclass
class Answer:
    """What Waypoint answered a request: HTTP status, texts and cards."""

    status: int
    texts: list[str]
    cards: list[dict[str, Any]]
    raw: Any

    @property
    def shown(self) -> str:
        """Everything a person would read."""
        return "\n".join([*self.texts, *(card_text(c) for c in self.cards)])

    @property
    def card(self) -> dict[str, Any]:
        assert len(self.cards) == 1, self.shown
        return self.cards[0]


@dataclass
class World:
    """The two trusts; `served` (tests/support.py's HTTP harness) while `served(world)`
    runs. Each request is someone's by role, in trust A unless `side` says B."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    a: Side
    b: Side
    served: Served | None = None

    def side(self, label: str) -> Side:
        return self.a if label == "A" else self.b

    @property
    def http(self) -> Client:
        return self._served.client

    @property
    def waypoint(self) -> Waypoint | None:
        return self.served.waypoint if self.served else None

    @property
    def _served(self) -> Served:
        assert self.served is not None, "the world is not being served"
        return self.served

    async def say(self, text: str, role: str, *, side: str = "A") -> Answer:
        body = message(text, user=AAD[role], tenant=self.side(side).tenant, expect_replies=True)
        return await self.post(body)

    async def submit(self, data: dict[str, Any], role: str, *, side: str = "A") -> Answer:
        """An Action.Submit: a message whose value is the card's data and inputs."""
        body = message(
            "", user=AAD[role], tenant=self.side(side).tenant, expect_replies=True, value=data
        )
        return await self.post(body)

    async def execute(
        self, verb: str, data: dict[str, Any], role: str, *, side: str = "A"
    ) -> Answer:
        """An Action.Execute (`adaptiveCard/action` invoke)."""
        return await self.post(invoke(verb, data, user=AAD[role], tenant=self.side(side).tenant))

    async def post(self, body: dict[str, Any]) -> Answer:
        """Any activity, answered whatever its status: some of these requests are
        meant to be refused."""
        return await answer_of(await self._served.post(body))


def invoke(verb: str, data: dict[str, Any], *, user: str, tenant: str) -> dict[str, Any]:
    """An Action.Execute whose data names its verb, as the cards' data does."""
    return execute(verb, {"verb": verb, **data}, user=user, tenant=tenant)


async def answer_of(response: Any) -> Answer:
    status = int(response.status)
    try:
        raw = await response.json()
    except Exception:
        raw = None
    texts: list[str] = []
    cards: list[dict[str, Any]] = []
    if isinstance(raw, dict) and "activities" in raw:
        texts = [a["text"] for a in raw["activities"] if a.get("text")]
        cards = cards_in(raw["activities"])
    elif isinstance(raw, dict) and "statusCode" in raw:
        value = raw.get("value")
        if isinstance(value, dict) and raw.get("type") == "application/vnd.microsoft.card.adaptive":
            cards = [value]
        elif isinstance(value, str):
            texts = [value]
        elif isinstance(value, dict):
            texts = [str(value.get("message", ""))]
    return Answer(status, texts, cards, raw)


# -- building the world ----------------------------------------------------------


async def _person(session: AsyncSession, side: Side, key: str, schools: dict[str, int]) -> int:
    name, roles, school = PEOPLE[key]
    return await add_person(
        session,
        side.trust_id,
        AAD[key],
        name,
        roles,
        [schools[school]] if school else [],
        subjects=[SUBJECT] if "subject_lead" in roles else [],
        email=f"{key}@{side.marker.lower()}.example.org",
    )


async def _seed_side(sessions: async_sessionmaker[AsyncSession], side: Side) -> None:
    m = side.marker
    async with sessions.begin() as session:
        trust = await add_trust(
            session, tenant_id=side.tenant, name=TRUST_NAME, framework_key="five-categories"
        )
        side.trust_id = trust.id
        places = dict(SCHOOLS)
        if side.label == "B":
            places["only_b"] = ONLY_B
        for key, (urn, name) in places.items():
            school = School(trust_id=trust.id, urn=urn, name=name, phase="primary")
            session.add(school)
            await session.flush()
            side.schools[key] = school.id
        for key in PEOPLE:
            side.people[key] = await _person(session, side, key, side.schools)
        side.strand = (await active_strands(session, trust_id=trust.id))[0].id
        for key, school_id in side.schools.items():
            recorded = await record_categorisation(
                session,
                trust_id=trust.id,
                school_id=school_id,
                category_key=CATEGORIES[(side.label, key)],
                decided_on=TODAY - timedelta(days=60),
                attendees=f"{m} standards panel",
                rationale=f"{m} rationale for {key}",
                recorded_by=side.people["trust_lead"],
                form_id=side.new_form(f"categorisation:{key}"),
            )
            side.categorisations[key] = recorded.categorisation.id
        period = await qa_period(session, trust_id=trust.id, today=TODAY)
        assert isinstance(period, QaOpen), "NOW must fall in a QA window"
        for key, (coach, teacher, lead) in {
            "one": ("coach", "teacher", "subject_lead"),
            "two": ("coach2", "teacher2", "subject_lead2"),
        }.items():
            stored = await record_coaching_session(
                session,
                trust_id=trust.id,
                coach_id=side.people[coach],
                form_id=side.new_form(f"coaching:{key}"),
                details=SessionDetails(
                    coachee_id=side.people[teacher],
                    school_id=side.schools[key],
                    held_on=TODAY - timedelta(days=2),
                    strand_id=side.strand,
                    status="held",
                    action_step=f"{m} step: retrieval starter every lesson",
                    notes=f"{m} notes: private to coach and coachee",
                    next_session_on=TODAY + timedelta(days=12),
                ),
                logged_at=NOW - timedelta(days=1),
            )
            row = stored.row
            side.coaching[key] = row.id
            visit = await record_visit(
                session,
                trust_id=trust.id,
                school_id=side.schools[key],
                adviser_id=side.people["sia"],
                # Trust B's visits have their own numbers: a visit of B shown in A reads.
                number=VISIT_NUMBER[side.label],
                visited_on=TODAY - timedelta(days=40),
                focus=f"{m} focus: early reading",
                strengths=f"{m} strengths",
                risks=f"{m} risks",
                next_visit_on=TODAY + timedelta(days=30),
                next_steps=[f"{m} action: phonics audit"],
                owner_id=None,
                due_on=TODAY - timedelta(days=5),
                ratings={},
                form_id=side.new_form(f"visit:{key}"),
                at=NOW - timedelta(days=40),
            )
            side.visits[key] = visit.visit.id
            side.actions[key] = int(
                await session.scalar(
                    select(SchoolAction.id).where(SchoolAction.visit_id == visit.visit.id)
                )
                or 0
            )
            summary, _ = await record_qa_summary(
                session,
                trust_id=trust.id,
                school_id=side.schools[key],
                subject=SUBJECT,
                term=period.term,
                author_id=side.people[lead],
                form_id=side.new_form(f"qa:{key}"),
                content=QaContent(
                    strengths=f"{m} strengths: sequencing",
                    areas_for_development=f"{m} areas: disciplinary knowledge",
                    evidence=["deep_dive"],
                    judgement="amber",
                    actions=f"{m} actions: retrieval quizzes",
                    cpd="",
                ),
                submitted_at=NOW - timedelta(days=3),
            )
            side.summaries[key] = summary.id
            concern, _ = await raise_concern(
                session,
                trust_id=trust.id,
                raised_by=side.people[teacher],
                form_id=side.new_form(f"concern:{key}"),
                details=ConcernDetails(
                    school_id=side.schools[key],
                    pupil_ref=side.pupil(key),
                    year_group="4",
                    attendance_percent=Decimal("86.5"),
                    unauthorised_sessions=4,
                    concern_type="pattern",
                    vulnerable=["sen_support"],
                    done_so_far=f"{m} done so far: first-day calling",
                    stage="monitor",
                ),
                raised_at=NOW - timedelta(days=4),
                today=TODAY - timedelta(days=4),
            )
            side.concerns[key] = concern.id


async def build_world(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> World:
    a = Side("A", "ALPHA", TENANT)
    b = Side("B", "BRAVO", OTHER_TENANT)
    await _seed_side(sessions, a)
    await _seed_side(sessions, b)
    return World(engine, sessions, a, b)


@asynccontextmanager
async def served(world: World) -> AsyncIterator[World]:
    """The real app over the world's store, its clock stopped at NOW."""
    async with serve(world.engine, world.sessions, settings=SETTINGS, now=NOW) as http:
        world.served = http
        try:
            yield world
        finally:
            world.served = None


# -- valid card data, as each form would submit it -------------------------------


def coaching_form(side: Side, *, coachee: str = "teacher", **extra: Any) -> dict[str, Any]:
    return {
        "form_id": form_id(),
        "coachee": str(side.people[coachee]),
        "held_on": TODAY.isoformat(),
        "strand": str(side.strand),
        "status": "held",
        "action_step": "Cold-call after think time",
        "notes": "",
        "next_session_on": "",
    } | extra


def qa_form(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    return {
        "form_id": form_id(),
        "school_id": side.schools[school],
        "subject": SUBJECT,
        "strengths": "Well sequenced units",
        "areas_for_development": "Disciplinary knowledge",
        "evidence": "deep_dive,book_look",
        "judgement": "green",
        "actions": "Retrieval quizzes each week",
        "cpd": "",
    } | extra


def concern_form(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    return {
        "form_id": form_id(),
        "school": str(side.schools[school]),
        "pupil_ref": "QZ9911",
        "year_group": "5",
        "attendance_percent": "88.5",
        "unauthorised_sessions": "6",
        "concern_type": "pattern",
        "vulnerable": "sen_support",
        "done_so_far": "Phoned home",
        "stage": "monitor",
    } | extra


def update_form(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    return {
        "form_id": form_id(),
        "concern_id": side.concerns[school],
        "stage": "listen",
        "action": "Met the family",
        "action_on": TODAY.isoformat(),
        "next_review_on": (TODAY + timedelta(days=7)).isoformat(),
    } | extra


def close_form(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    return {
        "form_id": form_id(),
        "concern_id": side.concerns[school],
        "outcome": "improved",
        "note": "Back in school",
    } | extra


def categorise_form(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    return {
        "form_id": form_id(),
        "school_id": str(side.schools[school]),
        "category": "reinforcement",
        "decided_on": TODAY.isoformat(),
        "attendees": "CEO, director of education",
        "rationale": "Outcomes improving",
    } | extra


def review_form(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    """A standards review that confirms the school's category."""
    return {
        "form_id": form_id(),
        "school_id": side.schools[school],
        "held_on": TODAY.isoformat(),
        "attendees": "Head, chair of governors, a trustee",
        "trustees": "true",
        "outcome": "confirmed",
        "notes": "Standards secure",
    } | extra


_visit_numbers = itertools.count(10)


def _visit_number() -> int:
    """A new visit's number, 2 to 91, never trust B's (VISIT_NUMBER): a "Visit 7"
    shown to trust A's people is then always trust B's visit."""
    while (number := next(_visit_numbers) % 90 + 2) == VISIT_NUMBER["B"]:
        pass
    return number


def visit_form(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    return {
        "form_id": form_id(),
        "school_id": side.schools[school],
        "number": str(_visit_number()),
        "visited_on": TODAY.isoformat(),
        "focus": "Writing",
        "strengths": "Clear routines",
        "risks": "Staff turnover",
        "next_steps": "Moderate writing\nRevisit spelling",
        "owner_id": "nobody",
        "next_visit_on": "",
        "due_on": "",
        f"rag_{side.actions[school]}": Rag.green.value,
    } | extra


def action_update(side: Side, *, school: str = "one", **extra: Any) -> dict[str, Any]:
    """What anyone who keeps an action moving may change: a progress note and the due
    date (the rating is the adviser's alone, tests/test_actions.py)."""
    action = side.actions[school]
    return {
        "action_id": action,
        f"note_{action}": f"{side.marker} progress: letters sent",
        f"due_{action}": (TODAY + timedelta(days=21)).isoformat(),
    } | extra


# -- what the store holds --------------------------------------------------------

# Tables a refused or invalid request may add to: the audit trail and the
# redelivery guard.
BOOKKEEPING = frozenset({"audit_event", "processed_activity"})


async def snapshot(
    sessions: async_sessionmaker[AsyncSession], *, skip: Iterable[str] = BOOKKEEPING
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but `skip`, in key order: the store's content."""
    skipped = set(skip)
    content: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skipped:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = await session.execute(select(table).order_by(*order))
            content[table.name] = [tuple(row) for row in rows]
    return content


def changed_tables(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> set[str]:
    return {name for name in before if before[name] != after.get(name)}


class WriteLog:
    """Every row written to any table, noted by triggers of the test's own.

    Cheaper than comparing the store's content after each request, and stricter:
    an UPDATE that sets a row to what it was is a write too.
    """

    TABLE = "zz_written"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.names = [t.name for t in Base.metadata.sorted_tables]

    async def install(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(f"create table {self.TABLE} (name varchar(64) not null)"))
            if self.postgres:
                await conn.execute(
                    text(
                        "create function zz_note() returns trigger language plpgsql as "
                        f"$$ begin insert into {self.TABLE} values (TG_TABLE_NAME); "
                        "return null; end $$"
                    )
                )
            for name in self.names:
                if self.postgres:
                    await conn.execute(
                        text(
                            f"create trigger zz_{name} after insert or update or delete "
                            f'on "{name}" for each row execute function zz_note()'
                        )
                    )
                    continue
                for op in ("insert", "update", "delete"):
                    await conn.execute(
                        text(
                            f'create trigger zz_{name}_{op} after {op} on "{name}" '
                            f"begin insert into {self.TABLE} values ('{name}'); end"
                        )
                    )

    async def remove(self) -> None:
        async with self.engine.begin() as conn:
            for name in self.names:
                if self.postgres:
                    await conn.execute(text(f'drop trigger if exists zz_{name} on "{name}"'))
                else:
                    for op in ("insert", "update", "delete"):
                        await conn.execute(text(f"drop trigger if exists zz_{name}_{op}"))
            if self.postgres:
                await conn.execute(text("drop function if exists zz_note()"))
            await conn.execute(text(f"drop table if exists {self.TABLE}"))

    async def take(self) -> dict[str, int]:
        """Rows written per table since the last take."""
        async with self.engine.begin() as conn:
            rows = await conn.execute(
                text(f"select name, count(*) from {self.TABLE} group by name")
            )
            written = {str(name): int(count) for name, count in rows}
            if written:
                await conn.execute(text(f"delete from {self.TABLE}"))
        return written


@asynccontextmanager
async def write_log(engine: AsyncEngine) -> AsyncIterator[WriteLog]:
    log = WriteLog(engine)
    await log.install()
    try:
        yield log
    finally:
        await log.remove()


async def audit_events(
    sessions: async_sessionmaker[AsyncSession], *, after: int = 0
) -> list[AuditEvent]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)
            )
        )


# -- logs --------------------------------------------------------------------------


def everything_logged(records: Iterable[logging.LogRecord]) -> str:
    """All a log record could carry to a file: message, arguments, traceback (with the
    errors it was raised from), extras, and the record as Waypoint's text and JSON
    formatters write it."""
    formatters = (TextFormatter(), JsonFormatter())
    return "\n".join(
        "\n".join(
            (
                record.getMessage(),
                repr(record.args),
                record.exc_text or "",
                repr(record.exc_info[1]) if record.exc_info else "",
                "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else "",
                json.dumps(record.__dict__, default=repr),
                *(formatter.format(record) for formatter in formatters),
            )
        )
        for record in records
    )


def unhandled(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
    """ERROR records with a traceback: an exception that escaped Waypoint's handling."""
    return [r for r in records if r.levelno >= logging.ERROR and r.exc_info]
