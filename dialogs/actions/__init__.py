"""`my actions`: the actions a school must keep moving, and how each has been rated.

Heads mark them done and say how far they got; the school's adviser (or a trust
lead) gives each its RAG rating at the next visit; governors read them. "Mark done"
and "Update" answer with the refreshed list: in place for Action.Execute, as a new
card for the Action.Submit fallback.

`access` (who), `listing` (the card), `changes` (Mark done, Update).
"""

from __future__ import annotations

from dialogs.actions.access import (
    ACTION_ROLES,
    READERS,
    ActionVerb,
    keeps_actions_at,
    reads_actions_at,
)
from dialogs.actions.changes import mark_done, update_action
from dialogs.actions.listing import actions_view
from dialogs.registry import Registry
from dialogs.school_scope import pick_school, refuse, school_named
from dialogs.turn import Reply, Turn
from storage.models import School

__all__ = ["ActionVerb", "keeps_actions_at", "register"]


async def _show(turn: Turn, school: School | None = None) -> Reply:
    async with turn.sessions() as session:
        return await actions_view(session, turn, school=school)


async def _school_actions(turn: Turn, school: School) -> Reply:
    if not reads_actions_at(turn, school.id):
        return await refuse(
            turn, school=school, what=f"{school.name}'s actions", action="actions.view"
        )
    return await _show(turn, school)


async def my_actions(turn: Turn) -> Reply:
    if not turn.args:
        return await _show(turn)
    found = await pick_school(turn, query=turn.args, verb=ActionVerb.show, asking="its actions")
    if isinstance(found, Reply):
        return found
    return await _school_actions(turn, found)


async def actions_show(turn: Turn) -> Reply:
    school = await school_named(
        turn,
        what="that school's actions",
        action="actions.view",
        missing="Choose a school, or type my actions and its name.",
    )
    if isinstance(school, Reply):
        return school
    return await _school_actions(turn, school)


def register(registry: Registry) -> None:
    registry.command(
        "actions",
        title="My actions",
        summary="Open actions, overdue first (trust leads: overdue across the trust)",
        phrases=(
            "my actions",
            "actions",
            "our actions",
            "overdue actions",
            "overdue",
            "what's overdue",
            "what is overdue",
        ),
        private=True,
        example="my actions",
        roles=READERS,
    )(my_actions)
    registry.verb(ActionVerb.show, private=True, roles=READERS)(actions_show)
    registry.verb(ActionVerb.done, private=True, roles=ACTION_ROLES)(mark_done)
    registry.verb(ActionVerb.update, private=True, roles=ACTION_ROLES)(update_action)
