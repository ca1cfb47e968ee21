"""Mark done and Update: a school's actions moved on in place, each change checked and
stored in one transaction, then the refreshed list. Sent twice, a change changes
nothing more (an update sets values, done is done, a note that repeats the person's
last one is not added again), so these cards carry no form id."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dialogs.actions.access import keeps_actions_at, rates_actions_at
from dialogs.actions.listing import actions_view
from dialogs.forms import iso_date, record_id, submitted_text, validate
from dialogs.school_scope import refused, school_id_of
from dialogs.turn import Reply, Turn
from storage import schools as school_store
from storage.actions import (
    Rag,
    action_in_trust,
    add_progress_note,
    mark_action_done,
    rate_action,
    reschedule_action,
)
from storage.audit import record_refusal
from storage.engine import AsyncSession
from storage.models import School, SchoolAction

MAX_NOTE = 1000
NOT_THE_RATER = (
    "Only the school's adviser or a trust lead gives an action its RAG rating, at the "
    "next visit; nothing changed. Add a progress note to say how far it has got."
)


class ActionChange(BaseModel):
    """One row's Update as the card submits it: a rating, a due date, a progress note."""

    model_config = ConfigDict(str_strip_whitespace=True)

    rag: Rag | None = None
    due_on: date | None = None
    note: str = Field(default="", max_length=MAX_NOTE)

    @field_validator("rag", mode="before")
    @classmethod
    def _unrated_is_none(cls, value: object) -> object:
        # "Not rated" keeps whatever rating the action has.
        return None if value in ("", "unrated", None) else value

    @field_validator("due_on", mode="before")
    @classmethod
    def _card_date(cls, value: object) -> object:
        return iso_date(value)


CHANGE_MESSAGES = {
    "rag": "Choose a RAG rating from the list; nothing changed.",
    "due_on": "The due date wasn't a date; nothing changed.",
    "note:string_too_long": "Keep the note to 1,000 characters (it is {length}); nothing changed.",
}


def _change_of(turn: Turn, action: SchoolAction) -> tuple[ActionChange | None, str | None]:
    values = {
        "rag": submitted_text(turn.data, f"rag_{action.id}"),
        "due_on": submitted_text(turn.data, f"due_{action.id}"),
        "note": submitted_text(turn.data, f"note_{action.id}"),
    }
    change, errors = validate(ActionChange, values, CHANGE_MESSAGES, context={"today": turn.today})
    return change, next(iter(errors.values()), None)


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


async def mark_done(turn: Turn) -> Reply:
    """Done, says the school: it now waits for the adviser's rating."""
    async with turn.sessions.begin() as session:
        found = await _reachable_action(session, turn, "actions.done")
        if isinstance(found, Reply):
            return found
        action, view_school = found
        done = await mark_action_done(
            session,
            action_id=action.id,
            school_id=action.school_id,
            by_person_id=turn.actor.person_id,
            at=turn.now,
        )
        # A second click finds it done already: say so, and show the same list.
        note = (
            f"Marked done, awaiting the adviser's rating: {action.description}"
            if done
            else "That action was already marked done."
        )
        return await actions_view(session, turn, school=view_school, note=note)


async def update_action(turn: Turn) -> Reply:
    """A progress note or a new due date; a RAG rating from the school's adviser or a
    trust lead only. Checked and stored in one transaction."""
    async with turn.sessions.begin() as session:
        found = await _reachable_action(session, turn, "actions.update")
        if isinstance(found, Reply):
            return found
        action, view_school = found
        change, error = _change_of(turn, action)
        if change is None:
            return await actions_view(session, turn, school=view_school, error=error)
        rating = change.rag is not None and change.rag.value != action.rag
        if rating and not rates_actions_at(turn, action.school_id):
            # Only a tampered card offers a head the rating: refused, kept on the trail.
            await record_refusal(session, turn.actor, "actions.rate", school_id=action.school_id)
            return await actions_view(session, turn, school=view_school, error=NOT_THE_RATER)
        changed = False
        if rating and change.rag is not None:
            changed |= await rate_action(
                session,
                action_id=action.id,
                school_id=action.school_id,
                rag=change.rag,
                by_person_id=turn.actor.person_id,
                at=turn.now,
                only_if_changed=True,
            )
        if change.due_on is not None and change.due_on != action.due_on:
            changed |= await reschedule_action(
                session,
                action_id=action.id,
                school_id=action.school_id,
                due_on=change.due_on,
                at=turn.now,
            )
        if change.note:
            changed |= await add_progress_note(
                session,
                action_id=action.id,
                school_id=action.school_id,
                by_person_id=turn.actor.person_id,
                at=turn.now,
                note=change.note,
            )
        note = f"Updated: {action.description}" if changed else "Nothing to change."
        return await actions_view(session, turn, school=view_school, note=note)
