"""`log coaching`: the session card, opened, edited, and saved once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cards.render import render_card
from dialogs.coaching.access import EDIT_REFUSAL, LOGGERS, editable, refused
from dialogs.coaching.named import named_coachee
from dialogs.coaching.verbs import CoachingVerb
from dialogs.coaching.words import session_view
from dialogs.forms import CardForm, FormView, Submission, iso_date, record_id
from dialogs.school_scope import refuse, school_in_trust
from dialogs.turn import Reply, Turn
from storage.coaching import HELD
from storage.coaching.coachees import Coachee, coachable_teachers, coaching_schools
from storage.coaching.sessions import (
    SessionDetails,
    SessionLine,
    coaching_session,
    record_coaching_session,
    session_line,
    update_coaching_session,
)
from storage.engine import AsyncSession
from storage.forms import FormTaken
from storage.models import CoachingSession, CoachingStrand
from storage.strands import active_strands
from storage.waiting import COACHING_STEP

MAX_ACTION_STEP = 500
MAX_NOTES = 4000
# A session is logged after it happens; a day's grace covers clocks and time zones.
FUTURE_GRACE = timedelta(days=1)
OLDEST = timedelta(days=365)
NEXT_SESSION_HORIZON = timedelta(days=180)
# Beyond this many schools (a trust lead's whole trust) the form asks for the school
# first and lists that school's teachers only: the list never grows with the trust.
FORM_SCHOOLS = 5


class CoachingForm(BaseModel):
    """The session card as submitted; every input arrives as a string."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    coachee: int
    held_on: date
    strand: int | None = None
    status: Literal["held", "cancelled"] = "held"
    action_step: str = Field(default="", max_length=MAX_ACTION_STEP)
    notes: str = Field(default="", max_length=MAX_NOTES)
    next_session_on: date | None = None

    @field_validator("strand", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("held_on", "next_session_on", mode="before")
    @classmethod
    def _card_date(cls, value: object) -> object:
        return iso_date(value)


SESSION_FORM = CardForm(
    CoachingForm,
    messages={
        "coachee": "Choose the teacher you coached.",
        "held_on": "Enter the date of the session, like 2026-11-22.",
        "strand": "Choose the focus strand.",
        "status": "Choose whether the session was held or cancelled.",
        "action_step:string_too_long": (
            "Keep the action step to 500 characters (this one is {length})."
        ),
        "notes:string_too_long": "Notes are limited to 4,000 characters (these are {length}).",
        "next_session_on": "Enter the next session's date like 2026-12-06, or leave it empty.",
    },
    start_again="Type log coaching to start a new one.",
)


@dataclass(frozen=True)
class FormContext:
    """What the card lists: the teachers this coach may coach, the trust's strands."""

    coachees: list[Coachee]
    strands: list[CoachingStrand]


async def _context(session: AsyncSession, turn: Turn, school_id: int | None = None) -> FormContext:
    return FormContext(
        coachees=await coachable_teachers(session, turn.actor, school_id=school_id),
        strands=await active_strands(session, trust_id=turn.actor.trust_id),
    )


def _form(
    turn: Turn,
    context: FormContext,
    view: FormView,
    *,
    session_id: int | None = None,
    school_id: int | None = None,
    note: str | None = None,
) -> Reply:
    card = render_card(
        "coaching_form",
        verbs=CoachingVerb,
        title="Edit coaching session" if session_id else "Log a coaching session",
        note=note,
        coachees=[
            {"title": f"{c.name} — {c.school_name}", "value": str(c.person_id)}
            for c in context.coachees
        ],
        strands=[{"title": s.name, "value": str(s.id)} for s in context.strands],
        values=view.values,
        errors=view.errors,
        data={
            "verb": CoachingVerb.save,
            "form_id": view.form_id,
            **({"session_id": session_id} if session_id else {}),
            **({"school_id": school_id} if school_id else {}),
        },
        today=turn.today.isoformat(),
    )
    return Reply(card=card)


async def open_form(turn: Turn) -> Reply:
    """The form; for someone coaching at many schools, first the school (`coaching.school`
    brings its choice back here)."""
    school_id = record_id(turn.data.get("school_id"))
    if school_id is not None:
        # Only a tampered card names a school where this person does not coach.
        school = await school_in_trust(turn, school_id)
        if school is None or not turn.actor.has_role_at(school.id, LOGGERS):
            return await refuse(
                turn, school=school, what="coaching at that school", action="coaching.school"
            )
    async with turn.sessions() as session:
        if school_id is None:
            schools = await coaching_schools(session, turn.actor)
            if len(schools) > FORM_SCHOOLS:
                return _school_choice(schools)
        context = await _context(session, turn, school_id)
    if not context.coachees:
        where = "that school" if school_id else "your schools"
        return Reply(text=f"There are no teachers at {where} for me to list yet.")
    # `log coaching for liam`: Liam chosen, if one teacher fits the name.
    named = named_coachee(context.coachees, turn.args)
    chosen = {"coachee": str(named.coachee.person_id)} if named.coachee else {}
    view = SESSION_FORM.blank(held_on=turn.today.isoformat(), status=HELD, **chosen)
    return _form(turn, context, view, school_id=school_id, note=named.note)


def _school_choice(schools: list[tuple[int, str]]) -> Reply:
    card = render_card(
        "choose_school",
        title="Log a coaching session",
        text="Which school was the session at? You'll see its teachers next.",
        choices=[{"title": name, "value": str(school_id)} for school_id, name in schools],
        data={"verb": CoachingVerb.school},
    )
    return Reply(card=card)


def _values_of(row: CoachingSession) -> dict[str, str]:
    return {
        "coachee": str(row.coachee_id),
        "held_on": row.held_on.isoformat(),
        "strand": str(row.strand_id or ""),
        "status": row.status,
        "action_step": row.action_step,
        "notes": row.notes,
        "next_session_on": row.next_session_on.isoformat() if row.next_session_on else "",
    }


async def edit(turn: Turn) -> Reply:
    session_id = record_id(turn.data.get("session_id"))
    async with turn.sessions.begin() as session:
        row = (
            await coaching_session(session, trust_id=turn.actor.trust_id, session_id=session_id)
            if session_id
            else None
        )
        if row is None or not editable(row, turn):
            await refused(session, turn, "coaching.edit", row)
            return Reply(text=EDIT_REFUSAL)
        school_first = len(await coaching_schools(session, turn.actor)) > FORM_SCHOOLS
        school_id = row.school_id if school_first else None
        context = await _context(session, turn, school_id)
    view = FormView(values=_values_of(row))
    return _form(turn, context, view, session_id=row.id, school_id=school_id)


# -- saving ------------------------------------------------------------------------


def _check(submission: Submission[CoachingForm], context: FormContext, today: date) -> None:
    """The rules that need to know who is asking and what day it is."""
    form = submission.form
    if form is None:
        return
    if form.coachee not in {c.person_id for c in context.coachees}:
        submission.error("coachee", "Choose a teacher from your own schools.")
    if form.held_on > today + FUTURE_GRACE:
        submission.error(
            "held_on", "A session is logged after it happens: this date is in the future."
        )
    elif form.held_on < today - OLDEST:
        submission.error("held_on", "That date is more than a year ago.")
    if form.status == HELD:
        if form.strand is None:
            submission.error("strand", "Choose the focus strand.")
        if not form.action_step:
            submission.error("action_step", "Write the one action step you agreed.")
    if form.strand is not None and form.strand not in {s.id for s in context.strands}:
        submission.error("strand", "Choose one of the trust's focus strands.")
    if form.next_session_on is not None:
        if form.next_session_on < form.held_on:
            submission.error("next_session_on", "The next session comes after this one.")
        elif form.next_session_on > form.held_on + NEXT_SESSION_HORIZON:
            submission.error("next_session_on", "Choose a next session within six months.")


async def save(turn: Turn) -> Reply:
    submission = SESSION_FORM.read(turn)
    if isinstance(submission, Reply):
        return submission
    session_id = record_id(turn.data.get("session_id"))
    school_id = record_id(turn.data.get("school_id"))
    actor = turn.actor
    async with turn.sessions.begin() as session:
        context = await _context(session, turn, school_id)
        _check(submission, context, turn.today)
        chosen = record_id(submission.values["coachee"])
        if chosen is not None and chosen not in {c.person_id for c in context.coachees}:
            # A coachee id outside the coach's reach is a scope attempt, not a typo.
            await refused(session, turn, "coaching.save", None)
        form = submission.form
        if form is None or not submission.valid:
            view = submission.view()
            return _form(turn, context, view, session_id=session_id, school_id=school_id)
        coachee = next(c for c in context.coachees if c.person_id == form.coachee)
        details = SessionDetails(
            coachee_id=form.coachee,
            school_id=coachee.school_id,
            held_on=form.held_on,
            strand_id=form.strand,
            status=form.status,
            action_step=form.action_step,
            notes=form.notes,
            next_session_on=form.next_session_on,
        )
        created = False
        if session_id is not None:
            row = await coaching_session(session, trust_id=actor.trust_id, session_id=session_id)
            if row is None or not editable(row, turn):
                await refused(session, turn, "coaching.edit", row)
                return Reply(text=EDIT_REFUSAL)
            row = await update_coaching_session(session, row=row, details=details)
        else:
            try:
                stored = await record_coaching_session(
                    session,
                    trust_id=actor.trust_id,
                    coach_id=actor.person_id,
                    form_id=submission.form_id,
                    details=details,
                    logged_at=turn.now,
                )
            except FormTaken:
                # Another coach's form id: a tampered card. Their session stays private.
                return SESSION_FORM.out_of_date
            row, created = stored.row, stored.created
        if created or session_id is not None:
            # Written just now from this form: its line needs no second read.
            line = _line_as_written(row, turn, coachee, context)
        else:
            # A double click, a redelivery, or another replica a moment ago: show
            # what was stored then.
            found = await session_line(session, trust_id=actor.trust_id, session_id=row.id)
            assert found is not None
            line = found
        reply = _confirmation(turn, row, line, again=not created and session_id is None)
        if created and row.status == HELD:
            # The coachee's card shows the session as just stored: the confirmation's own
            # line, not a second read in a transaction of its own (bench/README.md). It is
            # queued in the session's own transaction: a crash keeps both or neither.
            await turn.notifier.notify(
                trust_id=actor.trust_id,
                person_id=row.coachee_id,
                reply=Reply(card=render_card("coaching_step", session=session_view(line))),
                kind=COACHING_STEP,
                session=session,
            )
    return reply


def _line_as_written(
    row: CoachingSession, turn: Turn, coachee: Coachee, context: FormContext
) -> SessionLine:
    """The line `session_line` would read back for a session this coach has just written
    (a read costs a statement, and a coaching save's statements are most of its cost)."""
    return SessionLine(
        id=row.id,
        held_on=row.held_on,
        status=row.status,
        coach_id=row.coach_id,
        # Only its own coach writes a session (new, or edited within the window).
        coach_name=turn.actor.display_name,
        coachee_id=row.coachee_id,
        coachee_name=coachee.name,
        strand=next((s.name for s in context.strands if s.id == row.strand_id), ""),
        action_step=row.action_step,
        next_session_on=row.next_session_on,
    )


def _confirmation(turn: Turn, row: CoachingSession, line: SessionLine, *, again: bool) -> Reply:
    card = render_card(
        "coaching_saved",
        verbs=CoachingVerb,
        title="Coaching session saved" if not again else "Already saved",
        subtitle=(
            "This session was saved when you first pressed Save; nothing was stored twice."
            if again
            else None
        ),
        session=session_view(line),
        can_edit=editable(row, turn),
        session_id=row.id,
    )
    return Reply(card=card)
