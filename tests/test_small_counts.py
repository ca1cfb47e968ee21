"""Attendance counts by vulnerable group: small numbers are not shown to those who may
not see the pupils (issue 13, point 9)."""

from __future__ import annotations

import json
from typing import Any

from tests.support import HEAD, TEACHER, TRUST_LEAD, card_text, only_card
from tests.test_attendance import (  # noqa: F401  (the fixture is used by name)
    AL_A,
    World,
    _seed_concern,
    world,
)


def _section(card: dict[str, Any], heading: str) -> dict[str, str]:
    """The facts under a section heading of the counts card."""
    body = card["body"]
    for index, item in enumerate(body):
        if item.get("type") == "TextBlock" and item.get("text") == heading:
            facts = body[index + 1]["facts"]
            return {f["title"]: f["value"] for f in facts}
    raise AssertionError(f"no section {heading!r} in {card_text(card)}")


async def _seed(world: World) -> None:  # noqa: F811
    """Oakfield: six open EAL concerns; one of them is also the only looked-after pupil's."""
    for number in range(6):
        groups = ["eal", "looked_after"] if number == 0 else ["eal"]
        await _seed_concern(
            world, pupil=f"SC{number}", form_id=f"{number}".ljust(32, "f"), vulnerable=groups
        )


async def test_a_teacher_sees_fewer_than_5_for_small_groups_and_zero(world: World) -> None:  # noqa: F811
    await _seed(world)
    card = only_card(await world.say("concerns", TEACHER))
    groups = _section(card, "By vulnerable group")
    assert groups == {
        "Disadvantaged / pupil premium": "fewer than 5",
        "SEN support": "fewer than 5",
        "EHCP": "fewer than 5",
        "Child in need or child protection": "fewer than 5",
        # One pupil: the teacher must not learn that the looked-after child has a concern.
        "Looked after": "fewer than 5",
        "EAL": "6",
        "Young carer": "fewer than 5",
    }
    assert not any(f"SC{n}" in json.dumps(card) for n in range(6))
    # Counts that say nothing about a group stay exact.
    assert _section(card, "By stage")["Monitor"] == "6"


async def test_a_trust_lead_without_an_attendance_role_gets_the_same(world: World) -> None:  # noqa: F811
    await _seed(world)
    card = only_card(await world.say("concerns", TRUST_LEAD))
    groups = _section(card, "By vulnerable group")
    assert groups["Looked after"] == "fewer than 5" and groups["EAL"] == "6"


async def test_the_schools_attendance_lead_and_head_see_the_pupils(world: World) -> None:  # noqa: F811
    await _seed(world)
    for user in (AL_A, HEAD):
        card = only_card(await world.say("concerns", user))
        shown = card_text(card)
        assert "SC0" in shown and "fewer than" not in shown, user
