"""Exactly once: every form verb stores one record however often Teams delivers it.

For each form verb, three ways one submission arrives more than once:
- the same activity (same id) delivered twice, as Teams redelivers;
- a double click: two activities, the same card data;
- Teams retrying an invoke whose answer was slow: the same invoke twice at once.
Each must store what one submission stores, no more and no less.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.attendance.concerns import ConcernDetails, raise_concern
from storage.categories import school_category
from storage.models import SchoolAction
from storage.visits import record_visit
from tests.reliability import (
    AAD,
    NOW,
    TODAY,
    Answer,
    World,
    action_update,
    answer_of,
    build_world,
    categorise_form,
    close_form,
    coaching_form,
    concern_form,
    form_id,
    invoke,
    qa_form,
    review_form,
    served,
    update_form,
    visit_form,
)
from tests.support import count_rows, message

# Tables that hold no record of anyone's work: the trail, redelivery bookkeeping, state.
# Deliveries are counted: a notice queued twice is a message sent twice.
NOT_RECORDS = frozenset({"audit_event", "processed_activity", "bot_state", "send_throttle"})
_activity_ids = itertools.count(1)
# Above tests.reliability.visit_form's numbers (2–91): one school, one number a visit.
_visit_numbers = itertools.count(100)


async def fresh_concern(world: World) -> int:
    async with world.sessions.begin() as session:
        row, _ = await raise_concern(
            session,
            trust_id=world.a.trust_id,
            raised_by=world.a.people["teacher"],
            form_id=form_id(),
            details=ConcernDetails(
                school_id=world.a.schools["one"],
                pupil_ref="ZZ1234",
                year_group="3",
                attendance_percent=Decimal("91"),
                unauthorised_sessions=2,
                concern_type="lateness",
                vulnerable=[],
                done_so_far="",
                stage="monitor",
            ),
            raised_at=NOW - timedelta(days=1),
            today=TODAY - timedelta(days=1),
        )
        return row.id


async def fresh_action(world: World) -> int:
    async with world.sessions.begin() as session:
        recorded = await record_visit(
            session,
            trust_id=world.a.trust_id,
            school_id=world.a.schools["one"],
            adviser_id=world.a.people["sia"],
            number=next(_visit_numbers),
            visited_on=TODAY - timedelta(days=20),
            focus="Maths",
            strengths="",
            risks="",
            next_visit_on=None,
            next_steps=["Fluency checks"],
            owner_id=None,
            due_on=TODAY + timedelta(days=10),
            ratings={},
            form_id=form_id(),
            at=NOW - timedelta(days=20),
        )
        return int(
            await session.scalar(
                select(SchoolAction.id).where(SchoolAction.visit_id == recorded.visit.id)
            )
            or 0
        )


@dataclass(frozen=True)
class FormVerb:
    role: str
    # A fresh submission (its own form id, its own target).
    data: Callable[[World], Any]
    # The rows one submission writes, by table: its records and any notice it queues.
    writes: dict[str, int]
    # What the first answer says, and what an answer to the same submission again says.
    saved: str
    again: tuple[str, ...]


async def _concern_update(world: World) -> dict[str, Any]:
    return update_form(world.a) | {"concern_id": await fresh_concern(world)}


async def _concern_close(world: World) -> dict[str, Any]:
    return close_form(world.a) | {"concern_id": await fresh_concern(world)}


async def _action_update(world: World) -> dict[str, Any]:
    action = await fresh_action(world)
    return action_update(world.a) | {
        "action_id": action,
        f"rag_{action}": "amber",
        f"due_{action}": (TODAY + timedelta(days=30)).isoformat(),
    }


async def _action_done(world: World) -> dict[str, Any]:
    return {"action_id": await fresh_action(world)}


async def _ready(value: dict[str, Any]) -> dict[str, Any]:
    return value


async def _review_changing_the_category(world: World) -> dict[str, Any]:
    """A review that moves school one to a category it is not in now: the review, the
    categorisation it makes and the head's card, each once."""
    async with world.sessions() as session:
        standing = await school_category(
            session, trust_id=world.a.trust_id, school_id=world.a.schools["one"]
        )
    now = standing.current.category_name if standing else None
    new = "recovery" if now != "Recovery" else "reinforcement"
    return review_form(world.a, outcome=f"to:{new}")


def _visit(world: World) -> dict[str, Any]:
    data = visit_form(world.a)
    return {k: v for k, v in data.items() if not k.startswith("rag_")}


