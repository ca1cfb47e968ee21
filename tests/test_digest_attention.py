"""The trust digest ranks attention: stated reasons only, each once, the most severe
first; one line for every other school; a chart that names every category; pages
that go forward, back, and back to the digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.settings import Settings
from dialogs.digest_cards import CATEGORY_COLOURS, category_colours, trust_digest_card
from storage.coaching.sessions import SessionDetails, record_coaching_session
from storage.digests import trust_position
from storage.engine import Sessions
from storage.frameworks import install_framework, load_preset
from storage.models import (
    Category,
    CoachingStrand,
    QaSummary,
    SchoolAction,
    SchoolCategorisation,
)
from storage.strands import set_strands
from tests.support import (
    HEAD,
    TEACHER,
    TRUST_LEAD,
    Seeded,
    add_person,
    add_school,
    card_actions,
    card_text,
    cards_in,
    execute,
    message,
    seed_trust,
    serve_waypoint,
)

# Thursday in the autumn term's QA window (the term ends Friday 18 December).
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
SETTINGS = Settings(_env_file=None)
BRONTE_TEACHER = "eeeeeeee-0000-4000-8000-000000000001"


async def _categorise(
    session: AsyncSession, trust_id: int, school_id: int, name: str, decided_on: date
) -> None:
    category = await session.scalar(select(Category).where(Category.name == name))
    assert category is not None
    session.add(
        SchoolCategorisation(
            trust_id=trust_id,
            school_id=school_id,
            category_id=category.id,
            category_name=name,
            decided_on=decided_on,
            recorded_at=datetime.combine(decided_on, datetime.min.time(), tzinfo=UTC),
        )
    )


def _action(trust_id: int, school_id: int, due_on: date, rag: str | None = None) -> SchoolAction:
    return SchoolAction(
        trust_id=trust_id, school_id=school_id, description="Plan", due_on=due_on, rag=rag
    )


def _qa(trust_id: int, school_id: int, subject: str, judgement: str, n: int) -> QaSummary:
    return QaSummary(
        trust_id=trust_id,
        school_id=school_id,
        subject=subject,
        academic_year="2026-27",
        term=1,
        term_name="Autumn term",
        version=1,
        strengths="Secret strengths",
        areas_for_development="Secret areas",
        judgement=judgement,
        form_id=f"{n:032d}",
        submitted_at=NOW - timedelta(days=5),
    )


async def _coach(
    session: AsyncSession, seeded: Seeded, coachee: int, school_id: int, form: str
) -> None:
    strand_id = await session.scalar(select(CoachingStrand.id))
    assert strand_id is not None
    await record_coaching_session(
        session,
        trust_id=seeded.trust_id,
        coach_id=seeded.person_ids[HEAD],
        form_id=form * 32,
        details=SessionDetails(
            coachee_id=coachee,
            school_id=school_id,
            held_on=TODAY - timedelta(days=3),
            strand_id=strand_id,
            status="held",
            action_step="Secret step",
            notes="Secret note",
            next_session_on=None,
        ),
        logged_at=NOW - timedelta(days=3),
    )


async def _trust(sessions: Sessions) -> Seeded:
    """Six schools, each in its own state:

    - Repair Academy: Repair, 2 overdue actions, Maths judged red this term;
    - Oakfield Primary: Recovery, 1 overdue and 1 red-rated action, its teacher coached;
    - Reinforcement Juniors: Reinforcement since September 2024, so its target
      (Refinement within 12 to 18 months) fell due on 1 March 2026; nothing else, and no
      teachers listed;
    - St Mary's C of E: Refinement, nobody of its teachers coached;
    - Brontë Academy: Excellence, an action not yet due, English judged green, its
      teacher coached: no issue;
    - Quiet School: not yet categorised, nothing to report."""
    seeded = await seed_trust(sessions)
    trust_id = seeded.trust_id
    oakfield, st_marys = seeded.school_ids["100001"], seeded.school_ids["100002"]
    repair = await add_school(sessions, trust_id, "100003", "Repair Academy")
    juniors = await add_school(sessions, trust_id, "100004", "Reinforcement Juniors")
    bronte = await add_school(sessions, trust_id, "100005", "Brontë Academy")
    await add_school(sessions, trust_id, "100006", "Quiet School")
    seeded.school_ids.update({"100003": repair, "100004": juniors, "100005": bronte})
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=load_preset("five-categories"))
        await set_strands(session, trust_id=trust_id, names=["Oracy"])
        await session.flush()
        july = date(2026, 7, 9)
        await _categorise(session, trust_id, repair, "Repair", july)
        await _categorise(session, trust_id, oakfield, "Recovery", july)
        await _categorise(session, trust_id, juniors, "Reinforcement", date(2024, 9, 1))
        await _categorise(session, trust_id, st_marys, "Refinement", july)
        await _categorise(session, trust_id, bronte, "Excellence", july)
        session.add_all(
            [
                _action(trust_id, repair, TODAY - timedelta(days=3)),
                _action(trust_id, repair, TODAY - timedelta(days=10)),
                _action(trust_id, oakfield, TODAY - timedelta(days=1)),
                _action(trust_id, oakfield, TODAY + timedelta(days=7), rag="red"),
                _action(trust_id, bronte, TODAY + timedelta(days=20)),
                _qa(trust_id, repair, "Maths", "red", 1),
                _qa(trust_id, bronte, "English", "green", 2),
            ]
        )
        teacher = await add_person(
            session, trust_id, BRONTE_TEACHER, "Beth Teacher", ["teacher"], [bronte]
        )
        await session.flush()
        await _coach(session, seeded, seeded.person_ids[TEACHER], oakfield, "a")
        await _coach(session, seeded, teacher, bronte, "b")
    return seeded


EXPECTED = {
    "Repair Academy": ["Repair category", "2 overdue actions", "1 red QA judgement (Maths)"],
    "Oakfield Primary": ["Recovery category", "1 overdue action"],
    "Reinforcement Juniors": ["target date passed: 1 March 2026, not yet Refinement"],
    "St Mary's C of E": ["coaching 0% in 6 weeks (target 80%)"],
}


def _blocks(card: dict[str, Any]) -> list[dict[str, Any]]:
    return list(card["body"])


async def test_the_attention_list_states_each_reason_once_most_severe_first(
    sessions: Sessions,
) -> None:
    seeded = await _trust(sessions)
    async with sessions() as session:
        position = await trust_position(session, trust_id=seeded.trust_id, today=TODAY)
    ordered = position.attention_first()
    attention = [s for s in ordered if s.needs_attention]
    assert [(s.name, s.reasons) for s in attention] == list(EXPECTED.items())
    assert [s.name for s in ordered if not s.needs_attention] == ["Brontë Academy", "Quiet School"]

    card = trust_digest_card(position)
    shown = card_text(card)
    assert "Needs attention (4)" in shown and "Other schools (2)" in shown
    entries = [b for b in _blocks(card) if b["type"] == "Container"]
    assert [e["items"][0]["text"] for e in entries] == list(EXPECTED)
    for entry in entries:
        name = entry["items"][0]["text"]
        text = card_text({"body": entry["items"]})
        assert entry["items"][1]["text"] == " · ".join(EXPECTED[name])
        for reason in EXPECTED[name]:
            assert text.count(reason) == 1, (name, reason)
    # The category that is a reason is not repeated in the school's figures.
    oakfield = card_text({"body": entries[1]["items"]})
    assert oakfield.count("Recovery") == 1 and "1 overdue" not in oakfield.split("\n")[2]
    # Brontë (Excellence, nothing wrong) is one line among the others, not under attention.
    others = [b for b in _blocks(card) if b["type"] == "RichTextBlock"]
    lines = ["".join(run["text"] for run in b["inlines"]) for b in others]
    assert lines == [
        "Brontë Academy · Excellence · 1 open action · visits 0/6 · coached 100% in 6 weeks",
        "Quiet School · not yet categorised · 0 open actions · visits 0/6",
    ]
    assert "Secret" not in str(card)


async def test_a_red_judgement_stands_between_qa_windows_of_the_year(
    sessions: Sessions,
) -> None:
    seeded = await _trust(sessions)
    # 20 January: the autumn window closed on 8 January; the spring one is not open.
    async with sessions() as session:
        later = await trust_position(session, trust_id=seeded.trust_id, today=date(2027, 1, 20))
        september = await trust_position(session, trust_id=seeded.trust_id, today=date(2027, 9, 20))
    assert (
        "1 red QA judgement (Maths)" in {s.name: s for s in later.schools}["Repair Academy"].reasons
    )
    # A new academic year starts afresh.
    assert not any("red QA" in r for s in september.schools for r in s.reasons)


@pytest.mark.parametrize("today", [TODAY, date(2027, 1, 20)])
async def test_the_attention_list_takes_the_same_statements_however_many_schools(
    engine: AsyncEngine, sessions: Sessions, today: date
) -> None:
    seeded = await _trust(sessions)

    async def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            async with sessions() as session:
                position = await trust_position(session, trust_id=seeded.trust_id, today=today)
                trust_digest_card(position)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        return len(seen)

    few = await statements()
    for n in range(12):
        school_id = await add_school(sessions, seeded.trust_id, f"4000{n:02d}", f"School {n}")
        async with sessions.begin() as session:
            await _categorise(session, seeded.trust_id, school_id, "Recovery", date(2024, 9, 1))
            session.add(_action(seeded.trust_id, school_id, today - timedelta(days=2)))
            session.add(_qa(seeded.trust_id, school_id, "Maths", "red", 100 + n))
    assert await statements() == few


def test_every_category_has_a_colour_of_its_own() -> None:
    for n in range(2, len(CATEGORY_COLOURS) + 1):
        names = [f"Category {i}" for i in range(n)] + ["Not yet categorised"]
        colours = category_colours(names)
        assert len(set(colours)) == n + 1, n
        assert colours[0] == "categoricalGreen" and colours[n - 1] == "categoricalRed"
        assert colours[-1] == "neutral"


async def test_the_chart_names_every_category_with_a_text_fallback(
    sessions: Sessions,
) -> None:
    seeded = await _trust(sessions)
    async with sessions() as session:
        position = await trust_position(session, trust_id=seeded.trust_id, today=TODAY)
    card = trust_digest_card(position)
    [chart] = [b for b in _blocks(card) if b["type"] == "Chart.HorizontalBar"]
    everything = [
        "Excellence",
        "Refinement",
        "Reinforcement",
        "Recovery",
        "Repair",
        "Not yet categorised",
    ]
    assert [bar["x"] for bar in chart["data"]] == everything
    assert [bar["y"] for bar in chart["data"]] == [1, 1, 1, 1, 1, 1]
    assert len({bar["color"] for bar in chart["data"]}) == len(everything)
    fallback = chart["fallback"]
    assert fallback["type"] == "FactSet"
    assert [(f["title"], f["value"]) for f in fallback["facts"]] == [(n, "1") for n in everything]


def _press(card: dict[str, Any], title: str) -> dict[str, Any]:
    [(verb, data)] = [
        (verb, data)
        for action, (verb, data) in zip(card["actions"], card_actions(card), strict=True)
        if action["title"] == title
    ]
    return {k: v for k, v in data.items() if k != "verb"} | {"_verb": verb}


async def test_show_all_schools_pages_forward_and_back_and_returns_to_the_digest(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    for n in range(17):  # 23 schools: pages of 10, 10 and 3
        await add_school(sessions, seeded.trust_id, f"5000{n:02d}", f"Zeta School {n:02d}")
    async with serve_waypoint(engine, SETTINGS) as (client, waypoint):
        waypoint.bot.clock = lambda: NOW

        async def press(card: dict[str, Any], title: str) -> dict[str, Any]:
            data = _press(card, title)
            verb = data.pop("_verb")
            response = await client.post("/api/messages", json=execute(verb, data, user=TRUST_LEAD))
            answer: dict[str, Any] = (await response.json())["value"]
            return answer

        reply = await client.post(
            "/api/messages", json=message("digest", user=TRUST_LEAD, expect_replies=True)
        )
        [digest] = cards_in((await reply.json())["activities"])
        first = await press(digest, "Show all schools")
        second = await press(first, "Next")
        third = await press(second, "Next")
        back = await press(third, "Previous")
        again = await press(back, "Previous")
        home = await press(again, "Back to the digest")

    def names(card: dict[str, Any]) -> list[str]:
        return [b["items"][0]["text"] for b in card["body"] if b["type"] == "Container"]

    titles = [[a["title"] for a in c["actions"]] for c in (first, second, third)]
    assert titles == [
        ["Next", "Back to the digest"],
        ["Previous", "Next", "Back to the digest"],
        ["Previous", "Back to the digest"],
    ]
    assert "Page 1 of 3 · 23 schools, 4 needing attention (listed first)" in card_text(first)
    assert "Page 2 of 3" in card_text(second) and "Page 3 of 3" in card_text(third)
    every = names(first) + names(second) + names(third)
    assert len(every) == len(set(every)) == 23
    assert every[:4] == list(EXPECTED)
    assert names(back) == names(second) and names(again) == names(first)
    assert "Weekly digest — Test Trust" in card_text(home)
    assert card_text(home) == card_text(digest)
