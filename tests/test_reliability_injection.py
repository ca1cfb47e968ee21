"""Injection: SQL metacharacters, template syntax and markup in every free-text field.

Every free-text field of every form gets a text full of SQL, Jinja, `${}` and
markup. Two round trips per form:
- with one other field wrong, the form comes back with each text as it was typed;
- valid, it is stored exactly as typed and read back, unchanged, through the
  dialog that shows it (where one does; the rest are checked in the store).
Nothing is evaluated: "{{ 7*7 }}" never becomes 49, and every table is still there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import (
    AttendanceConcern,
    Base,
    CoachingSession,
    ConcernEvent,
    QaSummary,
    SchoolAction,
    SchoolCategorisation,
    StandardsReview,
    Visit,
)
from tests.reliability import (
    Answer,
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
from tests.support import card_inputs, card_text, count_rows

HOSTILE = (
    "Robert'); DROP TABLE coaching_session;-- \" \\ % _ ` "
    "{{ 7*7 }} {% if 1 %}yes{% endif %} {# c #} ${7*7} #{7*7} %(x)s "
    "<script>alert('x')</script> <at>Tess Lead</at> **bold** [x](https://evil.example) "
    "&amp; \u202eRTL 🧑‍🏫"
)


def typed(field: str) -> str:
    return f"{field}: {HOSTILE}"


@dataclass(frozen=True)
class Form:
    verb: str
    role: str
    fields: tuple[str, ...]
    data: Callable[[World], dict[str, Any]]
    # A field and a value that make the form come back with an error.
    wrong: tuple[str, str]
    saved: str
    # Reads the stored texts back: (the answer of the dialog that shows them, or None;
    # the stored values by field).
    read: Callable[[World], Awaitable[tuple[Answer | None, dict[str, str]]]]
    # The fields that dialog shows (all, unless said).
    shown_fields: tuple[str, ...] | None = None


async def _one(world: World, model: Any, *columns: str) -> dict[str, str]:
    async with world.sessions() as session:
        row = await session.scalar(select(model).order_by(model.id.desc()).limit(1))
    assert row is not None
    return {c: getattr(row, c) for c in columns}


async def read_coaching(world: World) -> tuple[Answer | None, dict[str, str]]:
    stored = await _one(world, CoachingSession, "id", "action_step", "notes")
    shown = await world.execute("coaching.view", {"session_id": stored.pop("id")}, "coach")
    return shown, stored


async def read_qa(world: World) -> tuple[Answer | None, dict[str, str]]:
    fields = ("strengths", "areas_for_development", "actions", "cpd")
    stored = await _one(world, QaSummary, "id", *fields)
    shown = await world.execute("qa.show", {"summary_id": stored.pop("id")}, "subject_lead")
    return shown, stored


async def read_concern(world: World) -> tuple[Answer | None, dict[str, str]]:
    stored = await _one(world, AttendanceConcern, "id", "done_so_far")
    shown = await world.execute(
        "attendance.open", {"concern_id": stored.pop("id")}, "attendance_lead"
    )
    return shown, stored


def chronology(
    field: str, kind: str
) -> Callable[[World], Awaitable[tuple[Answer | None, dict[str, str]]]]:
    async def read(world: World) -> tuple[Answer | None, dict[str, str]]:
        async with world.sessions() as session:
            event = await session.scalar(
                select(ConcernEvent)
                .where(ConcernEvent.kind == kind)
                .order_by(ConcernEvent.id.desc())
                .limit(1)
            )
        assert event is not None
        shown = await world.execute(
            "attendance.open", {"concern_id": event.concern_id}, "attendance_lead"
        )
        return shown, {field: event.text}

    return read


async def read_visit(world: World) -> tuple[Answer | None, dict[str, str]]:
    stored = await _one(world, Visit, "id", "focus", "strengths", "risks")
    async with world.sessions() as session:
        steps = list(
            await session.scalars(
                select(SchoolAction.description).where(SchoolAction.visit_id == stored.pop("id"))
            )
        )
    # Each next step is an action: the head's "my actions" shows it.
    shown = await world.say("my actions", "head")
    return shown, stored | {"next_steps": "\n".join(steps)}


async def read_categorisation(world: World) -> tuple[Answer | None, dict[str, str]]:
    # No dialog shows a decision's attendees or rationale again: the store must hold them.
    return None, await _one(world, SchoolCategorisation, "attendees", "rationale")


async def read_review(world: World) -> tuple[Answer | None, dict[str, str]]:
    # The saved card shows who attended (checked by its answer); the notes only the store.
    return None, await _one(world, StandardsReview, "attendees", "notes")


FORMS = [
    Form(
        "coaching.save",
        "coach",
        ("action_step", "notes"),
        lambda w: coaching_form(w.a),
        ("held_on", "not a date"),
        "Coaching session saved",
        read_coaching,
    ),
    Form(
        "qa.save",
        "subject_lead",
        ("strengths", "areas_for_development", "actions", "cpd"),
        lambda w: qa_form(w.a),
        ("judgement", "purple"),
        "QA summary submitted",
        read_qa,
    ),
    Form(
        "attendance.save",
        "teacher",
        ("done_so_far",),
        lambda w: concern_form(w.a),
        ("year_group", "Z9"),
        "Attendance concern raised",
        read_concern,
    ),
    Form(
        "attendance.update",
        "attendance_lead",
        ("action",),
        lambda w: update_form(w.a),
        ("next_review_on", "soon"),
        "Concern updated",
        chronology("action", "action"),
    ),
    Form(
        "attendance.close",
        "attendance_lead",
        ("note",),
        lambda w: close_form(w.a),
        ("outcome", "vanished"),
        "Concern closed",
        chronology("note", "closed"),
    ),
    Form(
        "visit.save",
        "sia",
        ("focus", "strengths", "risks", "next_steps"),
        lambda w: {k: v for k, v in visit_form(w.a).items() if not k.startswith("rag_")},
        ("visited_on", "yesterday"),
        "Note of visit saved",
        read_visit,
        # Focus, strengths and risks are shown on the form only (above); next steps as actions.
        shown_fields=("next_steps",),
    ),
    Form(
        "categorise.save",
        "trust_lead",
        ("attendees", "rationale"),
        lambda w: categorise_form(w.a),
        ("decided_on", "last week"),
        "Categorisation recorded",
        read_categorisation,
    ),
    Form(
        "review.save",
        "trust_lead",
        ("attendees", "notes"),
        lambda w: review_form(w.a),
        ("held_on", "last week"),
        "Standards review recorded",
        read_review,
    ),
]


async def test_every_free_text_field_is_stored_and_shown_literally(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await build_world(engine, sessions)
    before = await tables_in(engine)
    assert {t.name for t in Base.metadata.sorted_tables} <= before
    failures: list[str] = []
    async with served(world):
        for form in FORMS:
            try:
                await round_trips(world, form)
            except AssertionError as error:
                failures.append(f"{form.verb}: {error}")
    assert not failures, "\n".join(failures)
    # Every table is still there, as the database itself lists them (a table dropped
    # by an injected statement is gone from there, whatever the models say).
    assert await tables_in(engine) == before


async def tables_in(engine: AsyncEngine) -> set[str]:
    """The tables the database holds (in the test's schema, on PostgreSQL)."""
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def round_trips(world: World, form: Form) -> None:
    texts = {field: typed(field) for field in form.fields}
    # Wrong elsewhere: the form comes back holding every text as it was typed.
    tables = await count_rows(world.sessions)
    field, value = form.wrong
    wrong = await world.execute(form.verb, form.data(world) | texts | {field: value}, form.role)
    kept = card_inputs(wrong.card)
    assert {f: kept.get(f) for f in form.fields} == texts
    after = await count_rows(world.sessions)
    assert {k: v for k, v in after.items() if v != tables[k]}.keys() <= {"audit_event"}

    # Valid: stored exactly as typed, and shown back unchanged.
    saved = await world.execute(form.verb, form.data(world) | texts, form.role)
    assert form.saved in saved.shown, saved.shown
    shown, stored = await form.read(world)
    assert stored == texts
    if shown is not None:
        for name in form.shown_fields or form.fields:
            assert texts[name] in card_text(shown.card), f"not shown literally: {texts[name]}"


async def test_a_pupil_reference_holding_injection_comes_back_literally_and_is_not_stored(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await build_world(engine, sessions)
    async with served(world):
        before = await count_rows(sessions)
        answer = await world.execute(
            "attendance.save", concern_form(world.a, pupil_ref=HOSTILE), "teacher"
        )
        after = await count_rows(sessions)
    # A reference is letters and digits only; what was typed is kept, to be put right.
    assert card_inputs(answer.card)["pupil_ref"] == HOSTILE
    assert "Use letters and digits only" in answer.shown
    assert after == before
