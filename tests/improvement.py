"""Helpers for the category, visit and actions tests: an adviser, a framework, HTTP turns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from storage.engine import Sessions as Sessions
from storage.frameworks import install_framework, load_preset
from storage.models import Person, School
from storage.visits import record_visit
from tests.support import Seeded, cards_in, count_rows, execute, message, role_rows

Client = TestClient[web.Request, web.Application]

# An adviser for Oakfield Primary (100001) only.
SIA = "aaaaaaaa-0000-4000-8000-000000000006"
# The head of St Mary's (100002).
OTHER_HEAD = "aaaaaaaa-0000-4000-8000-000000000007"


async def seed_improvement(sessions: Sessions, seeded: Seeded) -> Seeded:
    """seed_trust's trust plus an adviser, St Mary's head and the five-categories framework."""
    async with sessions.begin() as session:
        await install_framework(
            session, trust_id=seeded.trust_id, spec=load_preset("five-categories")
        )
        for aad, name, role, urn in (
            (SIA, "Sian Adviser", "sia", "100001"),
            (OTHER_HEAD, "Mo Head", "head", "100002"),
        ):
            person = Person(
                trust_id=seeded.trust_id,
                aad_object_id=aad,
                email=f"{name.split()[0].lower()}@example.org",
                display_name=name,
            )
            person.roles = role_rows([role], [seeded.school_ids[urn]])
            session.add(person)
            await session.flush()
            seeded.person_ids[aad] = person.id
    return seeded


async def add_school(sessions: Sessions, trust_id: int, urn: str, name: str) -> int:
    async with sessions.begin() as session:
        school = School(trust_id=trust_id, urn=urn, name=name, phase="primary")
        session.add(school)
        await session.flush()
        return school.id


async def add_actions(
    sessions: Sessions,
    seeded: Seeded,
    urn: str,
    steps: list[str],
    *,
    due_on: date,
    number: int = 1,
    owner_id: int | None = None,
) -> list[int]:
    """A visit at the school leaving these next steps; their action ids."""
    async with sessions.begin() as session:
        recorded = await record_visit(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids[urn],
            adviser_id=seeded.person_ids[SIA],
            number=number,
            visited_on=date(2025, 9, 15),
            focus="Early reading",
            strengths="",
            risks="",
            next_visit_on=None,
            next_steps=steps,
            owner_id=owner_id,
            due_on=due_on,
            ratings={},
            form_id=f"form-{urn}-{number}-{len(steps)}-{due_on.isoformat()}",
            at=datetime(2025, 9, 15, 15, tzinfo=UTC),
        )
        return [action.id for action in recorded.actions]


async def say(client: Client, text: str, *, user: str) -> list[dict[str, Any]]:
    """What Waypoint answers to a typed message (expectReplies)."""
    response = await client.post(
        "/api/messages", json=message(text, user=user, expect_replies=True)
    )
    assert response.status == 200, await response.text()
    activities: list[dict[str, Any]] = (await response.json())["activities"]
    return activities


async def submit(client: Client, value: dict[str, Any], *, user: str) -> list[dict[str, Any]]:
    """What Waypoint answers to an Action.Submit (the card's data merged with its inputs)."""
    response = await client.post(
        "/api/messages", json=message("", user=user, value=value, expect_replies=True)
    )
    assert response.status == 200, await response.text()
    activities: list[dict[str, Any]] = (await response.json())["activities"]
    return activities


async def invoke(client: Client, verb: str, data: dict[str, Any], *, user: str) -> dict[str, Any]:
    """The body Waypoint answers to an Action.Execute (adaptiveCard/action invoke)."""
    response = await client.post("/api/messages", json=execute(verb, data, user=user))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def only_card(activities: list[dict[str, Any]]) -> dict[str, Any]:
    cards = cards_in(activities)
    assert len(cards) == 1, activities
    return cards[0]


def texts(activities: list[dict[str, Any]]) -> str:
    return "\n".join(a.get("text") or "" for a in activities)


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    """The data of the card's first Action.Submit (its verb and form id)."""
    data: dict[str, Any] = card["actions"][0]["data"]
    return dict(data)


def find(node: Any, **wanted: Any) -> list[dict[str, Any]]:
    """Every element of a card with these properties."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if all(node.get(k) == v for k, v in wanted.items()):
            found.append(node)
        for value in node.values():
            found.extend(find(value, **wanted))
    elif isinstance(node, list):
        for item in node:
            found.extend(find(item, **wanted))
    return found


async def stored_rows(sessions: Sessions) -> dict[str, int]:
    """Rows per table, leaving out the bookkeeping every turn does (delivery dedup, state)."""
    rows = await count_rows(sessions)
    return {k: v for k, v in rows.items() if k not in ("processed_activity", "bot_state")}