FORM_VERBS: dict[str, FormVerb] = {
    "coaching.save": FormVerb(
        "coach",
        lambda w: _ready(coaching_form(w.a)),
        {"coaching_session": 1, "delivery": 1},  # the coachee is told
        "Coaching session saved",
        ("Already saved",),
    ),
    "qa.save": FormVerb(
        "subject_lead",
        lambda w: _ready(qa_form(w.a)),
        {"qa_summary": 1},
        "QA summary submitted",
        ("Already submitted",),
    ),
    "attendance.save": FormVerb(
        "teacher",
        lambda w: _ready(concern_form(w.a)),
        # The concern, its first chronology entry, the attendance lead's notice.
        {"attendance_concern": 1, "concern_event": 1, "delivery": 1},
        "Attendance concern raised",
        ("Already raised",),
    ),
    "attendance.update": FormVerb(
        "attendance_lead",
        _concern_update,
        # The card applied once (its change, migration 0009), and its entries: what was
        # done, the stage moved, the next review set.
        {"concern_change": 1, "concern_event": 3},
        "Concern updated",
        ("Already saved",),
    ),
    "attendance.close": FormVerb(
        "attendance_lead",
        _concern_close,
        # The close card applied once, and its entry in the chronology.
        {"concern_change": 1, "concern_event": 1},
        "Concern closed",
        ("Already closed", "was closed on"),
    ),
    "visit.save": FormVerb(
        "sia",
        lambda w: _ready(_visit(w)),
        # Its two next steps are two actions, and the head is sent the note (once).
        {"visit": 1, "school_action": 2, "delivery": 1},
        "Note of visit saved",
        ("Note of visit saved",),
    ),
    "categorise.save": FormVerb(
        "trust_lead",
        lambda w: _ready(categorise_form(w.a)),
        {"school_categorisation": 1, "delivery": 1},  # the head is told
        "Categorisation recorded",
        ("Categorisation recorded",),
    ),
    "review.save": FormVerb(
        "trust_lead",
        _review_changing_the_category,
        # The review, its new categorisation, and the head told.
        {"standards_review": 1, "school_categorisation": 1, "delivery": 1},
        "Standards review recorded",
        ("Standards review recorded",),
    ),
    # The school's adviser rates it (only advisers and trust leads rate, issue 15).
    "actions.update": FormVerb(
        "sia", _action_update, {"action_event": 1}, "Updated:", ("Nothing to change.",)
    ),
    "actions.done": FormVerb(
        "head",
        _action_done,
        {"action_event": 1},
        "Marked done",
        ("That action was already marked done.",),
    ),
}


async def records(world: World) -> dict[str, int]:
    counts = await count_rows(world.sessions)
    return {name: n for name, n in counts.items() if name not in NOT_RECORDS}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def submit_body(
    world: World, verb: str, role: str, data: dict[str, Any], activity: str
) -> dict[str, Any]:
    return message(
        "",
        user=AAD[role],
        tenant=world.a.tenant,
        expect_replies=True,
        activity_id=activity,
        value={"verb": verb, **data},
    )


async def post(world: World, body: dict[str, Any]) -> Answer:
    return await answer_of(await world.http.post("/api/messages", json=body))


async def test_one_submission_delivered_again_double_clicked_or_retried_stores_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await build_world(engine, sessions)
    failures: list[str] = []
    async with served(world):
        for verb in FORM_VERBS:
            try:
                await once_each_way(world, verb)
            except AssertionError as error:
                failures.append(f"{verb}: {error}")
    assert not failures, "\n".join(failures)


async def once_each_way(world: World, verb: str) -> None:
    """One form verb, delivered again, double-clicked and retried: its own new targets."""
    spec = FORM_VERBS[verb]
    # The same activity delivered twice: answered once, stored once.
    data = await spec.data(world)
    body = submit_body(world, verb, spec.role, data, f"redelivered-{next(_activity_ids)}")
    start = await records(world)
    first = await post(world, body)
    once = delta(start, await records(world))
    again = await post(world, body)
    assert spec.saved in first.shown, first.shown
    assert once == spec.writes, once
    assert again.status == 200 and not again.texts and not again.cards
    assert delta(start, await records(world)) == spec.writes

    # A double click: two activities with the same card data.
    data = await spec.data(world)
    start = await records(world)
    answers = [
        await post(world, submit_body(world, verb, spec.role, data, f"click-{n}"))
        for n in (next(_activity_ids), next(_activity_ids))
    ]
    assert spec.saved in answers[0].shown, answers[0].shown
    assert any(word in answers[1].shown for word in spec.again), answers[1].shown
    assert delta(start, await records(world)) == spec.writes

    # Teams retries an invoke it got no answer to in time: the same invoke, twice
    # at once (three times, for good measure), while the first is still running.
    for copies in (2, 3):
        data = await spec.data(world)
        body = invoke(verb, data, user=AAD[spec.role], tenant=world.a.tenant)
        start = await records(world)
        answers = await asyncio.gather(*(post(world, body) for _ in range(copies)))
        assert all(a.status == 200 and a.raw["statusCode"] == 200 for a in answers)
        shown = [a.shown for a in answers]
        assert sum(spec.saved in s for s in shown) >= 1, shown
        assert all(spec.saved in s or any(w in s for w in spec.again) for s in shown), shown
        assert delta(start, await records(world)) == spec.writes, verb
