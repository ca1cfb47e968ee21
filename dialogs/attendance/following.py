"""Following a concern through: the update card (stage, action, next review) and
the close card, each applied once however often it arrives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cards.render import render_card
from dialogs.attendance.concern_card import concern_card, followable
from dialogs.attendance.fields import MAX_TEXT, one_of
from dialogs.attendance.verbs import AttendanceVerb
from dialogs.attendance.words import choices, day
from dialogs.forms import CardForm, FormView, Submission, iso_date
from dialogs.turn import Reply, Turn
from storage.attendance import OPEN
from storage.attendance.concerns import (
    ChangeTaken,
    ConcernUpdate,
    applied_change,
    close_concern,
    record_view,
    update_concern,
)
from storage.attendance.rules import OUTCOMES, STAGES
from storage.engine import AsyncSession
from storage.models import AttendanceConcern
from storage.schools import school_in_trust

REVIEW_HORIZON = timedelta(days=365)
OLDEST_ACTION = timedelta(days=365)
DEFAULT_REVIEW = timedelta(days=14)


class UpdateForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    stage: str
    action: str = Field(default="", max_length=MAX_TEXT)
    action_on: date | None = None
    next_review_on: date

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        return one_of(value, STAGES)

    @field_validator("action_on", "next_review_on", mode="before")
    @classmethod
    def _dates(cls, value: object) -> object:
        return iso_date(value)


class CloseForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    outcome: str
    note: str = Field(default="", max_length=MAX_TEXT)

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str) -> str:
        return one_of(value, OUTCOMES)


UPDATE_FORM = CardForm(
    UpdateForm,
    messages={
        "stage": "Choose the stage.",
        "action:string_too_long": "Keep the action to 2,000 characters (it is {length}).",
        "action_on": "Enter the date of the action, like 2026-11-22.",
        "next_review_on": "Enter the next review date, like 2026-12-02.",
    },
    start_again="Open the concern again to update it.",
)
CLOSE_FORM = CardForm(
    CloseForm,
    messages={
        "outcome": "Choose the outcome.",
        "note:string_too_long": "Keep the note to 2,000 characters (it is {length}).",
    },
    start_again="Open the concern again to close it.",
)


async def _title(session: AsyncSession, row: AttendanceConcern, what: str) -> str:
    school = await school_in_trust(session, trust_id=row.trust_id, school_id=row.school_id)
    return f"{what}: {row.pupil_ref}, {school.name if school else 'a school'}"


async def _update_form(
    session: AsyncSession, turn: Turn, row: AttendanceConcern, view: FormView
) -> Reply:
    card = render_card(
        "attendance_update_form",
        verbs=AttendanceVerb,
        title=await _title(session, row, "Update concern"),
        stages=choices(STAGES),
        values=view.values,
        errors=view.errors,
        today=turn.today.isoformat(),
        data={"verb": AttendanceVerb.update, "form_id": view.form_id, "concern_id": row.id},
    )
    return Reply(card=card)


async def _close_form(
    session: AsyncSession, turn: Turn, row: AttendanceConcern, view: FormView
) -> Reply:
    card = render_card(
        "attendance_close_form",
        verbs=AttendanceVerb,
        title=await _title(session, row, "Close concern"),
        outcomes=choices(OUTCOMES),
        values=view.values,
        errors=view.errors,
        data={"verb": AttendanceVerb.close, "form_id": view.form_id, "concern_id": row.id},
    )
    return Reply(card=card)


def _closed_already(turn: Turn, row: AttendanceConcern) -> Reply:
    closed = day(turn.local(row.closed_at).date()) if row.closed_at else "earlier"
    return Reply(text=f"That concern was closed on {closed}; nothing changed.")


async def edit(turn: Turn) -> Reply:
    today = turn.today
    async with turn.sessions.begin() as session:
        found = await followable(session, turn, "attendance.edit")
        if isinstance(found, Reply):
            return found
        if found.status != OPEN:
            return _closed_already(turn, found)
        await record_view(session, actor=turn.actor, concern=found, action="attendance.edit")
        review = (
            found.next_review_on if found.next_review_on and found.next_review_on > today else None
        )
        view = UPDATE_FORM.blank(
            stage=found.stage,
            action="",
            action_on=today.isoformat(),
            next_review_on=(review or today + DEFAULT_REVIEW).isoformat(),
        )
        return await _update_form(session, turn, found, view)


def _check_update(submission: Submission[UpdateForm], row: AttendanceConcern, today: date) -> None:
    form = submission.form
    if form is None:
        return
    action_on = form.action_on or today
    if form.action:
        if action_on > today:
            submission.error(
                "action_on", "An action is recorded after it happens: this date is in the future."
            )
        elif action_on < today - OLDEST_ACTION:
            submission.error("action_on", "That date is more than a year ago.")
    if form.next_review_on < today:
        submission.error("next_review_on", "Choose today or a later date for the next review.")
    elif form.next_review_on > today + REVIEW_HORIZON:
        submission.error("next_review_on", "Choose a review within a year.")
    if (
        submission.valid
        and form.stage == row.stage
        and not form.action
        and form.next_review_on == row.next_review_on
    ):
        submission.error(
            "form", "Nothing to save: move the stage, record an action or change the review date."
        )


async def _applied_before(
    session: AsyncSession,
    turn: Turn,
    row: AttendanceConcern,
    submission: Submission[UpdateForm] | Submission[CloseForm],
    *,
    kind: str,
) -> Reply | None:
    """The answer to a card applied before (a double click, a redelivery), else None.

    Asked before the card is checked: the card's own change would otherwise make it
    read "nothing to save" or "closed already".
    """
    change = await applied_change(session, trust_id=turn.actor.trust_id, form_id=submission.form_id)
    if change is None:
        return None
    card_form = UPDATE_FORM if kind == "update" else CLOSE_FORM
    if (change.concern_id, change.kind) != (row.id, kind):
        # A card of another concern: only tampering mixes them up.
        return card_form.out_of_date
    await record_view(session, actor=turn.actor, concern=row, action="attendance.view")
    if kind == "update":
        title = "Already saved"
        subtitle = "This update was saved when you first pressed Save; nothing was stored twice."
    else:
        title = "Already closed"
        subtitle = (
            "This concern was closed when you first pressed the button; nothing was stored twice."
        )
    return await concern_card(session, turn, row, title=title, subtitle=subtitle)


F = TypeVar("F", UpdateForm, CloseForm)


async def _apply_card(
    turn: Turn,
    card: CardForm[F],
    *,
    kind: str,
    check: Callable[[Submission[F], AttendanceConcern, date], None],
    draw: Callable[[AsyncSession, Turn, AttendanceConcern, FormView], Awaitable[Reply]],
    apply: Callable[[AsyncSession, Turn, AttendanceConcern, Submission[F], F], Awaitable[bool]],
    done: str,
) -> Reply:
    """An update or close card, from the submit to the answer, in one transaction."""
    submission = card.read(turn)
    if isinstance(submission, Reply):
        return submission
    async with turn.sessions.begin() as session:
        found = await followable(session, turn, f"attendance.{kind}")
        if isinstance(found, Reply):
            return found
        before = await _applied_before(session, turn, found, submission, kind=kind)
        if before is not None:
            return before
        if found.status != OPEN:
            return _closed_already(turn, found)
        check(submission, found, turn.today)
        form = submission.form
        if form is None or not submission.valid:
            return await draw(session, turn, found, submission.view())
        try:
            applied = await apply(session, turn, found, submission, form)
        except ChangeTaken:
            return card.out_of_date
        if not applied:
            # Another replica applied this card a moment ago.
            again = await _applied_before(session, turn, found, submission, kind=kind)
            assert again is not None
            return again
        return await concern_card(session, turn, found, title=done, good=True)


async def update(turn: Turn) -> Reply:
    async def apply(
        session: AsyncSession,
        turn: Turn,
        row: AttendanceConcern,
        submission: Submission[UpdateForm],
        form: UpdateForm,
    ) -> bool:
        return await update_concern(
            session,
            row=row,
            by=turn.actor.person_id,
            form_id=submission.form_id,
            change=ConcernUpdate(
                stage=form.stage,
                action_on=(form.action_on or turn.today) if form.action else None,
                action=form.action,
                next_review_on=form.next_review_on,
            ),
            at=turn.now,
        )

    return await _apply_card(
        turn,
        UPDATE_FORM,
        kind="update",
        check=_check_update,
        draw=_update_form,
        apply=apply,
        done="Concern updated",
    )


async def closing(turn: Turn) -> Reply:
    async with turn.sessions.begin() as session:
        found = await followable(session, turn, "attendance.closing")
        if isinstance(found, Reply):
            return found
        if found.status != OPEN:
            return _closed_already(turn, found)
        await record_view(session, actor=turn.actor, concern=found, action="attendance.closing")
        return await _close_form(session, turn, found, CLOSE_FORM.blank())


async def close(turn: Turn) -> Reply:
    async def apply(
        session: AsyncSession,
        turn: Turn,
        row: AttendanceConcern,
        submission: Submission[CloseForm],
        form: CloseForm,
    ) -> bool:
        return await close_concern(
            session,
            row=row,
            by=turn.actor.person_id,
            form_id=submission.form_id,
            outcome=form.outcome,
            note=form.note,
            at=turn.now,
        )

    def nothing_more(
        submission: Submission[CloseForm], row: AttendanceConcern, today: date
    ) -> None:
        # The close card's model says all there is to check.
        return None

    return await _apply_card(
        turn,
        CLOSE_FORM,
        kind="close",
        check=nothing_more,
        draw=_close_form,
        apply=apply,
        done="Concern closed",
    )
