"""The note of visit is shared (issue 15): on save the head, and the owner of the next
steps if someone else, get the whole note as a card, once however often it is sent."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.engine import Sessions
from tests.improvement import SIA, seed_improvement
from tests.support import HEAD, TEACHER, Turns, card_text, filled, seed_trust

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


async def test_the_head_and_the_owner_get_the_whole_note_once(sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    turns = Turns(sessions, now=NOW)
    form = await turns.command("visit", SIA, "oakfield")
    assert form.card is not None
    verb, data = filled(
        form.card,
        focus="Early reading",
        strengths="Phonics is consistent in KS1.",
        risks="Year 4 reading fluency lags.",
        next_steps="Fluency checks in Year 4\nReading spine on the website",
        owner_id=str(seeded.person_ids[TEACHER]),
    )

    saved = await turns.verb(verb, data, SIA)
    again = await turns.verb(verb, data, SIA)

    assert saved.card is not None
    assert "Shared with" in card_text(saved.card)
    assert "Hana Head" in card_text(saved.card) and "Tom Teacher" in card_text(saved.card)
    for person in (HEAD, TEACHER):
        [note] = turns.notices.to(seeded.person_ids[person])
        assert note.card is not None
        shown = card_text(note.card)
        for text in (
            "Oakfield Primary",
            "Early reading",
            "Phonics is consistent in KS1.",
            "Year 4 reading fluency lags.",
            "Fluency checks in Year 4",
            "Reading spine on the website",
            "Sian Adviser",
        ):
            assert text in shown, (person, text)
    # The adviser is not sent their own note; the second submit told nobody again.
    assert not turns.notices.to(seeded.person_ids[SIA])
    assert again.card is not None and card_text(again.card) == card_text(saved.card)
    assert len(turns.notices.sent) == 2
