"""Privacy: every log record of a full run of every job holds no pupil reference and no
free text typed into a card.

The root logger is at DEBUG for the whole run: installs, coaching, QA (with
reminders), attendance from raise to close and retention, categorisation, a note
of visit and its actions, digests, every notice sent through the outbox to a
connector, and the audit export. Each text typed into a card is unique, so any
trace of one in a log record (its message, arguments, traceback or extras) is found.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main as waypoint_cli
from bot.scheduled.digests import compose_week
from bot.scheduled.qa_reminders import send_qa_reminders
from bot.scheduled.reviews import queue_review_reminders
from storage.models import AttendanceConcern, CoachingSession, QaSummary, SchoolAction
from tests.reliability import (
    AAD,
    NOW,
    ROLES,
    TODAY,
    Answer,
    World,
    build_world,
    categorise_form,
    close_form,
    coaching_form,
    concern_form,
    everything_logged,
    qa_form,
    review_form,
    served,
    unhandled,
    update_form,
    visit_form,
)
from tests.support import loopback_connector, message

# One unique text per field a person types; the pupil reference as a school would.
TYPED = {
    "pupil_ref": "PQ7733",
    "action_step": "Privacy probe action step: model the worked example aloud",
    "notes": "Privacy probe coaching notes: nervous about the observation",
    "edited_notes": "Privacy probe edited notes: went better the second time",
    "strengths": "Privacy probe QA strengths: chronology secure",
    "areas_for_development": "Privacy probe QA areas: source analysis",
    "qa_actions": "Privacy probe QA actions: weekly retrieval",
    "cpd": "Privacy probe QA cpd: twilight session",
    "done_so_far": "Privacy probe done so far: grandmother collects on Mondays",
    "update_action": "Privacy probe update: met mum at the gate",
    "close_note": "Privacy probe closing note: back to full attendance",
    "attendees": "Privacy probe attendees: CEO and chair",
    "rationale": "Privacy probe rationale: outcomes rising",
    "review_attendees": "Privacy probe review attendees: trustee Jo Bloggs",
    "review_notes": "Privacy probe review notes: maths still weak",
    "focus": "Privacy probe visit focus: reading fluency",
    "visit_strengths": "Privacy probe visit strengths: calm corridors",
    "risks": "Privacy probe visit risks: staffing",
    "next_step": "Privacy probe next step: fluency checks in Year 2",
}


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def install(world: World, role: str, url: str) -> None:
    body = message("", user=AAD[role], tenant=world.a.tenant, service_url=url)
    body.pop("text")
    body.update(
        type="installationUpdate",
        action="add",
        conversation={"conversationType": "personal", "id": f"a:chat-{role}"},
    )
    response = await world.http.post("/api/messages", json=body)
    assert response.status < 300


async def newest(world: World, model: Any) -> Any:
    async with world.sessions() as session:
        return await session.scalar(select(model).order_by(model.id.desc()).limit(1))


def expect(answer: Answer, shown: str) -> None:
    """The step was answered as it should be: a step refused or failing quietly would
    log nothing, and pass a test that only reads the log."""
    assert answer.status == 200, (answer.status, answer.shown)
    assert shown in answer.shown, answer.shown


async def every_job(world: World, url: str, database_url: str, tmp_path: Path) -> None:
    """Each job of Waypoint once, as its people use it."""
    assert world.waypoint is not None
    for role in ROLES:
        await install(world, role, url)
    a = world.a

    # Coaching: log, read, edit, coverage.
    expect(await world.say("log coaching", "coach"), "Log a coaching session")
    saved = await world.execute(
        "coaching.save",
        coaching_form(a, action_step=TYPED["action_step"], notes=TYPED["notes"]),
        "coach",
    )
    assert "Coaching session saved" in saved.shown
    coaching = await newest(world, CoachingSession)
    expect(await world.say("my coaching", "coach"), "Sessions you led")
    expect(await world.say("my coaching", "teacher"), "Your current action step")
    expect(
        await world.execute("coaching.view", {"session_id": coaching.id}, "teacher"),
        "Coaching session\nTeacher\nTom Teacher",
    )
    form = await world.execute("coaching.edit", {"session_id": coaching.id}, "coach")
    edit = dict(form.card["actions"][0]["data"])
    edit |= coaching_form(a, action_step=TYPED["action_step"], notes=TYPED["edited_notes"])
    edit["form_id"] = form.card["actions"][0]["data"]["form_id"]
    expect(await world.execute("coaching.save", edit, "coach"), "Coaching session saved")
    expect(await world.say("coaching coverage", "head"), "Coaching coverage — Oakfield Primary")

    # QA: the form, a summary, status, reading it, reminders.
    expect(await world.say("submit qa", "subject_lead"), "QA summary: Autumn term")
    qa = qa_form(
        a,
        strengths=TYPED["strengths"],
        areas_for_development=TYPED["areas_for_development"],
        actions=TYPED["qa_actions"],
        cpd=TYPED["cpd"],
    )
    assert "QA summary submitted" in (await world.execute("qa.save", qa, "subject_lead")).shown
    summary = await newest(world, QaSummary)
    expect(await world.say("qa status", "subject_lead"), "Your QA summaries")
    expect(
        await world.say("qa status oakfield primary", "head"), "QA summaries at Oakfield Primary"
    )
    expect(
        await world.execute("qa.show", {"summary_id": summary.id}, "head"), "QA summary: History"
    )
    await send_qa_reminders(
        world.sessions, trust_id=a.trust_id, today=TODAY, deliver=world.waypoint.notifier.deliver
    )

    # Attendance: raise, list, open, update, close.
    expect(await world.say("raise concern", "teacher"), "Raise an attendance concern")
    raised = await world.submit(
        {
            "verb": "attendance.save",
            **concern_form(a, pupil_ref=TYPED["pupil_ref"], done_so_far=TYPED["done_so_far"]),
        },
        "teacher",
    )
    assert "Attendance concern raised" in raised.shown
    concern = await newest(world, AttendanceConcern)
    expect(
        await world.say("concerns", "attendance_lead"), "Open attendance concerns: Oakfield Primary"
    )
    expect(
        await world.say("concerns oakfield primary", "coach"),
        "Attendance concerns: Oakfield Primary",
    )
    expect(
        await world.execute("attendance.open", {"concern_id": concern.id}, "attendance_lead"),
        "Attendance concern\nPupil\nPQ7733",
    )
    expect(
        await world.execute("attendance.edit", {"concern_id": concern.id}, "head"),
        "Update concern: PQ7733",
    )
    update = update_form(a, action=TYPED["update_action"]) | {"concern_id": concern.id}
    assert (
        "Concern updated"
        in (await world.execute("attendance.update", update, "attendance_lead")).shown
    )
    expect(
        await world.execute("attendance.closing", {"concern_id": concern.id}, "attendance_lead"),
        "Close concern: PQ7733",
    )
    closing = close_form(a, note=TYPED["close_note"]) | {"concern_id": concern.id}
    assert (
        "Concern closed"
        in (await world.submit({"verb": "attendance.close", **closing}, "head")).shown
    )

    # Category: read, categorise (the head is told), read again.
    expect(await world.say("category", "teacher"), "Oakfield Primary\nRefinement")
    expect(await world.say("categorise oakfield primary", "trust_lead"), "Record a categorisation")
    decision = categorise_form(a, attendees=TYPED["attendees"], rationale=TYPED["rationale"])
    assert (
        "Categorisation recorded"
        in (await world.execute("categorise.save", decision, "trust_lead")).shown
    )
    expect(await world.say("category oakfield", "sia"), "Oakfield Primary\nReinforcement")

    # St Mary's (Recovery) is due its termly review: the trust leads are reminded; the
    # review changes its category (its head is told).
    run = await queue_review_reminders(world.sessions, trust_id=a.trust_id, today=TODAY, now=NOW)
    assert run.queued == 1, run
    expect(await world.say("review st marys", "trust_lead"), "Standards review\nSt Mary's")
    review = review_form(
        a,
        school="two",
        attendees=TYPED["review_attendees"],
        notes=TYPED["review_notes"],
        outcome="to:repair",
    )
    expect(await world.execute("review.save", review, "trust_lead"), "Standards review recorded")

    # A note of visit; its action worked by the head.
    expect(await world.say("visit oakfield primary", "sia"), "Note of visit\nOakfield Primary")
    visit = visit_form(
        a,
        focus=TYPED["focus"],
        strengths=TYPED["visit_strengths"],
        risks=TYPED["risks"],
        next_steps=TYPED["next_step"],
    )
    assert "Note of visit saved" in (await world.execute("visit.save", visit, "sia")).shown
    action = await newest(world, SchoolAction)
    expect(await world.say("my actions", "head"), "Your open actions")
    expect(
        await world.execute(
            # The rating is the adviser's (issue 15).
            "actions.update",
            {"action_id": action.id, f"rag_{action.id}": "green"},
            "sia",
        ),
        "Updated: Privacy probe next step",
    )
    expect(
        await world.execute("actions.done", {"action_id": action.id}, "head"),
        "Marked done, awaiting the adviser's rating: Privacy probe next step",
    )
    expect(
        await world.say("overdue actions", "trust_lead"),
        "Overdue actions across Riverside Learning Trust",
    )

    # Digests, and everything queued sent to the connector.
    await compose_week(world.sessions, trust_id=a.trust_id, now=NOW)
    await world.waypoint.notifier.drain()
    expect(await world.say("digest", "trust_lead"), "Weekly digest — Riverside Learning Trust")
    expect(await world.say("digest", "head"), "Weekly digest — Oakfield Primary")
    expect(await world.say("digest report", "trust_lead"), "Trust digest 2026-W50")
    expect(
        await world.execute("digest.page", {"page": 1}, "trust_lead"),
        "All schools — Riverside Learning Trust",
    )
    expect(await world.say("help", "admin"), "What I can do for you, Ada")
    expect(
        await world.say("who am i", "attendance_lead"),
        "Alex Attendance\nThis is what Waypoint knows about you",
    )

    # The command line: the audit export and retention.
    for argv in (
        ["audit", "--tenant-id", a.tenant],
        ["retention", "apply", "--tenant-id", a.tenant],
    ):
        assert await asyncio.to_thread(waypoint_cli, argv) == 0


async def test_a_full_run_of_every_job_logs_no_pupil_reference_and_no_typed_text(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    database_url: tuple[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    world = await build_world(engine, sessions)
    url, schema = database_url
    if schema:
        url = f"{url}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    captured = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(captured)
    root.setLevel(logging.DEBUG)
    try:
        async with loopback_connector() as connector, served(world):
            await every_job(world, connector.url, url, tmp_path)
    finally:
        root.removeHandler(captured)
        root.setLevel(level)
    # Notices reached the connector, with their text: the run did what it should.
    assert connector.posted, "no notice was sent: the run was not a full one"
    assert len(captured.records) > 100, "the capture caught little: is logging on?"
    logged = everything_logged(captured.records)
    assert "turn type=" in logged
    folded = logged.casefold()
    # Every typed text but the pupil's starts so: its beginning, cut short, would show.
    assert "privacy probe" not in folded
    for name, text in TYPED.items():
        assert text.casefold() not in folded, name
        # Fragments too: the end of a text, cut or re-encoded, would still be a leak.
        tail = text.split(": ", 1)[-1]
        assert tail.casefold() not in folded, name
        assert tail[-16:].casefold() not in folded, name
    assert not re.search(r"pq\s*7733", logged, re.IGNORECASE)
    # The seeded pupils of both trusts, read during the run, never reach the logs either.
    for pupil in (world.a.pupil("one"), world.a.pupil("two"), world.b.pupil("one")):
        assert pupil not in logged
    print(
        f"\nprivacy: {len(captured.records)} log records at DEBUG, {len(connector.posted)} "
        f"notices sent; {len(TYPED)} typed texts and 3 pupil references found in none"
    )


@asynccontextmanager
async def concerns_refused(engine: AsyncEngine) -> AsyncIterator[None]:
    """Every new attendance concern fails its INSERT with an integrity error (a
    constraint the store enforces, not a lost connection): the failure whose
    traceback carries the statement and, unless hidden, its values."""
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        if postgres:
            await conn.execute(
                sql(
                    "create function zz_refuse() returns trigger language plpgsql as $$ begin "
                    "raise exception 'probe refusal' using errcode = 'check_violation'; end $$"
                )
            )
            await conn.execute(
                sql(
                    "create trigger zz_refuse before insert on attendance_concern "
                    "for each row execute function zz_refuse()"
                )
            )
        else:
            await conn.execute(
                sql(
                    "create trigger zz_refuse before insert on attendance_concern "
                    "begin select raise(abort, 'probe refusal'); end"
                )
            )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            if postgres:
                await conn.execute(sql("drop trigger zz_refuse on attendance_concern"))
                await conn.execute(sql("drop function zz_refuse()"))
            else:
                await conn.execute(sql("drop trigger zz_refuse"))


async def test_a_concern_the_store_refuses_logs_its_failure_without_the_pupil_or_the_notes(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await build_world(engine, sessions)
    captured = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(captured)
    root.setLevel(logging.DEBUG)
    try:
        async with served(world):
            expect(await world.say("raise concern", "teacher"), "Raise an attendance concern")
            async with concerns_refused(engine):
                refused = await world.submit(
                    {
                        "verb": "attendance.save",
                        **concern_form(
                            world.a, pupil_ref=TYPED["pupil_ref"], done_so_far=TYPED["done_so_far"]
                        ),
                    },
                    "teacher",
                )
    finally:
        root.removeHandler(captured)
        root.setLevel(level)
    # The teacher is told it failed and nothing was kept.
    expect(refused, "nothing was saved")
    async with world.sessions() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(AttendanceConcern)
            .where(AttendanceConcern.pupil_ref == TYPED["pupil_ref"])
        )
    assert stored == 0
    # The failure was logged, with the database's error and its traceback ...
    failures = unhandled(captured.records)
    assert failures, "the refused INSERT was not logged as a failure"
    logged = everything_logged(captured.records)
    assert "IntegrityError" in logged and "probe refusal" in logged
    assert "attendance_concern" in logged
    # ... and with neither the pupil nor the text typed about them.
    assert not re.search(r"pq\s*7733", logged, re.IGNORECASE)
    folded = logged.casefold()
    assert "privacy probe" not in folded
    assert TYPED["done_so_far"].split(": ", 1)[-1].casefold() not in folded
