"""`qa status` over many schools: a page of schools per card, Previous / Next in place,
the totals across every school the asker may read, and nothing beyond it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.forms import new_form_id
from dialogs.qa.status import SCHOOLS_PER_PAGE
from storage.academic_calendar import default_terms
from storage.engine import Sessions
from storage.models import AuditEvent, School
from storage.qa import QaContent, record_qa_summary
from tests.support import (
    HEAD,
    SUBJECT_LEAD,
    TEACHER,
    TRUST_LEAD,
    Served,
    add_person,
    card_text,
    cards_in,
)
from tests.support import seed_trust as seed_small_trust
from tests.test_qa import IN_AUTUMN_WINDOW, waypoint_at

SCHOOLS = 45
# tests.support's two schools (Oakfield Primary, St Mary's C of E) and these.
EXTRA = SCHOOLS - 2
EXEC_HEAD = "cccccccc-0000-4000-8000-000000000001"  # head of School 01 to School 25
HEADED = 25
# Teams takes a card of up to about 28 KB. A page of schools whose names are at the
# column's 200-character limit is about 13.7 KB as sent; this leaves room for the
# activity around it, and fails long before a page could near Teams' limit.
CARD_BYTES = 16_000


@dataclass
class Trust:
    trust_id: int
    schools: dict[str, int] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return sorted(self.schools)


def extra_name(n: int, *, width: int = 0) -> str:
    """School 07's name: short, or `width` characters long (accents included)."""
    if not width:
        return f"School {n:02d}"
    return (f"School {n:02d} " + "Brontë Academy of St John the Baptist " * 10)[:width]


async def seed_trust(sessions: Sessions, *, width: int = 0) -> Trust:
    """45 schools: each extra school has a Science lead; every third has submitted;
    an executive head heads the first 25 of them."""
    seeded = await seed_small_trust(sessions)
    trust = Trust(seeded.trust_id)
    trust.schools["Oakfield Primary"] = seeded.school_ids["100001"]
    trust.schools["St Mary's C of E"] = seeded.school_ids["100002"]
    autumn = default_terms(2026)[0]
    async with sessions.begin() as session:
        for n in range(1, EXTRA + 1):
            school = School(
                trust_id=trust.trust_id,
                urn=f"3000{n:02d}",
                name=extra_name(n, width=width),
                phase="primary",
            )
            session.add(school)
            await session.flush()
            trust.schools[school.name] = school.id
            lead = await add_person(
                session,
                trust.trust_id,
                f"dddddddd-0000-4000-8000-0000000000{n:02d}",
                f"Lead {n:02d}",
                ["subject_lead"],
                [school.id],
                subjects=["Science"],
            )
            if n % 3 == 0:
                await record_qa_summary(
                    session,
                    trust_id=trust.trust_id,
                    school_id=school.id,
                    subject="Science",
                    term=autumn,
                    author_id=lead,
                    form_id=new_form_id(),
                    content=QaContent("Strong.", "Less strong.", ["deep_dive"], "green", "Go.", ""),
                    submitted_at=IN_AUTUMN_WINDOW - timedelta(days=1),
                )
        headed = [trust.schools[extra_name(n, width=width)] for n in range(1, HEADED + 1)]
        await add_person(session, trust.trust_id, EXEC_HEAD, "Eve Exec", ["head"], headed)
    return trust


def lines(card: dict[str, Any]) -> list[str]:
    """The card's school lines, top to bottom."""
    return [
        element["columns"][0]["items"][0]["text"]
        for element in card["body"]
        if element["type"] == "ColumnSet"
    ]


def school_names(card: dict[str, Any]) -> list[str]:
    return [line.rsplit(": ", 1)[0] for line in lines(card)]


def page_buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {action["title"]: action for action in card.get("actions", [])}


async def turn_page(world: Served, card: dict[str, Any], title: str, user: str) -> dict[str, Any]:
    """Press Previous or Next: its answer is the card that replaces this one."""
    button = page_buttons(card)[title]
    assert button["type"] == "Action.Execute"
    body = await world.execute(button["verb"], button["data"], user)
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    answer: dict[str, Any] = body["value"]
    return answer


async def every_page(world: Served, user: str) -> list[dict[str, Any]]:
    """`qa status`, then Next until there is none."""
    [card] = cards_in(await world.say("qa status", user))
    cards = [card]
    while "Next" in page_buttons(cards[-1]) and len(cards) <= SCHOOLS:
        cards.append(await turn_page(world, cards[-1], "Next", user))
    return cards


def size(card: dict[str, Any]) -> int:
    """Bytes as sent: aiohttp's json.dumps escapes every non-ASCII character."""
    return len(json.dumps(card).encode("ascii"))


