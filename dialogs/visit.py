"""`visit`: an adviser's note of visit; next steps become actions, earlier ones are RAG-rated."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from cards.render import render_card
from dialogs.forms import CardForm, FormView, Submission, record_id
from dialogs.registry import Registry
from dialogs.school_scope import pick_school, refuse, refused, school_id_of, school_named
from dialogs.turn import Reply, Turn
from dialogs.visits.access import ADVISERS
from dialogs.visits.sharing import share_note
from dialogs.visits.verbs import VisitVerb
from dialogs.words import long_date, of_total
from storage import schools as school_store
from storage.actions import Rag, Status, school_heads
from storage.audit import record_refusal
from storage.engine import AsyncSession
from storage.forms import FormTaken
from storage.models import School
from storage.visit_programme import entitlement, planned_focus
from storage.visits import (
    VisitNumberTaken,
    actions_to_rate,
    default_due_on,
    next_visit_number,
    record_visit,
    school_staff,
    visit_outcome,
    visit_year,
    visits_done,
)

MAX_NEXT_STEPS = 20
MAX_STEPS_TEXT = 4000
# Earlier actions offered for rating on one card: few enough that the card stays well
# under Teams' 80 KB (bot/size_guard.py measures every outgoing activity).
MAX_TO_RATE = 15
# Characters of an earlier action's description shown on the form.
SHOWN_LENGTH = 160
MAX_OWNERS = 60
_RATING = re.compile(r"^rag_(\d{1,12})$")


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


NOBODY = "nobody"


class VisitForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    number: int = Field(ge=1, le=99)
    visited_on: date
    focus: str = Field(min_length=1, max_length=500)
    strengths: str = Field(default="", max_length=3000)
    risks: str = Field(default="", max_length=3000)
    next_steps: list[str] = Field(default_factory=list)
    owner_id: int | None = None
    next_visit_on: date | None = None
    due_on: date | None = None

    @field_validator("owner_id", "next_visit_on", "due_on", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return None if value == NOBODY else _blank_to_none(value)

    @field_validator("next_steps", mode="before")
    @classmethod
    def _one_per_line(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [" ".join(line.split()) for line in value.splitlines() if line.strip()]
        return value

    @field_validator("next_steps")
    @classmethod
    def _steps_fit(cls, steps: list[str]) -> list[str]:
        if sum(len(step) for step in steps) > MAX_STEPS_TEXT:
            raise ValueError(f"Keep the next steps under {MAX_STEPS_TEXT} characters in all.")
        if len(steps) > MAX_NEXT_STEPS:
            raise ValueError(f"At most {MAX_NEXT_STEPS} next steps, one per line.")
        if any(len(step) > 500 for step in steps):
            raise ValueError("Keep each next step under 500 characters.")
        return steps

    @field_validator("visited_on")
    @classmethod
    def _not_in_future(cls, value: date, info: ValidationInfo) -> date:
        today = (info.context or {}).get("today")
        if today is not None and value > today:
            raise ValueError("A note of visit is for a visit that has happened.")
        return value

    @field_validator("next_visit_on")
    @classmethod
    def _after_this_visit(cls, value: date | None, info: ValidationInfo) -> date | None:
        visited_on = info.data.get("visited_on")
        if value is not None and isinstance(visited_on, date) and value <= visited_on:
            raise ValueError("The next visit must come after this one.")
        return value


VISIT_FORM = CardForm(
    VisitForm,
    messages={
        "number": "Give the visit's number (1 or more).",
        "visited_on": "Give the visit's date.",
        "focus": "Say what the visit focused on.",
        "owner_id": "Choose who owns the next steps.",
        "due_on": "Give a valid date, or leave it empty.",
    },
    start_again="Type visit and the school to start again.",
    drawn=_RATING,
)


def ratings_in(data: dict[str, Any]) -> dict[int, Rag]:
    """The RAG ratings chosen on the card (`rag_<action id>`); unrated ones are left out."""
    ratings: dict[int, Rag] = {}
    for key, value in data.items():
        found = _RATING.match(key)
        action_id = record_id(found.group(1)) if found else None
        if action_id is not None and isinstance(value, str) and value in Rag.__members__:
            ratings[action_id] = Rag(value)
    return ratings


def _visit_number(value: object) -> int | None:
    """The number to show again on the form; whatever else was typed is not kept."""
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 2 else None


def _shorten(text: str) -> str:
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1].rstrip() + "…"


async def _programme(
    session: AsyncSession, school: School, values: dict[str, str], today: date
) -> str:
    """Fill a new form's number (this academic year's next) and focus (the trust's
    plan for that number at the school's phase); say where the school stands."""
    year = visit_year(today)
    done = await visits_done(session, school_id=school.id, academic_year=year)
    entitled = await entitlement(session, trust_id=school.trust_id, phase=school.phase)
    said = f"{of_total(done, entitled, 'visit')} recorded in {year}."
    if "number" in values:
        return said
    number = await next_visit_number(session, school_id=school.id, academic_year=year)
    values["number"] = str(number)
    if "focus" not in values:
        planned = await planned_focus(
            session, trust_id=school.trust_id, phase=school.phase, number=number
        )
        if planned:
            values["focus"] = planned
            said += f" The focus is the trust's plan for visit {number}: change it as needed."
    return said


async def visit_form(
    session: AsyncSession, school: School, view: FormView, *, today: date
) -> Reply:
    """The note of visit's card for the school. A new card (no number typed yet) has
    this academic year's next number and that visit's planned focus filled in."""
    staff = await school_staff(session, school_id=school.id)
    earlier = await actions_to_rate(session, school_id=school.id)
    values = dict(view.values)
    programme = await _programme(session, school, values, today)
    if "owner_id" not in values:
        heads = await school_heads(session, school_id=school.id)
        values["owner_id"] = str(heads[0].id) if heads else NOBODY
    # The renderer rejects a choice with an empty value: "nobody" stands for none.
    owners = [{"title": "Nobody yet", "value": NOBODY}] + [
        {"title": person.display_name, "value": str(person.id)} for person in staff[:MAX_OWNERS]
    ]
    shown = earlier[:MAX_TO_RATE]
    rows = [
        {
            "input": f"rag_{action.id}",
            "description": _shorten(action.description),
            "detail": " · ".join(
                part
                for part in (
                    "Done, says the school: awaiting your rating"
                    if action.status == Status.done
                    else f"Due {long_date(action.due_on)}"
                    if action.due_on
                    else "No due date",
                    f"Last rated {action.rag}" if action.rag else "Not rated yet",
                )
            ),
        }
        for action in shown
    ]
    more = (
        f"{len(earlier) - len(shown)} more open actions can be rated at the next visit."
        if len(earlier) > len(shown)
        else ""
    )
    card = render_card(
        "visit_form",
        verbs=VisitVerb,
        school=school.name,
        school_id=school.id,
        programme=programme,
        # Input.Number takes a number; whatever else was typed is not kept.
        number=_visit_number(values.get("number")),
        values=values,
        errors=view.errors,
        owners=owners,
        earlier=rows,
        more_earlier=more,
        form_id=view.form_id,
    )
    return Reply(card=card)


def advises(turn: Turn, school_id: int) -> bool:
    """The school's own adviser, or a trust lead: a role elsewhere gives nothing."""
    return turn.actor.has_role_at(school_id, ADVISERS)


async def start_visit(turn: Turn, school: School) -> Reply:
    if not advises(turn, school.id):
        return await refuse(
            turn, school=school, what=f"{school.name}'s visits", action="visit.start"
        )
    async with turn.sessions() as session:
        return await visit_form(
            session, school, VISIT_FORM.blank(visited_on=turn.today.isoformat()), today=turn.today
        )


def register(registry: Registry) -> None:
    @registry.command(
        "visit",
        title="Note of visit",
        summary="Record a visit: strengths, risks, next steps, and rate earlier actions",
        phrases=("visit", "note of visit", "record a visit", "new visit"),
        private=True,
        example="visit oakfield",
        roles=ADVISERS,
    )
    async def visit(turn: Turn) -> Reply:
        found = await pick_school(
            turn, query=turn.args, verb=VisitVerb.start, asking="the note of visit", roles=ADVISERS
        )
        if isinstance(found, Reply):
            return found
        return await start_visit(turn, found)

    @registry.verb(VisitVerb.start, private=True, roles=ADVISERS)
    async def visit_start(turn: Turn) -> Reply:
        school = await school_named(
            turn,
            what="that school's visits",
            action="visit.start",
            missing="Choose a school, or type visit and its name.",
        )
        if isinstance(school, Reply):
            return school
        return await start_visit(turn, school)

    registry.verb(VisitVerb.save, private=True, roles=ADVISERS)(save_visit)


async def save_visit(turn: Turn) -> Reply:
    """A note of visit, stored once in one transaction: its next steps become actions,
    the earlier actions rated keep their RAG history."""
    submission = VISIT_FORM.read(turn)
    if isinstance(submission, Reply):
        return submission
    school_id = school_id_of(turn.data)
    async with turn.sessions.begin() as session:
        school = (
            await school_store.school_in_trust(
                session, trust_id=turn.actor.trust_id, school_id=school_id
            )
            if school_id is not None
            else None
        )
        if school is None or not advises(turn, school.id):
            name = f"{school.name}'s visits" if school else "that school's visits"
            return await refused(session, turn, school=school, what=name, action="visit.save")
        ratings = await _checked_ratings(session, turn, school, submission)
        form = submission.form
        if form is not None and form.owner_id is not None:
            staff = {p.id for p in await school_staff(session, school_id=school.id)}
            if form.owner_id not in staff:
                submission.error("owner_id", "Choose someone at this school.")
        if form is None or not submission.valid:
            return await visit_form(session, school, submission.view(), today=turn.today)
        try:
            recorded = await record_visit(
                session,
                trust_id=turn.actor.trust_id,
                school_id=school.id,
                adviser_id=turn.actor.person_id,
                number=form.number,
                visited_on=form.visited_on,
                focus=form.focus,
                strengths=form.strengths,
                risks=form.risks,
                next_visit_on=form.next_visit_on,
                next_steps=form.next_steps,
                owner_id=form.owner_id,
                due_on=form.due_on,
                ratings=ratings,
                form_id=submission.form_id,
                at=turn.now,
            )
        except FormTaken:
            return VISIT_FORM.out_of_date
        except VisitNumberTaken as taken:
            message = (
                f"Visit {taken.number} of {taken.academic_year} is recorded already; "
                "give the next number."
            )
            submission.error("number", message)
            return await visit_form(session, school, submission.view(), today=turn.today)
        created, rated = await visit_outcome(session, visit_id=recorded.visit.id)
        told = await share_note(
            session,
            turn,
            recorded.visit.id,
            owner_id=form.owner_id,
            school=school,
            new=recorded.created,
        )
    visit = recorded.visit
    due = form.due_on or default_due_on(visit.visited_on, visit.next_visit_on)
    facts = [
        ("School", school.name),
        ("Visit", f"{visit.number} on {long_date(visit.visited_on)}"),
        ("New actions", f"{created}, due {long_date(due)}" if created else "None"),
        ("Earlier actions rated", str(rated)),
    ]
    if visit.next_visit_on:
        facts.append(("Next visit", long_date(visit.next_visit_on)))
    facts.append(("Shared with", ", ".join(told) if told else "Nobody: the school has no head"))
    card = render_card(
        "notice",
        title="Note of visit saved",
        # Only what is true: actions exist only if next steps were given.
        text="Each next step is now an action the school can see in “my actions”."
        if created
        else "No next steps were given, so no actions were made.",
        facts=facts,
        buttons=[{"title": "My actions", "command": "actions"}],
    )
    return Reply(card=card)


async def _checked_ratings(
    session: AsyncSession, turn: Turn, school: School, submission: Submission[VisitForm]
) -> dict[int, Rag]:
    """The ratings chosen on the card, for the school's own open actions only.

    Another school's (or a closed) action can only come from a tampered card: its
    rating is dropped and the attempt kept on the audit trail.
    """
    ratings = ratings_in(submission.values)
    open_ids = {a.id for a in await actions_to_rate(session, school_id=school.id)}
    if set(ratings) - open_ids:
        await record_refusal(session, turn.actor, "visit.rate", school_id=school.id)
    return {action_id: rag for action_id, rag in ratings.items() if action_id in open_ids}
