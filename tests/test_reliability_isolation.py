"""Tenant isolation: two trusts with the same school and person names never mix.

Trust A and trust B share every name, URN and Entra object id (tests/reliability.py);
only the tenant differs, and each trust's typed texts carry its own marker. Asked
by anyone of either trust, through typed names, card ids, digests or the audit
export, nothing of the other trust comes back: no text, no record id.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main as waypoint_cli
from bot.scheduled.digests import compose_week
from storage.audit_trail import audit_trail
from storage.digests import trust_position
from storage.models import (
    AttendanceConcern,
    AuditEvent,
    CoachingSession,
    Delivery,
    Person,
    PersonRole,
    QaSummary,
    SchoolCategorisation,
    StandardsReview,
    Visit,
)
from tests.reliability import (
    NOW,
    ONLY_B,
    ROLES,
    TODAY,
    Answer,
    Side,
    World,
    build_world,
    categorise_form,
    close_form,
    coaching_form,
    concern_form,
    qa_form,
    review_form,
    served,
    update_form,
    visit_form,
)

# Card data keys that name a record, and the Side attribute holding each kind's ids.
ID_KEYS = {
    "school_id": "schools",
    "school": "schools",
    "concern_id": "concerns",
    "action_id": "actions",
    "summary_id": "summaries",
    "session_id": "coaching",
    "coachee": "people",
    "owner_id": "people",
    "visit_id": "visits",
}
# What each role of each trust asks, typed: reading commands, with and without a school.
TYPED = [
    "help",
    "who am i",
    "log coaching",
    "my coaching",
    "coaching coverage",
    "coaching coverage oakfield primary",
    "category",
    "category oakfield primary",
    "category st marys",
    "category oakfeld",
    "categorise oakfield primary",
    "visit oakfield primary",
    "visits",
    "visits oakfield primary",
    "my actions",
    "my actions oakfield primary",
    "submit qa",
    "qa status",
    "qa status oakfield primary",
    "raise concern",
    "concerns",
    "concerns oakfield primary",
    "digest",
    "digest report",
]


def ids_named(node: Any, key: str | None = None) -> Iterator[tuple[str, int]]:
    """(kind, id) for every record a card names: in button data and choice values."""
    if isinstance(node, dict):
        if node.get("type") == "Input.ChoiceSet" and node.get("id") in ID_KEYS:
            for choice in node.get("choices") or []:
                if str(choice.get("value", "")).isdigit():
                    yield ID_KEYS[node["id"]], int(choice["value"])
        for name, value in node.items():
            if name in ID_KEYS and str(value).isdigit():
                yield ID_KEYS[name], int(value)
            yield from ids_named(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from ids_named(item, key)


def leaks(answer: Answer, me: Side, other: Side) -> list[str]:
    """What of `other` shows in an answer to someone of `me`."""
    found = [text for text in other.texts() if text in answer.shown]
    for card in answer.cards:
        for kind, value in ids_named(card):
            theirs = set(getattr(other, kind).values())
            mine = set(getattr(me, kind).values())
            if value in theirs and value not in mine:
                found.append(f"{kind} #{value}")
    return found


async def test_nobody_sees_anything_of_the_other_trust(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await build_world(engine, sessions)
    checked = 0
    async with served(world):
        for label in ("A", "B"):
            me, other = world.side(label), world.side("B" if label == "A" else "A")
            for role in ROLES:
                for text in TYPED:
                    answer = await world.say(text, role, side=label)
                    assert answer.status == 200
                    assert not leaks(answer, me, other), (label, role, text, answer.shown)
                    checked += 1
                # Every read verb, with this trust's own ids (what its cards carry).
                for verb, data in [
                    ("category.show", {"school_id": me.schools["one"]}),
                    ("actions.show", {"school_id": me.schools["one"]}),
                    ("qa.status", {"school_id": me.schools["one"]}),
                    ("qa.status_page", {"page": 1}),
                    ("qa.show", {"summary_id": me.summaries["one"]}),
                    ("coaching.view", {"session_id": me.coaching["one"]}),
                    ("attendance.open", {"concern_id": me.concerns["one"]}),
                    ("attendance.list", {"school_id": me.schools["one"]}),
                    ("visit.start", {"school_id": me.schools["one"]}),
                    ("visit.notes", {"school_id": me.schools["one"]}),
                    ("visit.show", {"visit_id": me.visits["one"]}),
                    ("digest.page", {"page": 1}),
                ]:
                    answer = await world.execute(verb, data, role, side=label)
                    assert not leaks(answer, me, other), (label, role, verb, answer.shown)
                    checked += 1
    assert checked == 2 * len(ROLES) * (len(TYPED) + 12)


async def _extra_teacher(world: World, side: Side) -> None:
    """Trust B's Oakfield gets a teacher nobody has coached: its coverage differs."""
    async with world.sessions.begin() as session:
        person = Person(
            trust_id=side.trust_id,
            aad_object_id="ffffffff-0000-4000-8000-000000000001",
            email="new@bravo.example.org",
            display_name="Nia Newteacher",
        )
        person.roles = [PersonRole(role="teacher", school_id=side.schools["one"])]
        session.add(person)