async def test_the_trust_status_pages_through_every_school_once_with_trust_totals(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    trust = await seed_trust(sessions)
    async with waypoint_at(engine, sessions) as world:
        cards = await every_page(world, TRUST_LEAD)
        back = await turn_page(world, cards[1], "Previous", TRUST_LEAD)
    first = cards[0]
    assert len(lines(first)) == SCHOOLS_PER_PAGE
    assert size(first) < CARD_BYTES
    # The totals are the trust's: St Mary's History and 43 Science leads, 14 submitted.
    for card in cards:
        assert "Across Test Trust: 14 of 44 submitted." in card_text(card)
    assert lines(first)[:2] == ["Oakfield Primary: 0 of 0 submitted", "School 01: 0 of 1 submitted"]
    assert "School 03: 1 of 1 submitted" in lines(first)
    seen = [name for card in cards for name in school_names(card)]
    assert seen == trust.names
    assert [len(lines(card)) for card in cards] == [20, 20, 5]
    assert "Schools 21–40 of 45 (page 2 of 3)" in card_text(cards[1])
    assert set(page_buttons(first)) == {"Next"}
    assert set(page_buttons(cards[1])) == {"Previous", "Next"}
    assert set(page_buttons(cards[-1])) == {"Previous"}
    assert lines(back) == lines(first)
    # Each line still opens that school's own status.
    details = first["body"][3]["columns"][1]["items"][0]["actions"][0]["data"]
    assert details == {"verb": "qa.status", "school_id": trust.schools["Oakfield Primary"]}


async def test_a_page_past_the_last_shows_the_last_and_a_page_that_is_no_number_the_first(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    trust = await seed_trust(sessions)
    async with waypoint_at(engine, sessions) as world:
        answers = {
            page: (await world.execute("qa.status_page", {"page": page}, TRUST_LEAD))["value"]
            for page in (3, 99, 0, -2, "two", None)
        }
    assert school_names(answers[99]) == school_names(answers[3]) == trust.names[40:]
    assert "page 3 of 3" in card_text(answers[99])
    for nonsense in (0, -2, "two", None):
        assert school_names(answers[nonsense]) == trust.names[:SCHOOLS_PER_PAGE]


async def test_names_at_the_longest_a_school_may_have_keep_the_card_small(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    column = School.__table__.c.name.type
    assert isinstance(column, String) and column.length is not None
    longest = column.length
    await seed_trust(sessions, width=longest)
    async with waypoint_at(engine, sessions) as world:
        [card] = cards_in(await world.say("qa status", TRUST_LEAD))
    assert len(lines(card)) == SCHOOLS_PER_PAGE
    assert max(len(name) for name in school_names(card)) == longest
    assert size(card) < CARD_BYTES


async def test_a_head_of_many_schools_pages_through_their_own_schools_only(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    trust = await seed_trust(sessions)
    own = [extra_name(n) for n in range(1, HEADED + 1)]
    everything = {
        "school_ids": list(trust.schools.values()),
        "school_id": trust.schools["Oakfield Primary"],
    }
    async with waypoint_at(engine, sessions) as world:
        cards = await every_page(world, EXEC_HEAD)
        # A card edited to name every school of the trust still pages through theirs.
        forged = await world.execute("qa.status_page", {"page": 2, **everything}, EXEC_HEAD)
    assert [name for card in cards for name in school_names(card)] == own
    assert [len(lines(card)) for card in cards] == [20, 5]
    # Schools 03, 06, …, 24 have submitted: 8 of the 25.
    for card in cards:
        assert "Across your 25 schools: 8 of 25 submitted." in card_text(card)
    assert school_names(forged["value"]) == own[SCHOOLS_PER_PAGE:]


async def test_a_page_asked_for_by_someone_who_may_not_read_the_trust_shows_only_their_own(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    trust = await seed_trust(sessions)
    others = [name for name in trust.names if name != "Oakfield Primary"]
    async with waypoint_at(engine, sessions) as world:
        answers = {
            user: await world.execute("qa.status_page", {"page": 2}, user)
            for user in (HEAD, SUBJECT_LEAD, TEACHER)
        }
    shown = {user: json.dumps(body["value"], ensure_ascii=False) for user, body in answers.items()}
    # The head of Oakfield: Oakfield's own status, as `qa status` answers them.
    assert "QA summaries at Oakfield Primary" in shown[HEAD]
    # A subject lead: their own subject.
    assert "Your QA summaries" in shown[SUBJECT_LEAD]
    assert "History at St Mary's C of E" in shown[SUBJECT_LEAD]
    # A teacher reads no QA status at all.
    assert answers[TEACHER]["value"].startswith("You don't have access")
    for user in (HEAD, TEACHER):
        assert not [name for name in others if name in shown[user]], user
    assert not [
        name for name in others if name.startswith("School") and name in shown[SUBJECT_LEAD]
    ]
    async with sessions() as session:
        refused = list(
            await session.scalars(select(AuditEvent.action).where(AuditEvent.outcome == "refused"))
        )
    assert refused == ["verb:qa.status_page"]
