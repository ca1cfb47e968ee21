"""`my actions`: the open actions a head, an adviser or a trust lead must keep moving.

"Mark done" and "Update" answer with the refreshed list: in place for Action.Execute,
as a new card for the Action.Submit fallback.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.render import render_card
from dialogs.forms import record_id, school_today
from dialogs.registry import Registry
from dialogs.school_scope import (
    long_date,
    pick_school,
    refuse,
    school_id_of,
    school_in_trust,
    school_named,
)
from dialogs.turn import Reply, Turn
from storage.actions import (
    ActionList,
    Rag,
    action_in_trust,
    mark_action_done,
    open_actions,
    overdue_actions,
    rate_action,
    reschedule_action,
)
from storage.models import Role, School, SchoolAction

# Heads, advisers (their schools) and trust leads keep actions moving; admins load data.
ACTION_ROLES = frozenset({Role.head, Role.sia, Role.trust_lead})
# Rows on one card: enough to act on, well under Teams' card size limit.
MAX_SHOWN = 12
# Characters of a description the list shows; the action keeps its full text.
SHOWN_LENGTH = 240


async def actions_view(
    turn: Turn, *, school: School | None = None, note: str | None = None, error: str | None = None
) -> Reply:
    """The actor's list: one school's open actions, their schools' open actions, or
    (trust-wide roles) the overdue actions across the trust."""
    actor = turn.actor
    today = school_today(turn.now)
    view: dict[str, Any] = {}
    async with turn.sessions() as session:
        if school is not None:
            listed = await open_actions(
                session,
                trust_id=actor.trust_id,
                school_ids=[school.id],
                today=today,
                limit=MAX_SHOWN,
            )
            title, empty = f"Open actions: {school.name}", f"{school.name} has no open actions."
            view["school_id"] = school.id
        elif (kept := actor.schools_where(ACTION_ROLES)) is None:
            listed = await overdue_actions(
                session, trust_id=actor.trust_id, today=today, limit=MAX_SHOWN
            )
            title = f"Overdue actions across {actor.trust_name}"
            empty = "No action is overdue at any school of the trust."
        else:
            listed = await open_actions(
                session,
                trust_id=actor.trust_id,
                school_ids=kept,
                today=today,
                limit=MAX_SHOWN,
            )
            title, empty = (
                "Your open actions",
                "Nothing open: no action is waiting at your schools.",
            )
    return Reply(
        card=_card(
            listed,
            title=title,
            empty=empty,
            view=view,
            note=note,
            error=error,
            several_schools=school is None,
            today=today,
        )
    )


def _card(
    listed: ActionList,
    *,
    title: str,
    empty: str,
    view: dict[str, Any],
    note: str | None,
    error: str | None,
    several_schools: bool,
    today: date,
) -> dict[str, Any]:
    rows = []
    for row in listed.rows:
        detail = [f"Owner: {row.owner_name or 'nobody yet'}", f"RAG: {row.rag or 'not rated'}"]
        if several_schools:
            detail.insert(0, row.school_name)
        if row.due_on is None:
            due = "No due date"
        elif row.overdue:
            due = f"Overdue: was due {long_date(row.due_on)}"
        else:
            due = f"Due {long_date(row.due_on)}"
        rows.append(
            {
                "id": row.id,
                "description": _shorten(row.description),
                "detail": " · ".join(detail),
                "due": due,
                "due_value": row.due_on.isoformat() if row.due_on else "",
                "overdue": row.overdue,
                "rag": row.rag,
            }
        )
    more = (
        f"Showing the first {len(rows)} of {listed.total}; mark some done to see the rest."
        if listed.total > len(rows)
        else ""
    )
    return render_card(
        "actions",
        title=title,
        rows=rows,
        empty=empty,
        view=view,
        note=note,
        error=error,
        more=more,
    )


def _shorten(text: str) -> str:
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1].rstrip() + "…"


def _action_id(data: dict[str, Any]) -> int | None:
    return record_id(data.get("action_id"))


async def _reachable_action(turn: Turn, verb: str) -> SchoolAction | Reply:
    """The action the card names, if it is this person's to change."""
    action_id = _action_id(turn.data)
    async with turn.sessions() as session:
        action = (
            await action_in_trust(session, trust_id=turn.actor.trust_id, action_id=action_id)
            if action_id is not None
            else None
        )
        school = await session.get(School, action.school_id) if action is not None else None
    if action_id is not None and action is None:
        # Actions are never deleted: an id that isn't the trust's comes from a
        # tampered card (or another trust's). Refused, audited, not said to exist.
        return await refuse(turn, school=None, what="that action", action=verb)
    if action is None or school is None:
        return await actions_view(
            turn, school=await _view_school(turn), error="That action no longer exists."
        )
    if not keeps_actions_at(turn, action.school_id):
        return await refuse(turn, school=school, what=f"{school.name}'s actions", action=verb)
    return action


