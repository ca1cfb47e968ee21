"""Attendance concerns: raise one in a card, follow it through, close it.

Anyone on a school's staff raises a concern for that school. Its attendance
leads and head (and trust-level attendance leads) see, update and close it;
everyone else gets counts. Every look at a concern and every change is audited
by id; nothing here logs, and the notice to the attendance leads carries no
pupil data.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from cards.render import render_card
from dialogs.forms import (
    SCHOOL_TIME,
    field_errors,
    new_form_id,
    record_id,
    school_today,
    submitted_text,
    valid_form_id,
)
from dialogs.registry import Registry
from dialogs.school_scope import pick_school, school_id_of, school_in_trust
from dialogs.turn import Reply, Turn
from storage.attendance import (
    CONCERN_TYPES,
    OPEN,
    OUTCOMES,
    STAGES,
    SUBJECT,
    VULNERABLE_GROUPS,
    YEAR_GROUPS,
    AttendanceCounts,
    ChronologyEntry,
    ConcernDetails,
    ConcernLine,
    ConcernUpdate,
    attendance_counts,
    attendance_leads,
    chronology,
    close_concern,
    concern_by_form,
    concern_in_trust,
    followed_schools,
    form_concern,
    may_follow,
    open_concerns,
    person_name,
    raisable_schools,
    raise_concern,
    record_view,
    update_concern,
)
from storage.audit import record_event, record_refusal
from storage.directory import schools_of
from storage.models import AttendanceConcern, School

MAX_TEXT = 2000
# A list card stays well under Teams' size limit; the rest wait their turn.
LIST_LIMIT = 30
REVIEW_HORIZON = timedelta(days=365)
OLDEST_ACTION = timedelta(days=365)
DEFAULT_REVIEW = timedelta(days=14)

NO_ACCESS = (
    "You don't have access to that attendance concern: concerns are seen only by "
    "the school's attendance leads and head."
)
_REF = re.compile(r"^[A-Z0-9]{1,20}$")
# Initials are short; a longer run of letters is most likely a name.
MAX_INITIALS = 4

RAISE_MESSAGES = {
    "school": "Choose the school.",
    "year_group": "Choose the year group.",
    "attendance_percent": "Enter attendance as a percentage from 0 to 100, like 88.5.",
    "attendance_percent:decimal_max_places": "Give the percentage to two decimal places at most.",
    "unauthorised_sessions": (
        "Enter a whole number of sessions from 0 to 100 (ten weeks of two sessions a day)."
    ),
    "concern_type": "Choose the kind of concern.",
    "vulnerable": "Choose from the groups listed.",
    "done_so_far:string_too_long": "Keep this to 2,000 characters (it is {length}).",
    "stage": "Choose the stage.",
}
UPDATE_MESSAGES = {
    "stage": "Choose the stage.",
    "action:string_too_long": "Keep the action to 2,000 characters (it is {length}).",
    "action_on": "Enter the date of the action, like 2026-11-22.",
    "next_review_on": "Enter the next review date, like 2026-12-02.",
}
CLOSE_MESSAGES = {
    "outcome": "Choose the outcome.",
    "note:string_too_long": "Keep the note to 2,000 characters (it is {length}).",
}


def _one_of(value: str, allowed: dict[str, str]) -> str:
    if value not in allowed:
        raise ValueError("not one of the choices")
    return value


def _iso_date(value: object) -> object:
    # pydantic would also take a Unix timestamp; a card's date is YYYY-MM-DD.
    if value == "":
        return None
    if isinstance(value, str) and not (len(value) == 10 and value[4] == "-"):
        raise ValueError("not a date")
    return value


class RaiseForm(BaseModel):
    """The raise card as submitted; every input arrives as a string."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    school: int
    pupil_ref: str
    year_group: str
    attendance_percent: Decimal = Field(ge=0, le=100, decimal_places=2)
    unauthorised_sessions: int = Field(ge=0, le=100)
    concern_type: str
    vulnerable: list[str] = Field(default_factory=list)
    done_so_far: str = Field(default="", max_length=MAX_TEXT)
    stage: str

    @field_validator("pupil_ref")
    @classmethod
    def _reference_not_name(cls, value: str) -> str:
        ref = value.upper()
        if not _REF.match(ref):
            raise ValueError(
                "Use letters and digits only: the MIS id (like 40213) or initials (like JS)."
            )
        if ref.isalpha() and len(ref) > MAX_INITIALS:
            raise ValueError(
                "That looks like a name. Use initials (up to 4 letters) or the MIS id."
            )
        return ref

    @field_validator("attendance_percent", mode="before")
    @classmethod
    def _percentage(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("not a number")
        if isinstance(value, float | int):
            value = repr(value)
        if isinstance(value, str):
            try:
                # "90.00" and "90" are the same figure: only places that are not
                # trailing zeros count towards the two allowed.
                number = Decimal(value.strip().removesuffix("%").strip())
            except InvalidOperation:
                raise ValueError("not a number") from None
            if not number.is_finite():
                raise ValueError("not a number")
            return number.normalize()
        return value

    @field_validator("year_group")
    @classmethod
    def _year_group(cls, value: str) -> str:
        return _one_of(value.upper(), YEAR_GROUPS)

    @field_validator("concern_type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _one_of(value, CONCERN_TYPES)

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        return _one_of(value, STAGES)

    @field_validator("vulnerable", mode="before")
    @classmethod
    def _groups(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            for group in value:
                _one_of(str(group), VULNERABLE_GROUPS)
            return sorted(set(value), key=list(VULNERABLE_GROUPS).index)
        return value


class UpdateForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    stage: str
    action: str = Field(default="", max_length=MAX_TEXT)
    action_on: date | None = None
    next_review_on: date

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        return _one_of(value, STAGES)

    @field_validator("action_on", "next_review_on", mode="before")
    @classmethod
    def _dates(cls, value: object) -> object:
        return _iso_date(value)


class CloseForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    outcome: str
    note: str = Field(default="", max_length=MAX_TEXT)

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str) -> str:
        return _one_of(value, OUTCOMES)


def register(registry: Registry) -> None:
    registry.command(
        "raise_concern",
        title="Raise a concern",
        summary="Raise a pupil attendance concern with your school's attendance lead",
        phrases=(
            "raise concern",
            "raise a concern",
            "attendance",
            "attendance concern",
            "raise an attendance concern",
        ),
        private=True,
        example="raise concern",
    )(open_form)
    registry.command(
        "attendance_concerns",
        title="Attendance concerns",
        summary="Open attendance concerns, the most overdue review first (others see counts)",
        phrases=("concerns", "attendance concerns", "open concerns"),
        private=True,
        example="concerns [school]",
    )(list_concerns)
    registry.verb("attendance.save", private=True)(save)
    registry.verb("attendance.open", private=True)(open_concern)
    registry.verb("attendance.edit", private=True)(edit)
    registry.verb("attendance.update", private=True)(update)
    registry.verb("attendance.closing", private=True)(closing)
    registry.verb("attendance.close", private=True)(close)
    registry.verb("attendance.list", private=True)(list_school)


# -- raising -----------------------------------------------------------------------

_RAISE_FIELDS = (
    "school",
    "pupil_ref",
    "year_group",
    "attendance_percent",
    "unauthorised_sessions",
    "concern_type",
    "vulnerable",
    "done_so_far",
    "stage",
)


def _choices(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"title": title, "value": key} for key, title in items.items()]


def _raise_form(
    schools: list[School],
    *,
    values: dict[str, str],
    form_id: str,
    errors: dict[str, str] | None = None,
) -> Reply:
    card = render_card(
        "attendance_form",
        schools=[{"title": s.name, "value": str(s.id)} for s in schools],
        year_groups=_choices(YEAR_GROUPS),
        concern_types=_choices(CONCERN_TYPES),
        vulnerable_groups=_choices(VULNERABLE_GROUPS),
        stages=_choices(STAGES),
        values=values,
        errors=errors or {},
        data={"verb": "attendance.save", "form_id": form_id},
    )
    return Reply(card=card)


async def open_form(turn: Turn) -> Reply:
    async with turn.sessions.begin() as session:
        schools = await raisable_schools(session, turn.actor)
        if not schools:
            # Trust-wide roles are no school's staff: a refusal, kept on the trail.
            await record_refusal(session, turn.actor, "attendance.raise")
    if not schools:
        return Reply(
            text="Concerns are raised by a school's own staff, and Waypoint doesn't link "
            "you to a school yet; your trust admin can."
        )
    values = {"stage": "monitor"}
    if len(schools) == 1:
        values["school"] = str(schools[0].id)
    return _raise_form(schools, values=values, form_id=new_form_id())


async def save(turn: Turn) -> Reply:
    form_id = valid_form_id(turn.data.get("form_id"))
    if form_id is None:
        return Reply(text="That form is out of date. Type raise concern to start a new one.")
    actor = turn.actor
    values = {key: submitted_text(turn.data, key) for key in _RAISE_FIELDS}
    async with turn.sessions.begin() as session:
        existing = await concern_by_form(session, form_id=form_id)
        if existing is not None:
            return await _already_raised(session, turn, existing)
        schools = await raisable_schools(session, actor)
        school_id = school_id_of({"school_id": values["school"]})
        if school_id is not None and school_id not in {s.id for s in schools}:
            # A school outside the person's reach is a scope attempt, not a typo.
            await record_refusal(
                session,
                actor,
                "attendance.raise",
                school_id=await _school_of_trust(session, turn, school_id),
            )
            return Reply(
                text="You don't have access to raise concerns for that school: concerns "
                "are raised by the school's own staff."
            )
        try:
            form = RaiseForm.model_validate(values)
            errors: dict[str, str] = {}
        except ValidationError as error:
            errors = field_errors(error, RAISE_MESSAGES)
        if errors:
            return _raise_form(schools, values=values, form_id=form_id, errors=errors)
        if form.school not in {s.id for s in schools}:
            # The form's parsing reads more than plain digits ("+5", "5.0"): the school
            # it names must pass the same check as above, or nothing is stored.
            await record_refusal(session, actor, "attendance.raise")
            return Reply(
                text="You don't have access to raise concerns for that school: concerns "
                "are raised by the school's own staff."
            )
        row, created = await raise_concern(
            session,
            trust_id=actor.trust_id,
            raised_by=actor.person_id,
            form_id=form_id,
            details=ConcernDetails(
                school_id=form.school,
                pupil_ref=form.pupil_ref,
                year_group=form.year_group,
                attendance_percent=form.attendance_percent,
                unauthorised_sessions=form.unauthorised_sessions,
                concern_type=form.concern_type,
                vulnerable=form.vulnerable,
                done_so_far=form.done_so_far,
                stage=form.stage,
            ),
            raised_at=turn.now,
            today=school_today(turn.now),
        )
        if not created:
            return await _already_raised(session, turn, row)
        leads = [
            p
            for p in await attendance_leads(
                session, trust_id=actor.trust_id, school_id=row.school_id
            )
            if p != actor.person_id
        ]
        school = await session.get(School, row.school_id)
        assert school is not None
        if leads:
            note = (
                f"{school.name}'s attendance lead has been told; the notice carries "
                "no pupil details."
            )
        elif may_follow(actor, row.school_id):
            note = None
        else:
            note = (
                f"Nobody is set up as attendance lead for {school.name} yet: please tell your head."
            )
        reply = await _concern_card(
            session,
            turn,
            row,
            title="Attendance concern raised",
            note=note,
            good=True,
            with_chronology=False,
        )
        notice = Reply(
            card=render_card(
                "attendance_notice",
                school=school.name,
                raised=_moment(row.raised_at),
                concern_id=row.id,
            )
        )
        # In the concern's own transaction: a crash can't keep the concern and lose
        # the leads' notice.
        for person_id in leads:
            await turn.notifier.notify(
                trust_id=actor.trust_id, person_id=person_id, reply=notice, session=session
            )
    return reply


async def _school_of_trust(session: AsyncSession, turn: Turn, school_id: int) -> int | None:
    """The school id for the audit trail, only when it is one of this trust's schools."""
    school = await session.get(School, school_id)
    return school.id if school is not None and school.trust_id == turn.actor.trust_id else None


async def _already_raised(session: AsyncSession, turn: Turn, row: AttendanceConcern) -> Reply:
    if row.raised_by != turn.actor.person_id or row.trust_id != turn.actor.trust_id:
        # Only the person who raised it sees it again through its form.
        return Reply(text="That form has been used already. Type raise concern to start a new one.")
    await record_view(session, actor=turn.actor, concern=row, action="attendance.view")
    return await _concern_card(
        session,
        turn,
        row,
        title="Already raised",
        subtitle="This concern was raised when you first pressed the button; "
        "nothing was stored twice.",
        with_chronology=False,
    )


# -- one concern -----------------------------------------------------------------


def _concern_id(data: dict[str, Any]) -> int | None:
    return record_id(data.get("concern_id"))


async def _followable(session: AsyncSession, turn: Turn, action: str) -> AttendanceConcern | Reply:
    """The concern the card names, if this person may see it; else a refusal, audited."""
    concern_id = _concern_id(turn.data)
    row = (
        await concern_in_trust(session, trust_id=turn.actor.trust_id, concern_id=concern_id)
        if concern_id is not None
        else None
    )
    if row is not None and may_follow(turn.actor, row.school_id):
        return row
    await record_refusal(
        session,
        turn.actor,
        action,
        school_id=row.school_id if row else None,
        subject_type=SUBJECT if row else None,
        subject_id=row.id if row else None,
    )
    return Reply(text=NO_ACCESS)


async def open_concern(turn: Turn) -> Reply:
    """A concern with its chronology: for those who follow the school's concerns only."""
    async with turn.sessions.begin() as session:
        found = await _followable(session, turn, "attendance.view")
        if isinstance(found, Reply):
            return found
        await record_view(session, actor=turn.actor, concern=found, action="attendance.view")
        return await _concern_card(session, turn, found, title="Attendance concern")


async def _concern_card(
    session: AsyncSession,
    turn: Turn,
    row: AttendanceConcern,
    *,
    title: str,
    subtitle: str | None = None,
    note: str | None = None,
    good: bool = False,
    with_chronology: bool = True,
) -> Reply:
    school = await session.get(School, row.school_id)
    assert school is not None
    raiser = await person_name(session, row.raised_by)
    entries = await chronology(session, concern_id=row.id) if with_chronology else []
    today = school_today(turn.now)
    facts = [
        ("Pupil", row.pupil_ref),
        ("School", school.name),
        ("Year group", YEAR_GROUPS.get(row.year_group, row.year_group)),
        ("Attendance this year", _percent(row.attendance_percent)),
        (
            "Unauthorised sessions",
            f"{row.unauthorised_sessions_10_weeks} in the last 10 school weeks",
        ),
        ("Concern", CONCERN_TYPES.get(row.concern_type, row.concern_type)),
        ("Vulnerable groups", _groups(row.vulnerable)),
        ("Stage", STAGES.get(row.stage, row.stage)),
        ("Status", _status(row)),
    ]
    if row.status == OPEN:
        facts.append(("Next review", _review(row.next_review_on, today)[0]))
    facts.append(
        ("Raised", f"{_day(_school_date(row.raised_at))} by {raiser or 'a former member of staff'}")
    )
    concern = {
        "facts": facts,
        "flags": _flags(row),
        "done_so_far": row.done_so_far,
    }
    card = render_card(
        "attendance_concern",
        title=title,
        subtitle=subtitle,
        note=note,
        good=good,
        concern=concern,
        entries=[_entry(e, row) for e in entries],
        can_follow=may_follow(turn.actor, row.school_id),
        is_open=row.status == OPEN,
        concern_id=row.id,
    )
    return Reply(card=card)


def _flags(row: AttendanceConcern) -> list[tuple[str, str]]:
    return [
        (
            "Persistent absence",
            "Yes: attendance is 90% or below (missing 10% or more of sessions)"
            if row.persistent_absence
            else "No: attendance is above 90%",
        ),
        (
            "Severe absence",
            "Yes: attendance is 50% or below (missing half or more of sessions)"
            if row.severe_absence
            else "No: attendance is above 50%",
        ),
        (
            "Penalty notice",
            "Consider a penalty notice under the national framework "
            "(10 or more unauthorised sessions in 10 school weeks)"
            if row.consider_penalty_notice
            else "Not indicated (fewer than 10 unauthorised sessions in 10 school weeks)",
        ),
    ]


def _entry(entry: ChronologyEntry, row: AttendanceConcern) -> dict[str, str]:
    who = entry.by or "Waypoint"
    stage = STAGES.get(entry.stage or "", entry.stage or "")
    if entry.kind == "raised":
        what = f"Raised at stage {stage}"
    elif entry.kind == "stage":
        what = f"Stage moved to {stage}"
    elif entry.kind == "action":
        what = f"Action on {_day(entry.on_date)}" if entry.on_date else "Action"
    elif entry.kind == "review":
        what = (
            f"Next review set for {_day(entry.on_date)}" if entry.on_date else "Review date cleared"
        )
    elif entry.kind == "closed":
        what = f"Closed: {OUTCOMES.get(row.outcome or '', 'no outcome given')}"
    elif entry.kind == "anonymised":
        what = "Anonymised at the end of the trust's retention period"
    else:
        what = entry.kind
    when = entry.at.astimezone(SCHOOL_TIME)
    return {"heading": f"{_day(when.date())} {when:%H:%M} · {who} · {what}", "text": entry.text}


# -- updating and closing ----------------------------------------------------------


def _update_form(
    row: AttendanceConcern,
    school: School,
    *,
    values: dict[str, str],
    form_id: str,
    today: date,
    errors: dict[str, str] | None = None,
) -> Reply:
    card = render_card(
        "attendance_update_form",
        title=f"Update concern: {row.pupil_ref}, {school.name}",
        stages=_choices(STAGES),
        values=values,
        errors=errors or {},
        today=today.isoformat(),
        data={"verb": "attendance.update", "form_id": form_id, "concern_id": row.id},
    )
    return Reply(card=card)


def _close_form(
    row: AttendanceConcern,
    school: School,
    *,
    values: dict[str, str],
    form_id: str,
    errors: dict[str, str] | None = None,
) -> Reply:
    card = render_card(
        "attendance_close_form",
        title=f"Close concern: {row.pupil_ref}, {school.name}",
        outcomes=_choices(OUTCOMES),
        values=values,
        errors=errors or {},
        data={"verb": "attendance.close", "form_id": form_id, "concern_id": row.id},
    )
    return Reply(card=card)


def _closed_already(row: AttendanceConcern) -> Reply:
    closed = _day(_school_date(row.closed_at)) if row.closed_at else "earlier"
    return Reply(text=f"That concern was closed on {closed}; nothing changed.")


async def edit(turn: Turn) -> Reply:
    today = school_today(turn.now)
    async with turn.sessions.begin() as session:
        found = await _followable(session, turn, "attendance.edit")
        if isinstance(found, Reply):
            return found
        if found.status != OPEN:
            return _closed_already(found)
        await record_view(session, actor=turn.actor, concern=found, action="attendance.edit")
        school = await session.get(School, found.school_id)
    assert school is not None
    review = found.next_review_on if found.next_review_on and found.next_review_on > today else None
    values = {
        "stage": found.stage,
        "action": "",
        "action_on": today.isoformat(),
        "next_review_on": (review or today + DEFAULT_REVIEW).isoformat(),
    }
    return _update_form(found, school, values=values, form_id=new_form_id(), today=today)


def _check_update(
    form: UpdateForm, row: AttendanceConcern, today: date
) -> tuple[dict[str, str], date | None]:
    errors: dict[str, str] = {}
    action_on = form.action_on or today
    if form.action:
        if action_on > today:
            errors["action_on"] = (
                "An action is recorded after it happens: this date is in the future."
            )
        elif action_on < today - OLDEST_ACTION:
            errors["action_on"] = "That date is more than a year ago."
    if form.next_review_on < today:
        errors["next_review_on"] = "Choose today or a later date for the next review."
    elif form.next_review_on > today + REVIEW_HORIZON:
        errors["next_review_on"] = "Choose a review within a year."
    if (
        not errors
        and form.stage == row.stage
        and not form.action
        and form.next_review_on == row.next_review_on
    ):
        errors["form"] = (
            "Nothing to save: move the stage, record an action or change the review date."
        )
    return errors, action_on if form.action else None


async def _stored_before(
    session: AsyncSession,
    turn: Turn,
    found: AttendanceConcern,
    form_id: str,
    *,
    stale: str,
    title: str,
    subtitle: str,
) -> Reply | None:
    """The answer to a form stored before (a double click, a redelivery), else None."""
    applied = await form_concern(session, form_id=form_id)
    if applied is None:
        return None
    if applied != found.id:
        # A card of another concern: only tampering mixes them up.
        return Reply(text=stale)
    await record_view(session, actor=turn.actor, concern=found, action="attendance.view")
    return await _concern_card(session, turn, found, title=title, subtitle=subtitle)


async def update(turn: Turn) -> Reply:
    form_id = valid_form_id(turn.data.get("form_id"))
    if form_id is None:
        return Reply(text="That form is out of date. Open the concern again to update it.")
    values = {
        k: submitted_text(turn.data, k) for k in ("stage", "action", "action_on", "next_review_on")
    }
    today = school_today(turn.now)
    async with turn.sessions.begin() as session:
        found = await _followable(session, turn, "attendance.update")
        if isinstance(found, Reply):
            return found
        again = await _stored_before(
            session,
            turn,
            found,
            form_id,
            stale="That form is out of date. Open the concern again to update it.",
            title="Already saved",
            subtitle="This update was saved when you first pressed Save; nothing was stored twice.",
        )
        if again is not None:
            return again
        if found.status != OPEN:
            return _closed_already(found)
        school = await session.get(School, found.school_id)
        assert school is not None
        try:
            form = UpdateForm.model_validate(values)
            errors, action_on = _check_update(form, found, today)
        except ValidationError as error:
            errors, action_on = field_errors(error, UPDATE_MESSAGES), None
        if errors:
            return _update_form(
                found, school, values=values, form_id=form_id, today=today, errors=errors
            )
        await update_concern(
            session,
            row=found,
            by=turn.actor.person_id,
            form_id=form_id,
            change=ConcernUpdate(
                stage=form.stage,
                action_on=action_on,
                action=form.action,
                next_review_on=form.next_review_on,
            ),
            at=turn.now,
        )
        return await _concern_card(session, turn, found, title="Concern updated", good=True)


async def closing(turn: Turn) -> Reply:
    async with turn.sessions.begin() as session:
        found = await _followable(session, turn, "attendance.closing")
        if isinstance(found, Reply):
            return found
        if found.status != OPEN:
            return _closed_already(found)
        await record_view(session, actor=turn.actor, concern=found, action="attendance.closing")
        school = await session.get(School, found.school_id)
    assert school is not None
    return _close_form(found, school, values={}, form_id=new_form_id())


async def close(turn: Turn) -> Reply:
    form_id = valid_form_id(turn.data.get("form_id"))
    if form_id is None:
        return Reply(text="That form is out of date. Open the concern again to close it.")
    values = {k: submitted_text(turn.data, k) for k in ("outcome", "note")}
    async with turn.sessions.begin() as session:
        found = await _followable(session, turn, "attendance.close")
        if isinstance(found, Reply):
            return found
        again = await _stored_before(
            session,
            turn,
            found,
            form_id,
            stale="That form is out of date. Open the concern again to close it.",
            title="Already closed",
            subtitle="This concern was closed when you first pressed the button; "
            "nothing was stored twice.",
        )
        if again is not None:
            return again
        if found.status != OPEN:
            return _closed_already(found)
        try:
            form = CloseForm.model_validate(values)
        except ValidationError as error:
            school = await session.get(School, found.school_id)
            assert school is not None
            return _close_form(
                found,
                school,
                values=values,
                form_id=form_id,
                errors=field_errors(error, CLOSE_MESSAGES),
            )
        await close_concern(
            session,
            row=found,
            by=turn.actor.person_id,
            form_id=form_id,
            outcome=form.outcome,
            note=form.note,
            at=turn.now,
        )
        return await _concern_card(session, turn, found, title="Concern closed", good=True)


# -- lists and counts --------------------------------------------------------------


async def list_concerns(turn: Turn) -> Reply:
    """`concerns [school]`: the list for those who follow concerns, counts for everyone else."""
    actor = turn.actor
    if turn.args:
        picked = await pick_school(
            turn, query=turn.args, verb="attendance.list", asking="attendance concerns"
        )
        if isinstance(picked, Reply):
            return picked
        return await _for_school(turn, picked)
    followed = followed_schools(actor)
    if followed is None or followed:
        return await _list(turn, followed, title=_list_title(turn, followed))
    async with turn.sessions() as session:
        reach = await schools_of(session, actor)
    if not reach:
        return Reply(text="Waypoint doesn't link you to a school yet; your trust admin can.")
    scope = None if actor.trust_wide else [s.id for s in reach]
    name = actor.trust_name if actor.trust_wide or len(reach) > 1 else reach[0].name
    return await _counts(turn, scope, name=name)


async def list_school(turn: Turn) -> Reply:
    school = await school_in_trust(turn, school_id_of(turn.data))
    if school is None:
        async with turn.sessions.begin() as session:
            await record_refusal(session, turn.actor, "attendance.list")
        return Reply(text="You don't have access to that school's attendance concerns.")
    return await _for_school(turn, school)


async def _for_school(turn: Turn, school: School) -> Reply:
    actor = turn.actor
    if may_follow(actor, school.id):
        return await _list(turn, [school.id], title=f"Open attendance concerns: {school.name}")
    if actor.reaches_school(school.id):
        return await _counts(turn, [school.id], name=school.name)
    async with turn.sessions.begin() as session:
        await record_refusal(
            session,
            actor,
            "attendance.list",
            school_id=school.id,
        )
    return Reply(text=f"You don't have access to attendance concerns at {school.name}.")


def _list_title(turn: Turn, followed: frozenset[int] | None) -> str:
    if followed is None or len(followed) > 1:
        return f"Open attendance concerns: {turn.actor.trust_name}"
    return "Open attendance concerns"


async def _list(turn: Turn, school_ids: frozenset[int] | list[int] | None, *, title: str) -> Reply:
    today = school_today(turn.now)
    async with turn.sessions.begin() as session:
        lines, total = await open_concerns(
            session, trust_id=turn.actor.trust_id, school_ids=school_ids, limit=LIST_LIMIT
        )
        if school_ids is not None and len(school_ids) == 1:
            school = await session.get(School, next(iter(school_ids)))
            if school is not None:
                title = f"Open attendance concerns: {school.name}"
        for line in lines:
            # Seeing a pupil reference in a list is a view of that concern.
            await record_event(
                session,
                trust_id=turn.actor.trust_id,
                person_id=turn.actor.person_id,
                action="attendance.list",
                outcome="ok",
                school_id=line.school_id,
                subject_type=SUBJECT,
                subject_id=line.id,
            )
    if total == 0:
        summary = "No open concerns."
    elif total > len(lines):
        summary = f"The {len(lines)} most overdue of {total} open concerns."
    else:
        summary = f"{total} open, the most overdue review first."
    many_schools = school_ids is None or len(school_ids) > 1
    card = render_card(
        "attendance_list",
        title=title,
        summary=summary,
        rows=[_row(line, today, many_schools) for line in lines],
    )
    return Reply(card=card)


def _row(line: ConcernLine, today: date, many_schools: bool) -> dict[str, Any]:
    review, overdue = _review(line.next_review_on, today)
    place = f"{line.school_name} · " if many_schools else ""
    raised = _day(_school_date(line.raised_at))
    return {
        "id": line.id,
        "heading": f"{line.pupil_ref} · {YEAR_GROUPS.get(line.year_group, line.year_group)}",
        "detail": f"{place}{STAGES.get(line.stage, line.stage)} · raised {raised}",
        "review": review,
        "overdue": overdue,
    }


async def _counts(turn: Turn, school_ids: list[int] | None, *, name: str) -> Reply:
    async with turn.sessions() as session:
        counts = await attendance_counts(
            session, trust_id=turn.actor.trust_id, school_ids=school_ids
        )
    return Reply(card=counts_card(counts, name=name))


def counts_card(counts: AttendanceCounts, *, name: str) -> dict[str, Any]:
    """Counts only, for anyone and for the digests."""
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    if len(counts.by_school) > 1:
        sections.append(("By school", [(s.school_name, str(s.open)) for s in counts.by_school]))
    sections.append(
        ("By stage", [(STAGES[k], str(v)) for k, v in counts.by_stage.items() if k in STAGES])
    )
    sections.append(
        (
            "By concern",
            [(CONCERN_TYPES[k], str(v)) for k, v in counts.by_type.items() if k in CONCERN_TYPES],
        )
    )
    sections.append(
        (
            "By vulnerable group",
            [
                (VULNERABLE_GROUPS[k], _group_count(v))
                for k, v in counts.by_vulnerable.items()
                if k in VULNERABLE_GROUPS
            ],
        )
    )
    return render_card(
        "attendance_counts",
        title=f"Attendance concerns: {name}",
        intro="Open concerns, counted. Pupil details are for the school's attendance "
        "leads and head.",
        totals=[
            ("Open concerns", str(counts.total)),
            ("Persistent absence", str(counts.persistent)),
            ("Severe absence", str(counts.severe)),
            ("Consider a penalty notice", str(counts.penalty_notice)),
        ],
        sections=sections,
    )


# Counts by vulnerable group go to people who may not see the pupils (the school's
# attendance staff and head get the list instead): below this, a count can point to
# a pupil everyone knows is in the group.
SMALL_GROUP = 5


def _group_count(count: int) -> str:
    """The count, or "fewer than 5" for 0 to 4: zero too, or a 1 beside a 0 would
    still say which group's only pupil has a concern."""
    return f"fewer than {SMALL_GROUP}" if count < SMALL_GROUP else str(count)


# -- words -------------------------------------------------------------------------


def _school_date(moment: datetime) -> date:
    return moment.astimezone(SCHOOL_TIME).date()


def _day(value: date | None) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}" if value else "not set"


