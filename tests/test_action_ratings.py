"""RAG authority stays with the adviser (issue 15): a head marks an action done and
says how far it got; the action waits on the adviser's next visit card until the
adviser rates it; only advisers and trust leads rate; the history keeps who and when.

Turn-level: the dialogs at the `Turn -> Reply` seam, no HTTP.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from storage.actions import action_history
from storage.engine import Sessions
from storage.models import SchoolAction
from tests.improvement import SIA, add_actions, seed_improvement
from tests.support import HEAD, Turns, card_text, find, seed_trust

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)


async def test_done_waits_on_the_advisers_next_visit_until_rated(sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    [action_id] = await add_actions(
        sessions,
        seeded,
        "100001",
        ["Phonics catch-up in Year 2"],
        due_on=TODAY + timedelta(days=10),
        owner_id=seeded.person_ids[HEAD],
    )
    turns = Turns(sessions, now=NOW)

    mine = await turns.command("actions", HEAD)
    assert mine.card is not None
    # The head's card offers Mark done and a progress note, never the rating.
    assert not find(mine.card, id=f"rag_{action_id}")
    done = await turns.submit(mine.card, HEAD, verb="actions.done")
    assert done.card is not None
    assert "Done, awaiting the adviser's rating" in card_text(done.card)

    # The adviser's next note of visit lists it for rating.
    visit = await turns.command("visit", SIA, "oakfield")
    assert visit.card is not None
    shown = card_text(visit.card)
    assert "Phonics catch-up in Year 2" in shown
    assert "Done, says the school: awaiting your rating" in shown
    saved = await turns.submit(
        visit.card,
        SIA,
        focus="Early reading",
        next_steps="",
        **{f"rag_{action_id}": "green"},
    )
    assert saved.card is not None and "Note of visit saved" in card_text(saved.card)

    async with sessions() as session:
        action = await session.get(SchoolAction, action_id)
        history = await action_history(session, action_id=action_id)
    assert action is not None and (action.status, action.rag) == ("closed", "green")
    assert [(e.kind, e.value, e.by_person_id) for e in history] == [
        ("status", "done", seeded.person_ids[HEAD]),
        ("rag", "green", seeded.person_ids[SIA]),
        ("status", "closed", seeded.person_ids[SIA]),
    ]
    # Rated, it leaves the head's list and the next visit's.
    after = await turns.command("actions", HEAD)
    assert after.card is not None and "Phonics catch-up" not in card_text(after.card)
    again = await turns.command("visit", SIA, "oakfield")
    assert again.card is not None and "Phonics catch-up" not in card_text(again.card)


async def test_the_adviser_rates_an_open_action_and_it_stays_open(sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    [action_id] = await add_actions(
        sessions, seeded, "100001", ["Book audit"], due_on=TODAY + timedelta(days=10)
    )
    turns = Turns(sessions, now=NOW)

    listed = await turns.command("actions", SIA)
    assert listed.card is not None and find(listed.card, id=f"rag_{action_id}")
    rated = await turns.submit(
        listed.card, SIA, verb="actions.update", **{f"rag_{action_id}": "amber"}
    )
    assert rated.card is not None
    assert "RAG: amber (18 Nov, Sian Adviser)" in card_text(rated.card)
    async with sessions() as session:
        action = await session.get(SchoolAction, action_id)
    assert action is not None and (action.status, action.rag) == ("open", "amber")
