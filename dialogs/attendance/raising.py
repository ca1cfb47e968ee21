"""`raise concern`: any member of a school's staff raises a concern in one card.

The school's attendance leads get a notice that carries no pupil data.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cards.render import render_card
from dialogs.attendance.concern_card import concern_card
from dialogs.attendance.fields import MAX_TEXT, one_of
from dialogs.attendance.verbs import AttendanceVerb
from dialogs.attendance.words import choices, moment
from dialogs.forms import CardForm, FormView, record_id
from dialogs.turn import Reply, Turn
from storage.attendance.concerns import ConcernDetails, raise_concern, record_view
from storage.attendance.policy import attendance_leads, may_follow, raisable_schools
from storage.attendance.rules import CONCERN_TYPES, STAGES, VULNERABLE_GROUPS, YEAR_GROUPS
from storage.audit import record_refusal
from storage.conversations import NOT_INSTALLED, REACHABLE, chat_state
from storage.directory import person_name
from storage.engine import AsyncSession
from storage.forms import FormTaken
from storage.models import AttendanceConcern, School
from storage.schools import school_in_trust
from storage.waiting import ATTENDANCE_NOTICE, attendance_notice_key

_REF = re.compile(r"^[A-Z0-9]{1,20}$")
# Initials are short; a longer run of letters is most likely a name.
MAX_INITIALS = 4

OUTSIDE_REACH = (
    "You don't have access to raise concerns for that school: concerns "
    "are raised by the school's own staff."
)


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
        return one_of(value.upper(), YEAR_GROUPS)

    @field_validator("concern_type")
    @classmethod
    def _type(cls, value: str) -> str:
        return one_of(value, CONCERN_TYPES)

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        return one_of(value, STAGES)

    @field_validator("vulnerable", mode="before")
    @classmethod
    def _groups(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            for group in value:
                one_of(str(group), VULNERABLE_GROUPS)
            return sorted(set(value), key=list(VULNERABLE_GROUPS).index)
        return value


RAISE_FORM = CardForm(
    RaiseForm,
    messages={
        "school": "Choose the school.",
        "year_group": "Choose the year group.",
        "attendance_percent": "Enter attendance as a percentage from 0 to 100, like 88.5.",
        "attendance_percent:decimal_max_places": (
            "Give the percentage to two decimal places at most."
        ),
        "unauthorised_sessions": (
            "Enter a whole number of sessions from 0 to 100 (ten weeks of two sessions a day)."
        ),
        "concern_type": "Choose the kind of concern.",
        "vulnerable": "Choose from the groups listed.",
        "done_so_far:string_too_long": "Keep this to 2,000 characters (it is {length}).",
        "stage": "Choose the stage.",
    },
    start_again="Type raise concern to start a new one.",
)


def _raise_form(schools: list[School], view: FormView) -> Reply:
    card = render_card(
        "attendance_form",
        verbs=AttendanceVerb,
        schools=[{"title": s.name, "value": str(s.id)} for s in schools],
        year_groups=choices(YEAR_GROUPS),
        concern_types=choices(CONCERN_TYPES),
        vulnerable_groups=choices(VULNERABLE_GROUPS),
        stages=choices(STAGES),
        values=view.values,
        errors=view.errors,
        data={"verb": AttendanceVerb.save, "form_id": view.form_id},
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
    defaults = {"stage": "monitor"}
    if len(schools) == 1:
        defaults["school"] = str(schools[0].id)
    return _raise_form(schools, RAISE_FORM.blank(**defaults))


async def save(turn: Turn) -> Reply:
    submission = RAISE_FORM.read(turn)
    if isinstance(submission, Reply):
        return submission
    actor = turn.actor
    async with turn.sessions.begin() as session:
        schools = await raisable_schools(session, actor)
        reachable = {s.id for s in schools}
        # The form's parsing reads more than plain digits ("+5", "5.0"): both the
        # school typed and the school parsed must pass, or nothing is stored.
        typed = record_id(submission.values["school"])
        form = submission.form
        if (typed is not None and typed not in reachable) or (
            form is not None and form.school not in reachable
        ):
            # A school outside the person's reach is a scope attempt, not a typo.
            named = typed if typed is not None and typed not in reachable else None
            school = (
                await school_in_trust(session, trust_id=actor.trust_id, school_id=named)
                if named is not None
                else None
            )
            await record_refusal(
                session, actor, "attendance.raise", school_id=school.id if school else None
            )
            return Reply(text=OUTSIDE_REACH)
        if form is None or not submission.valid:
            return _raise_form(schools, submission.view())
        try:
            row, created = await raise_concern(
                session,
                trust_id=actor.trust_id,
                raised_by=actor.person_id,
                form_id=submission.form_id,
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
                today=turn.today,
            )
        except FormTaken:
            # Someone else's form id: only the person who raised it sees it again.
            return Reply(
                text="That form has been used already. Type raise concern to start a new one."
            )
        if not created:
            return await _already_raised(session, turn, row)
        return await _raised(session, turn, row)


async def _raised(session: AsyncSession, turn: Turn, row: AttendanceConcern) -> Reply:
    """The confirmation, and the leads' notice queued in the concern's own transaction:
    a crash can't keep the concern and lose the notice."""
    actor = turn.actor
    leads = [
        p
        for p in await attendance_leads(session, trust_id=actor.trust_id, school_id=row.school_id)
        if p != actor.person_id
    ]
    school = await school_in_trust(session, trust_id=actor.trust_id, school_id=row.school_id)
    assert school is not None
    if leads:
        note: str | None = await _who_is_told(session, actor.trust_id, leads)
    elif may_follow(actor, row.school_id):
        note = None
    else:
        note = f"Nobody is set up as attendance lead for {school.name} yet: please tell your head."
    reply = await concern_card(
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
            verbs=AttendanceVerb,
            school=school.name,
            raised=moment(row.raised_at, turn.zone),
            concern_id=row.id,
        )
    )
    for person_id in leads:
        await turn.notifier.notify(
            trust_id=actor.trust_id,
            person_id=person_id,
            reply=notice,
            kind=ATTENDANCE_NOTICE,
            key=attendance_notice_key(row.id),
            session=session,
        )
    return reply


async def _who_is_told(session: AsyncSession, trust_id: int, leads: list[int]) -> str:
    """What is true of the leads' notice: queued for their chat, waiting for them to
    open Waypoint, or unable to reach them (they blocked or removed it)."""
    by_state: dict[str, list[str]] = {}
    for person_id in leads:
        state = await chat_state(session, trust_id=trust_id, person_id=person_id)
        name = await person_name(session, person_id) or "A former member of staff"
        by_state.setdefault(state, []).append(name)
    lines = []
    for state, names in by_state.items():
        who = f"{_names(names)} (attendance lead{'s' if len(names) > 1 else ''})"
        if state == REACHABLE:
            lines.append(f"{who} will get a notice in Teams.")
        elif state == NOT_INSTALLED:
            lines.append(f"{who} will get a notice when they open Waypoint.")
        else:
            lines.append(f"{who} blocked or removed Waypoint: please tell them yourself.")
    return " ".join(lines) + " The notice carries no pupil details."


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


async def _already_raised(session: AsyncSession, turn: Turn, row: AttendanceConcern) -> Reply:
    await record_view(session, actor=turn.actor, concern=row, action="attendance.view")
    return await concern_card(
        session,
        turn,
        row,
        title="Already raised",
        subtitle="This concern was raised when you first pressed the button; "
        "nothing was stored twice.",
        with_chronology=False,
    )
