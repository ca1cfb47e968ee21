"""The world of the category, visit and actions tests: seed_trust's trust with an
adviser, the head of St Mary's and the five-categories framework, and visits that
leave actions. Talking to Waypoint is tests/support.py's (`serve`, `Turns`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage.engine import Sessions
from storage.frameworks import install_framework, load_preset
from storage.visits import record_visit
from tests.support import Seeded, add_person

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
            seeded.person_ids[aad] = await add_person(
                session, seeded.trust_id, aad, name, [role], [seeded.school_ids[urn]]
            )
    return seeded


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
