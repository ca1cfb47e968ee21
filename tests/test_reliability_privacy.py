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
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import main as waypoint_cli
from dialogs.digest import compose_week
from dialogs.qa import send_qa_reminders
from storage.models import AttendanceConcern, CoachingSession, QaSummary, SchoolAction
from tests.reliability import (
    AAD,
    NOW,
    ROLES,
    TODAY,
    World,
    build_world,
    categorise_form,
    close_form,
    coaching_form,
    concern_form,
    everything_logged,
    qa_form,
    served,
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


async def every_job(world: World, url: str, database_url: str, tmp_path: Path) -> None:
    """Each job of Waypoint once, as its people use it."""
    assert world.waypoint is not None
    for role in ROLES:
        await install(world, role, url)
    a = world.a

    # Coaching: log, read, edit, coverage.
    await world.say("log coaching", "coach")
    saved = await world.execute(
        "coaching.save",
        coaching_form(a, action_step=TYPED["action_step"], notes=TYPED["notes"]),
        "coach",
    )
    assert "Coaching session saved" in saved.shown
    coaching = await newest(world, CoachingSession)
    await world.say("my coaching", "coach")
    await world.say("my coaching", "teacher")
    await world.execute("coaching.view", {"session_id": coaching.id}, "teacher")
    form = await world.execute("coaching.edit", {"session_id": coaching.id}, "coach")
    edit = dict(form.card["actions"][0]["data"])
    edit |= coaching_form(a, action_step=TYPED["action_step"], notes=TYPED["edited_notes"])
    edit["form_id"] = form.card["actions"][0]["data"]["form_id"]
    await world.execute("coaching.save", edit, "coach")
    await world.say("coaching coverage", "head")

    # QA: the form, a summary, status, reading it, reminders.
    await world.say("submit qa", "subject_lead")
    qa = qa_form(
        a,
        strengths=TYPED["strengths"],
        areas_for_development=TYPED["areas_for_development"],
        actions=TYPED["qa_actions"],
        cpd=TYPED["cpd"],
    )
    assert "QA summary submitted" in (await world.execute("qa.save", qa, "subject_lead")).shown
    summary = await newest(world, QaSummary)
    await world.say("qa status", "subject_lead")
    await world.say("qa status oakfield primary", "head")
    await world.execute("qa.show", {"summary_id": summary.id}, "head")
    await send_qa_reminders(
        world.sessions, trust_id=a.trust_id, today=TODAY, deliver=world.waypoint.notifier.deliver
    )

    # Attendance: raise, list, open, update, close.
    await world.say("raise concern", "teacher")
    raised = await world.submit(
        {
            "verb": "attendance.save",
            **concern_form(a, pupil_ref=TYPED["pupil_ref"], done_so_far=TYPED["done_so_far"]),
        },
        "teacher",
    )
    assert "Attendance concern raised" in raised.shown
    concern = await newest(world, AttendanceConcern)
    await world.say("concerns", "attendance_lead")
    await world.say("concerns oakfield primary", "coach")
    await world.execute("attendance.open", {"concern_id": concern.id}, "attendance_lead")
    await world.execute("attendance.edit", {"concern_id": concern.id}, "head")
    update = update_form(a, action=TYPED["update_action"]) | {"concern_id": concern.id}
    assert (
        "Concern updated"
        in (await world.execute("attendance.update", update, "attendance_lead")).shown
    )
    await world.execute("attendance.closing", {"concern_id": concern.id}, "attendance_lead")
    closing = close_form(a, note=TYPED["close_note"]) | {"concern_id": concern.id}
    assert (
        "Concern closed"
        in (await world.submit({"verb": "attendance.close", **closing}, "head")).shown
    )

    # Category: read, categorise (the head is told), read again.
    await world.say("category", "teacher")
    await world.say("categorise oakfield primary", "trust_lead")
    decision = categorise_form(a, attendees=TYPED["attendees"], rationale=TYPED["rationale"])
    assert (
        "Categorisation recorded"
        in (await world.execute("categorise.save", decision, "trust_lead")).shown
    )
    await world.say("category oakfield", "sia")

    # A note of visit; its action worked by the head.
    await world.say("visit oakfield primary", "sia")
    visit = visit_form(
        a,
        focus=TYPED["focus"],
        strengths=TYPED["visit_strengths"],
        risks=TYPED["risks"],
        next_steps=TYPED["next_step"],
    )
    assert "Note of visit saved" in (await world.execute("visit.save", visit, "sia")).shown
    action = await newest(world, SchoolAction)
    await world.say("my actions", "head")
    await world.execute(
        "actions.update", {"action_id": action.id, f"rag_{action.id}": "green"}, "head"
    )
    await world.execute("actions.done", {"action_id": action.id}, "head")
    await world.say("overdue actions", "trust_lead")

    # Digests, and everything queued sent to the connector.
    await compose_week(world.sessions, trust_id=a.trust_id, now=NOW)
    await world.waypoint.notifier.drain()
    await world.say("digest", "trust_lead")
    await world.say("digest", "head")
    await world.say("digest report", "trust_lead")
    await world.execute("digest.page", {"page": 1}, "trust_lead")
    await world.say("help", "admin")
    await world.say("who am i", "attendance_lead")

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