def keeps_actions_at(turn: Turn, school_id: int) -> bool:
    """A head or adviser at this school, or a trust lead: a role elsewhere gives nothing."""
    return turn.actor.has_role_at(school_id, ACTION_ROLES)


async def _view_school(turn: Turn) -> School | None:
    """The school the refreshed list was about, if the person still reaches it."""
    school = await school_in_trust(turn, school_id_of(turn.data))
    return school if school is not None and keeps_actions_at(turn, school.id) else None


def _optional_date(value: Any) -> date | str | None:
    """A date from a card input: None when empty, the raw text when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return value


def register(registry: Registry) -> None:
    @registry.command(
        "actions",
        title="My actions",
        summary="Open actions at your school (trust leads: overdue across the trust)",
        phrases=("my actions", "actions", "our actions", "overdue actions"),
        private=True,
        example="my actions",
        roles=ACTION_ROLES,
    )
    async def my_actions(turn: Turn) -> Reply:
        if not turn.args:
            return await actions_view(turn)
        found = await pick_school(turn, query=turn.args, verb="actions.show", asking="its actions")
        if isinstance(found, Reply):
            return found
        if not keeps_actions_at(turn, found.id):
            return await refuse(
                turn, school=found, what=f"{found.name}'s actions", action="actions.view"
            )
        return await actions_view(turn, school=found)

    @registry.verb("actions.show", private=True, roles=ACTION_ROLES)
    async def actions_show(turn: Turn) -> Reply:
        school = await school_named(
            turn,
            what="that school's actions",
            action="actions.view",
            missing="Choose a school, or type my actions and its name.",
        )
        if isinstance(school, Reply):
            return school
        if not keeps_actions_at(turn, school.id):
            return await refuse(
                turn, school=school, what=f"{school.name}'s actions", action="actions.view"
            )
        return await actions_view(turn, school=school)

    @registry.verb("actions.done", private=True, roles=ACTION_ROLES)
    async def actions_done(turn: Turn) -> Reply:
        action = await _reachable_action(turn, "actions.done")
        if isinstance(action, Reply):
            return action
        async with turn.sessions.begin() as session:
            closed = await mark_action_done(
                session,
                action_id=action.id,
                school_id=action.school_id,
                by_person_id=turn.actor.person_id,
                at=turn.now,
            )
        # A second click finds it closed already: say so, and show the same list.
        note = f"Marked done: {action.description}" if closed else "That action was already closed."
        return await actions_view(turn, school=await _view_school(turn), note=note)

    @registry.verb("actions.update", private=True, roles=ACTION_ROLES)
    async def actions_update(turn: Turn) -> Reply:
        action = await _reachable_action(turn, "actions.update")
        if isinstance(action, Reply):
            return action
        view_school = await _view_school(turn)
        rag_value = turn.data.get(f"rag_{action.id}")
        due = _optional_date(turn.data.get(f"due_{action.id}"))
        if isinstance(due, str):
            return await actions_view(
                turn, school=view_school, error="The due date wasn't a date; nothing changed."
            )
        rag = (
            Rag(rag_value) if isinstance(rag_value, str) and rag_value in Rag.__members__ else None
        )
        changed = False
        async with turn.sessions.begin() as session:
            if rag is not None and rag.value != action.rag:
                changed |= await rate_action(
                    session,
                    action_id=action.id,
                    school_id=action.school_id,
                    rag=rag,
                    by_person_id=turn.actor.person_id,
                    at=turn.now,
                    only_if_changed=True,
                )
            if due is not None and due != action.due_on:
                changed |= await reschedule_action(
                    session,
                    action_id=action.id,
                    school_id=action.school_id,
                    due_on=due,
                    at=turn.now,
                )
        note = f"Updated: {action.description}" if changed else "Nothing to change."
        return await actions_view(turn, school=view_school, note=note)