def _moment(moment: datetime) -> str:
    local = moment.astimezone(SCHOOL_TIME)
    return f"{_day(local.date())} at {local:%H:%M}"


def _percent(value: Decimal) -> str:
    # 89.95 must not show as 90.0: keep the second place when it is there.
    places = Decimal("0.1") if value == value.quantize(Decimal("0.1")) else Decimal("0.01")
    return f"{value.quantize(places)}%"


def _groups(groups: list[str]) -> str:
    names = [VULNERABLE_GROUPS.get(g, g) for g in groups]
    return ", ".join(names) if names else "None recorded"


def _status(row: AttendanceConcern) -> str:
    if row.status == OPEN:
        return "Open"
    outcome = OUTCOMES.get(row.outcome or "", "")
    closed = _day(_school_date(row.closed_at)) if row.closed_at else ""
    return f"Closed {closed}: {outcome}" if outcome else f"Closed {closed}"


def _review(day: date | None, today: date) -> tuple[str, bool]:
    """How a review date reads, and whether it is overdue."""
    if day is None:
        return "No review date", True
    if day < today:
        late = (today - day).days
        return f"Review overdue by {late} day{'s' if late != 1 else ''} ({_day(day)})", True
    if day == today:
        return "Review due today", False
    return f"Review due {_day(day)}", False
