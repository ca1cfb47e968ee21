"""The coaching form for someone who coaches across a large trust asks for the school
first, then lists that school's teachers only (issue 13, point 9)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.coaching.session_form import FORM_SCHOOLS
from storage.engine import Sessions
from storage.models import CoachingSession, CoachingStrand, School
from storage.strands import set_strands
from tests.support import (
    HEAD,
    TRUST_LEAD,
    add_person,
    card_text,
    inputs,
    only_card,
    seed_trust,
    serve,
)
from tests.test_coaching import NOW, SETTINGS, World, _form_data

SCHOOLS = 30
TEACHERS = 10


@pytest.fixture
async def big(engine: AsyncEngine, sessions: Sessions) -> AsyncIterator[World]:
    """The seeded trust grown to 30 schools of 10 teachers each."""
    seeded = await seed_trust(sessions)
    schools = seeded.school_ids
    async with sessions.begin() as session:
        for number in range(len(schools), SCHOOLS):
            urn = f"2{number:05d}"
            school = School(
                trust_id=seeded.trust_id, urn=urn, name=f"School {number:02d}", phase="primary"
            )
            session.add(school)
            await session.flush()
            schools[urn] = school.id
        for index, (urn, school_id) in enumerate(sorted(schools.items())):
            for number in range(TEACHERS):
                aad = f"ffffffff-{index:04d}-4000-8000-{number:012d}"
                seeded.person_ids[aad] = await add_person(
                    session,
                    seeded.trust_id,
                    aad,
                    f"Teacher {number} of {urn}",
                    ["teacher"],
                    [school_id],
                )
        await set_strands(session, trust_id=seeded.trust_id, names=["Oracy"])
        strands = {s.name: s.id for s in await session.scalars(select(CoachingStrand))}
    async with serve(
        engine, sessions, seeded, settings=SETTINGS, now=NOW, kind=World, strands=strands
    ) as world:
        yield world


def _teacher_choices(card: dict[str, Any]) -> list[str]:
    return [choice["title"] for choice in inputs(card)["coachee"]["choices"]]


async def test_a_trust_lead_chooses_the_school_then_sees_its_teachers_only(big: World) -> None:
    choice = only_card(await big.say("log coaching", TRUST_LEAD))
    assert SCHOOLS > FORM_SCHOOLS
    schools = inputs(choice)["school_id"]["choices"]
    assert len(schools) == SCHOOLS
    assert "Teacher" not in card_text(choice)
    assert choice["actions"][0]["data"] == {"verb": "coaching.school"}

    oakfield = big.schools["100001"]
    reply = await big.submit({"verb": "coaching.school", "school_id": str(oakfield)}, TRUST_LEAD)
    form = only_card(reply)
    # Oakfield's ten, plus the seeded teacher there: never the trust's 300.
    titles = _teacher_choices(form)
    assert len(titles) == TEACHERS + 1
    assert all(title.endswith("Oakfield Primary") for title in titles)
    assert len(json.dumps(form)) < 8_000
    assert form["actions"][0]["data"]["school_id"] == oakfield

    # Saving sends the school back: an error keeps the same short list, and a
    # teacher of another school is not accepted for this one.
    elsewhere = big.people["ffffffff-0005-4000-8000-000000000000"]
    data = _form_data(big, coachee=str(elsewhere), school_id=oakfield)
    again = only_card(await big.submit(data, TRUST_LEAD))
    assert _teacher_choices(again) == titles
    assert await _stored(big) == []

    here = big.people["ffffffff-0000-4000-8000-000000000003"]
    await big.submit(_form_data(big, coachee=str(here), school_id=oakfield), TRUST_LEAD)
    assert await _stored(big) == [(here, oakfield)]


async def test_a_head_of_one_school_gets_the_form_straight_away(big: World) -> None:
    form = only_card(await big.say("log coaching", HEAD))
    titles = _teacher_choices(form)
    assert len(titles) == TEACHERS + 1
    assert "school_id" not in form["actions"][0]["data"]


async def _stored(world: World) -> list[tuple[int, int]]:
    async with world.sessions() as session:
        rows = await session.scalars(select(CoachingSession).order_by(CoachingSession.id))
        return [(row.coachee_id, row.school_id) for row in rows]
