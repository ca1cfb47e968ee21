"""`prep visit` (issue 15): one card with what a visit looks at, from the store's own
records, and nothing private: no pupil reference, no coaching note or action step."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import Sessions
from tests.reliability import AAD, NOW, SUBJECT, build_world
from tests.support import Turns, card_text


async def test_the_prep_pack_shows_the_schools_data_and_nothing_private(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    world = await build_world(engine, sessions)
    turns = Turns(sessions, now=NOW)

    reply = await turns.command("prep_visit", AAD["sia"], "oakfield")

    assert reply.card is not None, reply.text
    shown = card_text(reply.card)
    side = world.a
    # The category, this term's QA judgement, coverage, attendance counted by stage,
    # the actions in hand and the last note.
    assert "Prep pack: Oakfield Primary" in shown
    assert "Refinement" in shown
    assert "QA: Autumn term" in shown and SUBJECT in shown and "Amber" in shown
    assert "Teachers coached, 6 weeks" in shown
    assert "Open concerns" in shown and "Monitor" in shown
    assert "ALPHA action: phonics audit" in shown
    assert "Last note of visit" in shown
    # Nothing about a pupil or what a coach and teacher said to each other.
    assert side.pupil("one") not in shown and side.pupil("two") not in shown
    assert "notes: private" not in shown and "retrieval starter" not in shown


async def test_the_prep_pack_is_the_advisers_and_trust_leads(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await build_world(engine, sessions)
    turns = Turns(sessions, now=NOW)
    lead = await turns.command("prep_visit", AAD["trust_lead"], "st marys")
    assert lead.card is not None and "Prep pack: St Mary's C of E" in card_text(lead.card)
    # An adviser of Oakfield only: St Mary's is refused.
    other = await turns.command("prep_visit", AAD["sia"], "st marys")
    assert other.text == "You don't have access to St Mary's C of E's visits."
