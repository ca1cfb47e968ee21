"""An improvement target's date passed unmet: flagged on the category card and in the
trust digest's attention list, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dialogs.digest_cards import trust_digest_card
from dialogs.turn import Reply
from storage.categories import record_categorisation
from storage.digests import trust_position
from storage.engine import Sessions
from storage.frameworks import load_preset
from storage.models import Category
from storage.targets import target_category
from tests.improvement import seed_improvement
from tests.support import HEAD, TRUST_LEAD, Seeded, Turns, card_text, facts, seed_trust

# Reinforcement's target: "Improve to Refinement within 12 to 18 months." Decided on
# 1 November 2024, it falls due on 1 May 2026.
DECIDED = date(2024, 11, 1)
DUE = date(2026, 5, 1)


def _categories(preset: str) -> list[Category]:
    return [
        Category(key=c.key, name=c.name, rank=rank, improvement_target=c.improvement_target)
        for rank, c in enumerate(load_preset(preset).categories, start=1)
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("Improve to Refinement within 1 year – 18 months", "Refinement"),
        ("Improve to Reinforcement within one year.", "Reinforcement"),
        ("improve to recovery within 1 year", "Recovery"),
        ("Move to Excellence.", "Excellence"),
        ("Sustain Excellence while leading improvement in other schools.", None),
        ("Stay in Sustain while helping other schools improve.", None),
        ("", None),
    ],
)
def test_the_target_names_the_category_to_reach(target: str, expected: str | None) -> None:
    categories = _categories("five-categories") + _categories("four-phases")
    found = target_category(target, categories)
    assert (found.name if found else None) == expected


async def _world(sessions: Sessions, today: date) -> tuple[Seeded, Turns]:
    """Oakfield (100001, its head Hana) in Reinforcement since 1 November 2024."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with sessions.begin() as session:
        await record_categorisation(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids["100001"],
            category_key="reinforcement",
            decided_on=DECIDED,
            attendees="Hana Head, DE",
            rationale="Secure, not yet good enough.",
            recorded_by=None,
            form_id="c" * 32,
        )
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    return seeded, Turns(sessions, now=now)


def _card(reply: Reply) -> dict[str, object]:
    assert reply.card is not None, reply.text
    return reply.card


async def test_a_target_date_in_the_past_is_flagged_on_the_category_card(
    sessions: Sessions,
) -> None:
    _, turns = await _world(sessions, date(2026, 5, 2))
    card = _card(await turns.say("category", HEAD))
    shown = facts(card)
    assert shown["Target date"] == "1 May 2026"
    assert shown["Target date passed"] == "1 May 2026, not yet Refinement"
    # A trust lead asking for the school reads the same.
    lead = facts(_card(await turns.say("category oakfield", TRUST_LEAD)))
    assert lead["Target date passed"] == "1 May 2026, not yet Refinement"


@pytest.mark.parametrize("today", [date(2026, 4, 30), DUE])
async def test_a_target_date_not_yet_passed_is_not_flagged(sessions: Sessions, today: date) -> None:
    _, turns = await _world(sessions, today)
    card = _card(await turns.say("category", HEAD))
    assert facts(card)["Target date"] == "1 May 2026"
    assert "Target date passed" not in facts(card)
    assert "not yet Refinement" not in card_text(card)


async def test_a_school_that_reached_its_target_is_not_flagged(sessions: Sessions) -> None:
    seeded, turns = await _world(sessions, date(2026, 6, 1))
    async with sessions.begin() as session:
        await record_categorisation(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids["100001"],
            category_key="refinement",
            decided_on=date(2026, 3, 1),
            attendees="Hana Head, DE",
            rationale="Good now.",
            recorded_by=None,
            form_id="d" * 32,
        )
    card = _card(await turns.say("category", HEAD))
    assert "Target date passed" not in facts(card)
    async with sessions() as session:
        position = await trust_position(session, trust_id=seeded.trust_id, today=date(2026, 6, 1))
    assert all(s.target_missed is None for s in position.schools)


async def test_a_target_date_in_the_past_puts_the_school_on_the_digests_attention_list(
    sessions: Sessions,
) -> None:
    seeded, _ = await _world(sessions, date(2026, 6, 1))
    async with sessions() as session:
        position = await trust_position(session, trust_id=seeded.trust_id, today=date(2026, 6, 1))
    schools = {s.name: s for s in position.schools}
    oakfield = schools["Oakfield Primary"]
    reason = "target date passed: 1 May 2026, not yet Refinement"
    assert oakfield.needs_attention and reason in oakfield.reasons
    assert oakfield.target_missed == reason
    assert schools["St Mary's C of E"].target_missed is None
    shown = card_text(trust_digest_card(position))
    attention = shown.partition("Needs attention")[2].partition("Attendance (open concerns")[0]
    # The reason first, stated once; then the school's figures (its category among them).
    assert f"Oakfield Primary\n{reason} · " in attention
    assert attention.count(reason) == 1 and "\nReinforcement · " in attention
    # On the date itself it has not passed yet.
    async with sessions() as session:
        earlier = await trust_position(session, trust_id=seeded.trust_id, today=DUE)
    oakfield = {s.name: s for s in earlier.schools}["Oakfield Primary"]
    assert oakfield.target_missed is None
    assert not any("target date" in r for r in oakfield.reasons)
