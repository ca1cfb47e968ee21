"""Incremental coaching: log a session in one card, see mine, see coverage.

Content private, activity visible: a session's notes and action step are shown
only to its coach and its coachee; coverage shows counts and strands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.render import render_card
from dialogs.forms import (
    field_errors,
    new_form_id,
    record_id,
    school_today,
    submitted_text,
    valid_form_id,
)
from dialogs.registry import Registry
from dialogs.school_scope import refuse, school_in_trust
from dialogs.turn import Reply, Turn
from storage.audit import record_refusal
from storage.coaching import (
    COACHING_LOGGERS,
    EDIT_WINDOW,
    HELD,
    Coachee,
    SessionDetails,
    SessionLine,
    coachable_teachers,
    coachees_due,
    coaching_coverage,
    coaching_schools,
    coaching_session,
    record_coaching_session,
    session_by_form,
    session_line,
    sessions_as_coach,
    sessions_as_coachee,
    trust_total,
    update_coaching_session,
)
from storage.directory import Actor
from storage.forms import FormTaken
from storage.models import CoachingSession, CoachingStrand, Role, School, Trust
from storage.schools import SchoolFound, SchoolNotFound, find_school
from storage.strands import active_strands

LOGGERS = COACHING_LOGGERS
COVERAGE_READERS = frozenset({Role.head, Role.trust_lead})
MAX_ACTION_STEP = 500
MAX_NOTES = 4000
# A session is logged after it happens; a day's grace covers clocks and time zones.
FUTURE_GRACE = timedelta(days=1)
OLDEST = timedelta(days=365)
NEXT_SESSION_HORIZON = timedelta(days=180)
# Beyond this many schools (a trust lead's whole trust) the form asks for the school
# first and lists that school's teachers only: the list never grows with the trust.
FORM_SCHOOLS = 5

MESSAGES = {
    "coachee": "Choose the teacher you coached.",
    "held_on": "Enter the date of the session, like 2026-11-22.",
    "strand": "Choose the focus strand.",
    "status": "Choose whether the session was held or cancelled.",
    "action_step:string_too_long": "Keep the action step to 500 characters (this one is {length}).",
    "notes:string_too_long": "Notes are limited to 4,000 characters (these are {length}).",
    "next_session_on": "Enter the next session's date like 2026-12-06, or leave it empty.",
}


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

    @field_validator("strand", "next_session_on", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("held_on", "next_session_on", mode="before")
    @classmethod
    def _iso_date_only(cls, value: object) -> object:
        # pydantic would also take a Unix timestamp; a card's date is YYYY-MM-DD.
        if isinstance(value, str) and value and not (len(value) == 10 and value[4] == "-"):
            raise ValueError("not a date")
        return value


@dataclass(frozen=True)
class FormContext:
    coachees: list[Coachee]
    strands: list[CoachingStrand]
    today: date


def register(registry: Registry) -> None:
    registry.command(
        "log_coaching",
        title="Log coaching",
        summary="Log an incremental coaching session in one card",
        phrases=("log coaching", "coaching", "log a session", "log a coaching session"),
        private=True,
        example="log coaching",
        roles=LOGGERS,
    )(open_form)
    registry.command(
        "my_coaching",
        title="My coaching",
        summary="Your recent sessions, who is due one, your current action step",
        phrases=("my coaching", "my sessions", "my action step"),
        private=True,
    )(my_coaching)
    registry.command(
        "coaching_coverage",
        title="Coaching coverage",
        summary="Share of teachers coached, frequency, cancellations (no content)",
        phrases=("coaching coverage", "coverage"),
        private=False,
        example="coaching coverage [school]",
        roles=COVERAGE_READERS,
    )(coverage)
    registry.verb("coaching.school", private=True, roles=LOGGERS)(open_form)
    registry.verb("coaching.save", private=True, roles=LOGGERS)(save)
    registry.verb("coaching.edit", private=True, roles=LOGGERS)(edit)
    registry.verb("coaching.view", private=True)(view)


# -- the form ----------------------------------------------------------------------


async def _context(session: AsyncSession, turn: Turn, school_id: int | None = None) -> FormContext:
    return FormContext(
        coachees=await coachable_teachers(session, turn.actor, school_id=school_id),
        strands=await active_strands(session, trust_id=turn.actor.trust_id),
        today=school_today(turn.now),
    )


def _form(
    context: FormContext,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    form_id: str,
    session_id: int | None = None,
    school_id: int | None = None,
    note: str | None = None,
) -> Reply:
    card = render_card(
        "coaching_form",
        title="Edit coaching session" if session_id else "Log a coaching session",
        note=note,
        coachees=[
            {"title": f"{c.name} — {c.school_name}", "value": str(c.person_id)}
            for c in context.coachees
        ],
        strands=[{"title": s.name, "value": str(s.id)} for s in context.strands],
        values=values,
        errors=errors or {},
        data={
            "verb": "coaching.save",
            "form_id": form_id,
            **({"session_id": session_id} if session_id else {}),
            **({"school_id": school_id} if school_id else {}),
        },
        today=context.today.isoformat(),
    )
    return Reply(card=card)


async def open_form(turn: Turn) -> Reply:
    """The form; for someone coaching at many schools, first the school (`coaching.school`
    brings its choice back here)."""
    school_id = _int(turn.data.get("school_id"))
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
    values = {"held_on": context.today.isoformat(), "status": HELD}
    return _form(context, values=values, form_id=new_form_id(), school_id=school_id)


def _school_choice(schools: list[tuple[int, str]]) -> Reply:
    card = render_card(
        "choose_school",
        title="Log a coaching session",
        text="Which school was the session at? You'll see its teachers next.",
        choices=[{"title": name, "value": str(school_id)} for school_id, name in schools],
        data={"verb": "coaching.school"},
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


def _editable(row: CoachingSession, actor: Actor, turn: Turn) -> bool:
    return row.coach_id == actor.person_id and turn.now - row.created_at <= EDIT_WINDOW


async def edit(turn: Turn) -> Reply:
    session_id = _int(turn.data.get("session_id"))
    async with turn.sessions.begin() as session:
        row = (
            await coaching_session(session, trust_id=turn.actor.trust_id, session_id=session_id)
            if session_id
            else None
        )
        if row is None or not _editable(row, turn.actor, turn):
            await _refused(session, turn, "coaching.edit", row)
            return Reply(text=_EDIT_REFUSAL)
        school_id = row.school_id if await _school_first(session, turn) else None
        context = await _context(session, turn, school_id)
    return _form(
        context,
        values=_values_of(row),
        form_id=new_form_id(),
        session_id=row.id,
        school_id=school_id,
    )


async def _school_first(session: AsyncSession, turn: Turn) -> bool:
    return len(await coaching_schools(session, turn.actor)) > FORM_SCHOOLS


_EDIT_REFUSAL = (
    "You don't have access to change that session: a session can be changed only "
    "by the coach who logged it, within 7 days."
)


# -- saving ------------------------------------------------------------------------


def _check(form: CoachingForm, context: FormContext) -> dict[str, str]:
    """The rules that need to know who is asking and what day it is."""
    errors: dict[str, str] = {}
    if form.coachee not in {c.person_id for c in context.coachees}:
        errors["coachee"] = "Choose a teacher from your own schools."
    if form.held_on > context.today + FUTURE_GRACE:
        errors["held_on"] = "A session is logged after it happens: this date is in the future."
    elif form.held_on < context.today - OLDEST:
        errors["held_on"] = "That date is more than a year ago."
    if form.status == HELD:
        if form.strand is None:
            errors["strand"] = MESSAGES["strand"]
        if not form.action_step:
            errors["action_step"] = "Write the one action step you agreed."
    if form.strand is not None and form.strand not in {s.id for s in context.strands}:
        errors["strand"] = "Choose one of the trust's focus strands."
    if form.next_session_on is not None:
        if form.next_session_on < form.held_on:
            errors["next_session_on"] = "The next session comes after this one."
        elif form.next_session_on > form.held_on + NEXT_SESSION_HORIZON:
            errors["next_session_on"] = "Choose a next session within six months."
    return errors


async def save(turn: Turn) -> Reply:
    form_id = valid_form_id(turn.data.get("form_id"))
    if form_id is None:
        return Reply(text=_OUT_OF_DATE)
    session_id = _int(turn.data.get("session_id"))
    school_id = _int(turn.data.get("school_id"))
    values = {key: submitted_text(turn.data, key) for key in _FIELDS}
    actor = turn.actor
    created = False
    async with turn.sessions.begin() as session:
        if session_id is None:
            existing = await session_by_form(session, trust_id=actor.trust_id, form_id=form_id)
            if existing is not None and existing.coach_id != actor.person_id:
                # Another coach's form id: a tampered card. Their session stays private.
                return Reply(text=_OUT_OF_DATE)
            if existing is not None:
                # A double click or a redelivery: the first submit stored it.
                return await _confirmation(session, turn, existing, again=True)
        context = await _context(session, turn, school_id)
        try:
            form = CoachingForm.model_validate(values)
            errors = _check(form, context)
        except ValidationError as error:
            errors = field_errors(error, MESSAGES)
        reachable = {str(c.person_id) for c in context.coachees}
        if values["coachee"].isdigit() and values["coachee"] not in reachable:
            # A coachee id outside the coach's reach is a scope attempt, not a typo.
            await _refused(session, turn, "coaching.save", None)
        if errors:
            return _form(
                context,
                values=values,
                errors=errors,
                form_id=form_id,
                session_id=session_id,
                school_id=school_id,
            )
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
        if session_id is not None:
            row = await coaching_session(session, trust_id=actor.trust_id, session_id=session_id)
            if row is None or not _editable(row, actor, turn):
                await _refused(session, turn, "coaching.edit", row)
                return Reply(text=_EDIT_REFUSAL)
            row = await update_coaching_session(session, row=row, details=details)
        else:
            try:
                row, created = await record_coaching_session(
                    session,
                    trust_id=actor.trust_id,
                    coach_id=actor.person_id,
                    form_id=form_id,
                    details=details,
                    logged_at=turn.now,
                )
            except FormTaken:
                return Reply(text=_OUT_OF_DATE)
        if created or session_id is not None:
            # Written just now from this form: its line needs no second read.
            line = _line_as_written(row, actor, coachee, context)
        else:
            # Another replica stored this form a moment ago: show what it stored.
            line = await _line(session, turn, row.id)
        reply = _confirmation_card(turn, row, line, again=not created and session_id is None)
        if created and row.status == HELD:
            # The coachee's card shows the session as just stored: the confirmation's own
            # line, not a second read in a transaction of its own (bench/README.md). It is
            # queued in the session's own transaction: a crash keeps both or neither.
            await turn.notifier.notify(
                trust_id=actor.trust_id,
                person_id=row.coachee_id,
                reply=_step_card(line),
                session=session,
            )
    return reply


_OUT_OF_DATE = "That form is out of date. Type log coaching to start a new one."
_FIELDS = ("coachee", "held_on", "strand", "status", "action_step", "notes", "next_session_on")


async def _stored_form(
    session: AsyncSession, trust_id: int, form_id: str
) -> CoachingSession | None:
    from storage.coaching import session_by_form

    return await session_by_form(session, trust_id=trust_id, form_id=form_id)


async def _line(session: AsyncSession, turn: Turn, session_id: int) -> SessionLine:
    line = await session_line(session, trust_id=turn.actor.trust_id, session_id=session_id)
    assert line is not None
    return line


def _line_as_written(
    row: CoachingSession, actor: Actor, coachee: Coachee, context: FormContext
) -> SessionLine:
    """The line `session_line` would read back for a session this coach has just written
    (a read costs a statement, and a coaching save's statements are most of its cost)."""
    return SessionLine(
        id=row.id,
        held_on=row.held_on,
        status=row.status,
        coach_id=row.coach_id,
        # Only its own coach writes a session (new, or edited within the window).
        coach_name=actor.display_name,
        coachee_id=row.coachee_id,
        coachee_name=coachee.name,
        strand=next((s.name for s in context.strands if s.id == row.strand_id), ""),
        action_step=row.action_step,
        next_session_on=row.next_session_on,
    )


async def _confirmation(
    session: AsyncSession, turn: Turn, row: CoachingSession, *, again: bool
) -> Reply:
    return _confirmation_card(turn, row, await _line(session, turn, row.id), again=again)


def _confirmation_card(
    turn: Turn, row: CoachingSession, line: SessionLine, *, again: bool
) -> Reply:
    card = render_card(
        "coaching_saved",
        title="Coaching session saved" if not again else "Already saved",
        subtitle=(
            "This session was saved when you first pressed Save; nothing was stored twice."
            if again
            else None
        ),
        session=_session_view(line),
        can_edit=_editable(row, turn.actor, turn),
        session_id=row.id,
    )
    return Reply(card=card)


def _step_card(line: SessionLine) -> Reply:
    """The coachee's notice of their new action step."""
    return Reply(card=render_card("coaching_step", session=_session_view(line)))


def _session_view(line: Any) -> dict[str, Any]:
    return {
        "id": line.id,
        "date": _day(line.held_on),
        "status": "Held" if line.status == HELD else "Cancelled",
        "coach": line.coach_name,
        "coachee": line.coachee_name,
        "strand": line.strand or "—",
        "action_step": line.action_step or "—",
        "next_session": _day(line.next_session_on) if line.next_session_on else "not set",
    }


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


# -- reading -----------------------------------------------------------------------


async def my_coaching(turn: Turn) -> Reply:
    actor = turn.actor
    today = school_today(turn.now)
    async with turn.sessions() as session:
        coached = await sessions_as_coach(
            session, trust_id=actor.trust_id, coach_id=actor.person_id
        )
        received = await sessions_as_coachee(
            session, trust_id=actor.trust_id, coachee_id=actor.person_id
        )
        due = []
        if coached:
            interval = await session.scalar(
                select(Trust.coaching_interval_days).where(Trust.id == actor.trust_id)
            )
            due = await coachees_due(
                session,
                trust_id=actor.trust_id,
                coach_id=actor.person_id,
                today=today,
                interval_days=int(interval or 14),
            )
    if not coached and not received:
        return Reply(text="You have no coaching sessions yet.")
    current = next((s for s in received if s.status == HELD and s.action_step), None)
    card = render_card(
        "coaching_mine",
        name=actor.display_name,
        current=_session_view(current) if current else None,
        received=[_session_view(s) for s in received],
        coached=[_session_view(s) for s in coached],
        due=[{"name": d.name, "last": _day(d.last_held_on), "days": d.days_since} for d in due],
        can_log=actor.has_any(LOGGERS),
    )
    return Reply(card=card)


async def view(turn: Turn) -> Reply:
    """One session in full: for its coach and its coachee only."""
    session_id = _int(turn.data.get("session_id"))
    async with turn.sessions.begin() as session:
        line = (
            await session_line(session, trust_id=turn.actor.trust_id, session_id=session_id)
            if session_id
            else None
        )
        if line is None or turn.actor.person_id not in (line.coach_id, line.coachee_id):
            await _refused(session, turn, "coaching.view", None)
            return Reply(
                text="You don't have access to that coaching session: sessions are "
                "private to the coach and the teacher coached."
            )
        row = await coaching_session(session, trust_id=turn.actor.trust_id, session_id=line.id)
    assert row is not None
    card = render_card(
        "coaching_saved",
        title="Coaching session",
        subtitle=None,
        session=_session_view(line) | {"notes": row.notes or "—"},
        can_edit=_editable(row, turn.actor, turn),
        session_id=row.id,
    )
    return Reply(card=card)


async def coverage(turn: Turn) -> Reply:
    actor = turn.actor
    today = school_today(turn.now)
    async with turn.sessions.begin() as session:
        if turn.args:
            match = await find_school(session, trust_id=actor.trust_id, query=turn.args)
            if isinstance(match, SchoolNotFound):
                return Reply(text=f"I couldn't find a school called “{turn.args}” in your trust.")
            if not isinstance(match, SchoolFound):
                names = ", ".join(s.name for s in match.schools)
                return Reply(text=f"Which school did you mean: {names}? Type its full name.")
            school: School = match.school
            if not actor.has_role_at(school.id, COVERAGE_READERS):
                await _refused(session, turn, "coaching.coverage", None, school_id=school.id)
                return Reply(text=f"You don't have access to coaching coverage for {school.name}.")
            school_ids: list[int] | None = [school.id]
        else:
            # Each head sees the schools they head; a trust lead, every school.
            read = actor.schools_where(COVERAGE_READERS)
            school_ids = None if read is None else sorted(read)
        schools = await coaching_coverage(
            session, trust_id=actor.trust_id, school_ids=school_ids, today=today
        )
        target = await session.scalar(
            select(Trust.coaching_target_percent).where(Trust.id == actor.trust_id)
        )
    total = trust_total(schools, actor.trust_name) if len(schools) > 1 else None
    card = render_card(
        "coaching_coverage",
        title=(
            "Coaching coverage — "
            + (schools[0].school_name if len(schools) == 1 else actor.trust_name)
        ),
        target=int(target or 80),
        rows=[_coverage_row(c) for c in schools],
        total=_coverage_row(total) if total else None,
        strands=sorted((total or schools[0]).strands.items(), key=lambda kv: (-kv[1], kv[0]))
        if schools
        else [],
    )
    return Reply(card=card)


def _coverage_row(c: Any) -> dict[str, Any]:
    def percent(value: int | None) -> str:
        return "—" if value is None else f"{value}%"

    return {
        "school": c.school_name,
        "teachers": c.teachers,
        "two_weeks": percent(c.share_2_weeks),
        "six_weeks": percent(c.share_6_weeks),
        "per_teacher": "—" if c.sessions_per_teacher is None else f"{c.sessions_per_teacher:g}",
        "cancelled": percent(c.cancellation_rate),
        "held": c.held_6_weeks,
    }


# -- helpers -----------------------------------------------------------------------


def _int(value: object) -> int | None:
    return record_id(value)


async def _refused(
    session: AsyncSession,
    turn: Turn,
    action: str,
    row: CoachingSession | None,
    *,
    school_id: int | None = None,
) -> None:
    await record_refusal(
        session,
        turn.actor,
        action,
        school_id=school_id if school_id is not None else (row.school_id if row else None),
        subject_type="coaching_session" if row else None,
        subject_id=row.id if row else None,
    )
