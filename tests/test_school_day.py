""" "Today" is the school's day (Europe/London), never UTC's: at 00:30 BST a
categorisation, a note of visit and the overdue list are dated the school's day.

Turn-level: the handlers are called with a Turn whose clock reads 2026-06-02T23:30Z,
which is 00:30 on 3 June in London.
"""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dialogs.turn import Reply
from storage.engine import Sessions
from tests.improvement import add_actions, seed_improvement
from tests.support import HEAD, TRUST_LEAD, Turns, card_text, find, seed_trust

HALF_PAST_MIDNIGHT_BST = datetime(2026, 6, 2, 23, 30, tzinfo=UTC)
SCHOOL_DAY = "2026-06-03"


def _input_value(reply: Reply, input_id: str) -> Any:
    assert reply.card is not None, reply.text
    [field] = find(reply.card, id=input_id)
    return field.get("value")


async def test_a_categorisation_started_at_half_past_midnight_bst_is_dated_the_schools_day(
    sessions: Sessions,
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    turns = Turns(sessions, now=HALF_PAST_MIDNIGHT_BST)
    reply = await turns.verb(
        "categorise.start", {"school_id": seeded.school_ids["100001"]}, TRUST_LEAD
    )
    assert _input_value(reply, "decided_on") == SCHOOL_DAY


async def test_a_note_of_visit_started_at_half_past_midnight_bst_is_dated_the_schools_day(
    sessions: Sessions,
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    turns = Turns(sessions, now=HALF_PAST_MIDNIGHT_BST)
    reply = await turns.verb("visit.start", {"school_id": seeded.school_ids["100001"]}, TRUST_LEAD)
    assert _input_value(reply, "visited_on") == SCHOOL_DAY


async def test_an_action_due_yesterday_in_london_is_overdue_at_half_past_midnight_bst(
    sessions: Sessions,
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await add_actions(
        sessions,
        seeded,
        "100001",
        ["Phonics training"],
        due_on=date(2026, 6, 2),
        owner_id=seeded.person_ids[HEAD],
    )
    reply = await Turns(sessions, now=HALF_PAST_MIDNIGHT_BST).command("actions", HEAD)
    assert reply.card is not None, reply.text
    assert "Overdue: was due 2 June 2026" in card_text(reply.card)


def test_no_dialog_or_storage_module_takes_utcs_or_the_machines_date() -> None:
    """`now.date()` and `datetime.now(UTC).date()` are UTC's day and `date.today()` the
    machine's: none is the school's (`turn.today`, `trust_today`)."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for folder in ("dialogs", "storage", "bot"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("date", "today")
                    and not node.args
                    and (
                        (node.func.attr == "date" and _names(node.func.value, "now"))
                        or (node.func.attr == "today" and _names(node.func.value, "date"))
                    )
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []


def _names(node: ast.expr, name: str) -> bool:
    """Whether `node` is `name`, `something.name`, or a call of either (`datetime.now(UTC)`)."""
    if isinstance(node, ast.Call):
        return _names(node.func, name)
    return (isinstance(node, ast.Name) and node.id == name) or (
        isinstance(node, ast.Attribute) and node.attr == name
    )


def test_the_source_check_sees_each_way_of_taking_utcs_date() -> None:
    for source in ("now.date()", "turn.now.date()", "datetime.now(UTC).date()", "date.today()"):
        [statement] = ast.parse(source).body
        assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
        func = statement.value.func
        assert isinstance(func, ast.Attribute)
        assert _names(func.value, "now" if func.attr == "date" else "date"), source
