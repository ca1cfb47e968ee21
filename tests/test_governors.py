"""Governors (issue 15): for their school only, the category with the standards
meeting's decision and its history, and the school's actions with their ratings;
nothing of coaching, QA content, attendance (counts neither) or digests. Every
refusal is the plain answer and an audit entry, and changes nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from storage.actions import Rag, rate_action
from storage.categories import record_categorisation
from storage.engine import Sessions
from storage.models import AuditEvent
from tests.improvement import SIA, add_actions, seed_improvement
from tests.support import (
    Seeded,
    Turns,
    add_person,
    card_text,
    find,
    only_card,
    seed_trust,
    serve,
    stored_rows,
    texts,
)

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
GOVERNOR = "aaaaaaaa-0000-4000-8000-000000000009"
SETTINGS = Settings(_env_file=None, digest_scheduler=False)


async def _world(sessions: Sessions) -> tuple[Seeded, int]:
    """Oakfield with a governor, two decisions on its category, and a rated action."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    oakfield = seeded.school_ids["100001"]
    async with sessions.begin() as session:
        seeded.person_ids[GOVERNOR] = await add_person(
            session, seeded.trust_id, GOVERNOR, "Gwen Governor", ["governor"], [oakfield]
        )
        for category, on, attendees, rationale in (
            ("recovery", date(2025, 7, 10), "Head, Chair, SIA", "Reading well below."),
            ("reinforcement", date(2026, 7, 9), "Head, Chair, DE, SIA", "Reading now secure."),
        ):
            await record_categorisation(
                session,
                trust_id=seeded.trust_id,
                school_id=oakfield,
                category_key=category,
                decided_on=on,
                attendees=attendees,
                rationale=rationale,
                recorded_by=None,
                form_id=f"{on:%Y%m%d}".ljust(32, "0"),
            )
    [action_id] = await add_actions(
        sessions, seeded, "100001", ["Phonics catch-up"], due_on=TODAY + timedelta(days=10)
    )
    async with sessions.begin() as session:
        await rate_action(
            session,
            action_id=action_id,
            school_id=oakfield,
            rag=Rag.amber,
            by_person_id=seeded.person_ids[SIA],
            at=NOW - timedelta(days=5),
        )
    return seeded, action_id


async def test_a_governor_reads_the_decision_its_history_and_the_rated_actions(
    sessions: Sessions,
) -> None:
    _, action_id = await _world(sessions)
    turns = Turns(sessions, now=NOW)

    category = await turns.command("category", GOVERNOR)
    assert category.card is not None
    shown = card_text(category.card)
    assert "Reinforcement" in shown
    assert "Head, Chair, DE, SIA" in shown and "Reading now secure." in shown
    history = await turns.submit(category.card, GOVERNOR, verb="category.history")
    assert history.card is not None
    decisions = card_text(history.card)
    assert decisions.index("9 July 2026: Reinforcement") < decisions.index("10 July 2025: Recovery")
    assert "Reading well below." in decisions

    actions = await turns.command("actions", GOVERNOR)
    assert actions.card is not None
    listed = card_text(actions.card)
    assert "Phonics catch-up" in listed
    assert "RAG: amber (13 Nov, Sian Adviser)" in listed
    # Read only: no button changes anything.
    assert not find(actions.card, type="Action.Execute")
    assert not find(actions.card, id=f"rag_{action_id}")


async def test_a_governor_is_refused_everything_else_and_each_refusal_is_audited(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded, _ = await _world(sessions)
    refused = {
        "concerns": "attendance concerns",
        "raise concern": "raise a concern",
        "my coaching": "my coaching",
        "coaching coverage": "coaching coverage",
        "log coaching": "log coaching",
        "qa status": "qa status",
        "digest": "digest",
        "visit oakfield": "note of visit",
        "category st marys": "St Mary's C of E's category",
        "my actions st marys": "St Mary's C of E's actions",
    }
    async with serve(engine, sessions, settings=SETTINGS, now=NOW) as world:
        before = await stored_rows(sessions)
        answers = {typed: texts(await world.say(typed, GOVERNOR)) for typed in refused}
        help_card = only_card(await world.say("help", GOVERNOR))
        after = await stored_rows(sessions)
    for typed, answer in answers.items():
        assert answer.startswith("You don't have access to"), (typed, answer)
        assert "pupil" not in answer.lower()
    assert after == {**before, "audit_event": before["audit_event"] + len(refused)}
    async with sessions() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.person_id == seeded.person_ids[GOVERNOR],
                    AuditEvent.outcome == "refused",
                )
            )
        )
    assert len(events) == len(refused)
    # Help offers a governor what they may use, and nothing of the rest.
    offered = card_text(help_card)
    assert "Our category" in offered and "Our actions" in offered
    for command in ("Log coaching", "Raise a concern", "Attendance concerns", "QA status"):
        assert command not in offered