async def test_a_school_name_is_matched_in_the_askers_own_trust_only(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await build_world(engine, sessions)
    await _extra_teacher(world, world.b)
    async with served(world):
        for label, category, coverage in (("A", "Refinement", "100%"), ("B", "Repair", "50%")):
            me = world.side(label)
            for typed in ("category oakfield primary", "category oakfeld", "category 100001"):
                answer = await world.say(typed, "trust_lead", side=label)
                assert category in answer.shown, (label, typed, answer.shown)
            answer = await world.say("coaching coverage oakfield", "head", side=label)
            assert "Coaching coverage — Oakfield Primary" in answer.shown
            assert coverage in answer.shown, (label, answer.shown)
            answer = await world.say("concerns oakfield primary", "attendance_lead", side=label)
            assert me.pupil("one") in answer.shown
            answer = await world.say("qa status oakfield primary", "head", side=label)
            assert [v for k, v in ids_named(answer.card) if k == "summaries"] == [
                me.summaries["one"]
            ]
            answer = await world.say("my actions oakfield primary", "trust_lead", side=label)
            assert [v for k, v in ids_named(answer.card) if k == "actions"][:1] == [
                me.actions["one"]
            ]
        # A school only trust B has is not found from trust A, as if it did not exist.
        answer = await world.say(f"category {ONLY_B[1]}", "trust_lead", side="A")
        assert "couldn't find a school" in answer.shown
        answer = await world.say(f"category {ONLY_B[1]}", "trust_lead", side="B")
        assert "Repair" in answer.shown


async def test_each_trusts_digests_hold_its_own_schools_only(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await build_world(engine, sessions)
    await _extra_teacher(world, world.b)
    for label in ("A", "B"):
        me, other = world.side(label), world.side("B" if label == "A" else "A")
        async with sessions() as session:
            position = await trust_position(session, trust_id=me.trust_id, today=TODAY)
        assert {s.school_id for s in position.schools} == set(me.schools.values())
        counted = {name: n for name, n in position.distribution if n}
        assert counted == (
            {"Refinement": 1, "Recovery": 1} if label == "A" else {"Repair": 2, "Excellence": 1}
        )
        run = await compose_week(sessions, trust_id=me.trust_id, now=NOW)
        assert run.composed and run.queued > 0
    async with sessions() as session:
        deliveries = list(await session.scalars(select(Delivery)))
        people = {p.id: p.trust_id for p in await session.scalars(select(Person))}
    assert deliveries
    for delivery in deliveries:
        me = world.a if delivery.trust_id == world.a.trust_id else world.b
        other = world.b if me is world.a else world.a
        assert people[delivery.recipient_id] == me.trust_id
        shown = str(delivery.payload)
        for text in other.texts():
            assert text not in shown
        if me is world.a:
            # Trust A has no Zephyr Academy.
            assert ONLY_B[1] not in shown
    async with served(world):
        for label, schools in (("A", "2 schools"), ("B", "3 schools")):
            preview = await world.say("digest", "trust_lead", side=label)
            assert schools in preview.shown, preview.shown


async def test_the_audit_export_of_a_trust_holds_its_own_events_only(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    database_url: tuple[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    world = await build_world(engine, sessions)
    async with served(world):
        # Views and refusals in both trusts, by people of the same names.
        for label in ("A", "B"):
            me, other = world.side(label), world.side("B" if label == "A" else "A")
            await world.execute(
                "attendance.open", {"concern_id": me.concerns["one"]}, "head", side=label
            )
            await world.execute(
                "attendance.open", {"concern_id": other.concerns["one"]}, "head", side=label
            )
            await world.say("concerns", "attendance_lead", side=label)
            await world.say("categorise", "teacher", side=label)
    async with sessions() as session:
        events = {
            label: len(
                list(
                    await session.scalars(
                        select(AuditEvent).where(AuditEvent.trust_id == world.side(label).trust_id)
                    )
                )
            )
            for label in ("A", "B")
        }
        lines = await audit_trail(session, trust_id=world.a.trust_id)
    assert len(lines) == events["A"] > 0
    b_people = set(world.b.people.values())
    b_subjects = set(world.b.concerns.values())
    for line in lines:
        assert line.person_id is None or line.person_id not in b_people, str(line)
        if line.subject_type == "attendance_concern":
            assert line.subject_id not in b_subjects, str(line)

    # The command line prints the same trail, and nothing else.
    url, schema = database_url
    if schema:
        url = f"{url}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", url)
    # Away from any .env of the repository: the store is the one set above.
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = await asyncio.to_thread(waypoint_cli, ["audit", "--tenant-id", world.a.tenant])
    header, *printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert code == 0
    assert header.startswith("at\twho")
    assert printed == [str(line) for line in lines]
    for row in printed:
        person = re.search(r"\(#(\d+)\)", row)
        assert person is None or int(person.group(1)) not in b_people, row


# -- tampered cards --------------------------------------------------------------------

# Keys a tampered card adds, naming trust B or its people: they must change nothing.
INJECTED = {
    "trust_id": "B.trust",
    "tenant_id": "B.tenant",
    "person_id": "B.head",
    "coach_id": "B.coach",
    "author_id": "B.subject_lead",
    "raised_by": "B.teacher",
    "adviser_id": "B.sia",
    "recorded_by": "B.trust_lead",
}


def injected(world: World) -> dict[str, Any]:
    b = world.b
    values = {"B.trust": b.trust_id, "B.tenant": b.tenant}
    values |= {f"B.{key}": b.people[key] for key in b.people}
    return {key: values[ref] for key, ref in INJECTED.items()}


INJECTED_FORMS: list[tuple[str, str, Callable[[Side], dict[str, Any]], Any, str]] = [
    ("coaching.save", "coach", coaching_form, CoachingSession, "coach_id"),
    ("qa.save", "subject_lead", qa_form, QaSummary, "author_id"),
    ("attendance.save", "teacher", concern_form, AttendanceConcern, "raised_by"),
    ("visit.save", "sia", visit_form, Visit, "adviser_id"),
    ("categorise.save", "trust_lead", categorise_form, SchoolCategorisation, "recorded_by"),
    ("review.save", "trust_lead", review_form, StandardsReview, "recorded_by"),
]


def _visit_without_ratings(side: Side) -> dict[str, Any]:
    return {k: v for k, v in visit_form(side).items() if not k.startswith("rag_")}


# (verb, who, form, the kind of record whose form id the card carries)
OTHER_TRUSTS_FORM_IDS: list[tuple[str, str, Callable[[Side], dict[str, Any]], str]] = [
    ("coaching.save", "coach", coaching_form, "coaching"),
    ("qa.save", "subject_lead", qa_form, "qa"),
    ("attendance.save", "teacher", concern_form, "concern"),
    ("attendance.update", "attendance_lead", update_form, "concern"),
    ("attendance.close", "attendance_lead", close_form, "concern"),
    ("visit.save", "sia", _visit_without_ratings, "visit"),
    ("categorise.save", "trust_lead", categorise_form, "categorisation"),
]
COLLEAGUES_FORM_IDS = OTHER_TRUSTS_FORM_IDS[:3]


async def test_tampered_forms_reach_nothing_of_another_trust_or_person(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Form ids are Waypoint's own (uuid4) and a form's data names its own targets:
    only a tampered card carries another record's form id or keys of its own."""
    world = await build_world(engine, sessions)
    failures: list[str] = []
    async with served(world):
        # A colleague's form id, in the same trust (school two's records): not "the
        # same form again"; their record is neither shown nor changed.
        for verb, role, build, kind in COLLEAGUES_FORM_IDS:
            data = build(world.a) | {"form_id": world.a.forms[f"{kind}:two"]}
            before = await _rows_of(sessions, world.a)
            answer = await world.execute(verb, data, role)
            shown = answer.shown
            if (
                answer.raw["statusCode"] != 200
                or "ALPHA" in shown
                or world.a.pupil("two") in shown
                or not ("out of date" in shown or "used already" in shown)
                or await _rows_of(sessions, world.a) != before
            ):
                failures.append(f"colleague's form id, {verb}: {shown[:300]}")

        # Another trust's form id: whatever the answer, trust B's record is neither
        # shown nor changed. (Trust B's visits are numbered 7: "Visit 7" would be B's.)
        for verb, role, build, kind in OTHER_TRUSTS_FORM_IDS:
            data = build(world.a) | {"form_id": world.b.forms[f"{kind}:one"]}
            before = await _rows_of(sessions, world.b)
            answer = await world.execute(verb, data, role)
            shown = answer.shown
            if (
                answer.raw["statusCode"] != 200
                or any(t in shown for t in world.b.texts())
                or "Visit 7" in shown
                # Trust B's visit 7, as its card reads ("7 on 9 December"), not 17 or 27.
                or re.search(r"(?<!\d)7 on", shown)
                or await _rows_of(sessions, world.b) != before
            ):
                failures.append(f"other trust's form id, {verb}: {shown[:300]}")

        # Keys naming trust B or its people, added to a valid form, change nothing of
        # who or where: the record is the asker's, in the asker's trust.
        for verb, role, build, model, owner in INJECTED_FORMS:
            data = injected(world) | build(world.a)
            answer = await world.execute(verb, data, role)
            async with sessions() as session:
                row = await session.scalar(select(model).where(model.form_id == data["form_id"]))
            if (
                row is None
                or "You don't have access" in answer.shown
                or row.trust_id != world.a.trust_id
                or getattr(row, owner) != world.a.people[role]
            ):
                failures.append(f"injected keys, {verb}: {answer.shown[:300]}")
    assert not failures, "\n".join(failures)


async def _rows_of(sessions: async_sessionmaker[AsyncSession], side: Side) -> list[Any]:
    rows: list[Any] = []
    async with sessions() as session:
        for model in (CoachingSession, QaSummary, AttendanceConcern, Visit, SchoolCategorisation):
            for row in await session.scalars(
                select(model).where(model.trust_id == side.trust_id).order_by(model.id)
            ):
                rows.append({c.name: getattr(row, c.key) for c in model.__table__.columns})
    return rows
