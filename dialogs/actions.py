"""`my actions`: the open actions a head, an adviser or a trust lead must keep moving.

"Mark done" and "Update" answer with the refreshed list: in place for Action.Execute,
as a new card for the Action.Submit fallback.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from cards.render import render_card
from dialogs.forms import iso_date, record_id, submitted_text, validate
from dialogs.registry import Registry
from dialogs.school_scope import pick_school, refuse, refused, school_id_of, school_named
from dialogs.turn import Reply, Turn
from dialogs.words import long_date
from storage import schools as school_store
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
from storage.engine import AsyncSession
from storage.models import Role, School, SchoolAction


class ActionVerb(StrEnum):
    show = "actions.show"
    done = "actions.done"
    update = "actions.update"


# Heads, advisers (their schools) and trust leads keep actions moving; admins load data.
ACTION_ROLES = frozenset({Role.head, Role.sia, Role.trust_lead})
# Rows on one card: enough to act on, well under Teams' card size limit.
MAX_SHOWN = 12
# Characters of a description the list shows; the action keeps its full text.
SHOWN_LENGTH = 240


async def actions_view(
    session: AsyncSession,
    turn: Turn,
    *,
    school: School | None = None,
    note: str | None = None,
    error: str | None = None,
) -> Reply:
    """The actor's list: one school's open actions, their schools' open actions, or
    (trust-wide roles) the overdue actions across the trust."""
    actor = turn.actor
    today = turn.today
    view: dict[str, Any] = {}
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
        verbs=ActionVerb,
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


def keeps_actions_at(turn: Turn, school_id: int) -> bool:
    """A head or adviser at this school, or a trust lead: a role elsewhere gives nothing."""
    return turn.actor.has_role_at(school_id, ACTION_ROLES)


async def _view_school(session: AsyncSession, turn: Turn) -> School | None:
    """The school the refreshed list was about, if the person still reaches it."""
    school_id = school_id_of(turn.data)
    if school_id is None:
        return None
    school = await school_store.school_in_trust(
        session, trust_id=turn.actor.trust_id, school_id=school_id
    )
    return school if school is not None and keeps_actions_at(turn, school.id) else None


async def _reachable_action(
    session: AsyncSession, turn: Turn, verb: str
) -> tuple[SchoolAction, School | None] | Reply:
    """The action the card names, if it is this person's to change, with the school
    the list was about; else the answer (a refusal, audited, or the list again)."""
    action_id = record_id(turn.data.get("action_id"))
    action = (
        await action_in_trust(session, trust_id=turn.actor.trust_id, action_id=action_id)
        if action_id is not None
        else None
    )
    if action_id is not None and action is None:
        # Actions are never deleted: an id that isn't the trust's comes from a
        # tampered card (or another trust's). Refused, audited, not said to exist.
        return await refused(session, turn, school=None, what="that action", action=verb)
    view_school = await _view_school(session, turn)
    if action is None:
        return await actions_view(
            session, turn, school=view_school, error="That action no longer exists."
        )
    if not keeps_actions_at(turn, action.school_id):
        school = await school_store.school_in_trust(
            session, trust_id=turn.actor.trust_id, school_id=action.school_id
        )
        name = f"{school.name}'s actions" if school else "that action"
        return await refused(session, turn, school=school, what=name, action=verb)
    return action, view_school


class ActionChange(BaseModel):
    """One row's Update: its RAG rating and due date as the card submits them."""

    model_config = ConfigDict(str_strip_whitespace=True)

    rag: Rag | None = None
    due_on: date | None = None

    @field_validator("rag", mode="before")
    @classmethod
    def _unrated_is_none(cls, value: object) -> object:
        # "Not rated" keeps whatever rating the action has.
        return None if value in ("", "unrated", None) else value

    @field_validator("due_on", mode="before")
    @classmethod
    def _card_date(cls, value: object) -> object:
        return iso_date(value)


# An update changes an action in place: sent twice it changes nothing more, so its
# card carries no form id, and the row's inputs are validated as a form's are.
CHANGE_MESSAGES = {
    "rag": "Choose a RAG rating from the list; nothing changed.",
    "due_on": "The due date wasn't a date; nothing changed.",
}


def _change_of(turn: Turn, action: SchoolAction) -> tuple[ActionChange | None, str | None]:
    values = {
        "rag": submitted_text(turn.data, f"rag_{action.id}"),
        "due_on": submitted_text(turn.data, f"due_{action.id}"),
    }
    change, errors = validate(ActionChange, values, CHANGE_MESSAGES, context={"today": turn.today})
    return change, next(iter(errors.values()), None)


async def _show(turn: Turn, school: School | None = None) -> Reply:
    async with turn.sessions() as session:
        return await actions_view(session, turn, school=school)


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
            return await _show(turn)
        found = await pick_school(turn, query=turn.args, verb=ActionVerb.show, asking="its actions")
        if isinstance(found, Reply):
            return found
        if not keeps_actions_at(turn, found.id):
            return await refuse(
                turn, school=found, what=f"{found.name}'s actions", action="actions.view"
            )
        return await _show(turn, found)

    @registry.verb(ActionVerb.show, private=True, roles=ACTION_ROLES)
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
        return await _show(turn, school)

    registry.verb(ActionVerb.done, private=True, roles=ACTION_ROLES)(mark_done)
    registry.verb(ActionVerb.update, private=True, roles=ACTION_ROLES)(update_action)


async def mark_done(turn: Turn) -> Reply:
    """Close an action; the refreshed list in the same transaction."""
    async with turn.sessions.begin() as session:
        found = await _reachable_action(session, turn, "actions.done")
        if isinstance(found, Reply):
            return found
        action, view_school = found
        closed = await mark_action_done(
            session,
            action_id=action.id,
            school_id=action.school_id,
            by_person_id=turn.actor.person_id,
            at=turn.now,
        )
        # A second click finds it closed already: say so, and show the same list.
        note = f"Marked done: {action.description}" if closed else "That action was already closed."
        return await actions_view(session, turn, school=view_school, note=note)


async def update_action(turn: Turn) -> Reply:
    """A new RAG rating or due date, checked and stored in one transaction."""
    async with turn.sessions.begin() as session:
        found = await _reachable_action(session, turn, "actions.update")
        if isinstance(found, Reply):
            return found
        action, view_school = found
        change, error = _change_of(turn, action)
        if change is None:
            return await actions_view(session, turn, school=view_school, error=error)
        rag, due = change.rag, change.due_on
        changed = False
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
        return await actions_view(session, turn, school=view_school, note=note)
