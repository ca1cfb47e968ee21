"""`review [school]`: a standards review meeting, recorded by a trust lead.

The review confirms the school's category, or changes it: a change is a
categorisation made exactly as `categorise` makes one (the same history, the same
card to the school's heads), in the review's own transaction. The reminders
before each term ends (dialogs/review_reminder.py) open this form.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cards.render import render_card
from dialogs.category import category_card, last_change
from dialogs.forms import CardForm, FormView, Submission, iso_date
from dialogs.registry import Registry
from dialogs.school_scope import pick_school, refused, school_id_of, school_named
from dialogs.turn import Reply, Turn
from dialogs.words import long_date
from storage import schools as school_store
from storage.actions import school_heads
from storage.audit import record_event
from storage.categories import CategoryStanding, framework_categories, school_category
from storage.engine import AsyncSession
from storage.forms import FormTaken, stored_by_form
from storage.models import Category, Role, School, StandardsReview
from storage.standards import CONFIRMED, latest_review, record_review


class ReviewVerb(StrEnum):
    start = "review.start"
    save = "review.save"


# Standards reviews are the trust's: its leads record them (trustees may attend).
REVIEWERS = frozenset({Role.trust_lead})
# The outcome's choices: the category confirmed, or "to:<key>", a new category. No
# category key can be "to:…" (keys are letters, digits and hyphens).
CONFIRM = CONFIRMED
CHANGE = "to:"


class ReviewForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    held_on: date
    attendees: str = Field(min_length=1, max_length=1000)
    trustees: bool = False
    outcome: str = Field(min_length=1, max_length=80)
    notes: str = Field(default="", max_length=4000)

    @field_validator("held_on", mode="before")
    @classmethod
    def _card_date(cls, value: object) -> object:
        return iso_date(value)

    @field_validator("trustees", mode="before")
    @classmethod
    def _toggle(cls, value: object) -> object:
        # An Input.Toggle sends "true" or "false"; a card that sends nothing: no.
        return False if value in ("", None) else value


REVIEW_FORM = CardForm(
    ReviewForm,
    messages={
        "held_on": "Give the date the review was held, like 2026-12-08.",
        "attendees": "Say who attended the review.",
        "trustees": "Say whether trustees attended.",
        "outcome": "Choose the outcome.",
        "notes": "Keep the notes under 4,000 characters.",
    },
    start_again="Type review and the school to start again.",
)


def reviews(turn: Turn, school_id: int) -> bool:
    return turn.actor.has_role_at(school_id, REVIEWERS)


def _outcomes(
    standing: CategoryStanding | None, categories: list[Category]
) -> list[dict[str, str]]:
    choices = []
    current_key = standing.category.key if standing and standing.category else None
    if standing is not None:
        choices.append(
            {"title": f"Category confirmed: {standing.current.category_name}", "value": CONFIRM}
        )
    choices += [
        {"title": f"New category: {c.name}", "value": CHANGE + c.key}
        for c in categories
        if c.key != current_key
    ]
    return choices


def _facts(
    standing: CategoryStanding | None, last: StandardsReview | None
) -> list[tuple[str, str]]:
    """Where the school stands, above the form."""
    if standing is None:
        category = "None recorded yet: choose one below"
    else:
        category = (
            f"{standing.current.category_name}, since {long_date(standing.current.decided_on)}"
        )
        if standing.category is not None and standing.category.termly_review:
            category += "; a review every term"
    if last is None:
        return [("Category", category), ("Last review", "None recorded")]
    decided = (
        f"{last.category_name} confirmed"
        if last.outcome == CONFIRMED
        else f"moved to {last.category_name}"
    )
    latest = f"{long_date(last.held_on)} ({last.term_name} {last.academic_year}): {decided}"
    return [("Category", category), ("Last review", latest)]


async def review_form(session: AsyncSession, turn: Turn, school: School, view: FormView) -> Reply:
    trust_id = turn.actor.trust_id
    standing = await school_category(session, trust_id=trust_id, school_id=school.id)
    categories = await framework_categories(session, trust_id=trust_id)
    if not categories:
        return Reply(text="Your trust has no categorisation framework yet; an admin can set one.")
    last = await latest_review(session, trust_id=trust_id, school_id=school.id)
    values = dict(view.values)
    values.setdefault("outcome", CONFIRM if standing is not None else "")
    values.setdefault("trustees", "false")
    card = render_card(
        "review_form",
        verbs=ReviewVerb,
        school=school.name,
        school_id=school.id,
        facts=_facts(standing, last),
        outcomes=_outcomes(standing, categories),
        values=values,
        errors=view.errors,
        form_id=view.form_id,
    )
    return Reply(card=card)


async def start_review(turn: Turn, school: School) -> Reply:
    async with turn.sessions() as session:
        return await review_form(
            session, turn, school, REVIEW_FORM.blank(held_on=turn.today.isoformat())
        )


def register(registry: Registry) -> None:
    @registry.command(
        "review",
        title="Standards review",
        summary="Record a school's standards review: who attended, category confirmed or changed",
        phrases=("review", "standards review", "record a review", "record review"),
        private=True,
        example="review oakfield",
        roles=REVIEWERS,
    )
    async def review(turn: Turn) -> Reply:
        found = await pick_school(
            turn, query=turn.args, verb=ReviewVerb.start, asking="the standards review"
        )
        if isinstance(found, Reply):
            return found
        return await start_review(turn, found)

    @registry.verb(ReviewVerb.start, private=True, roles=REVIEWERS)
    async def review_start(turn: Turn) -> Reply:
        school = await school_named(
            turn,
            what="that school's standards reviews",
            action="review.start",
            missing="Choose a school, or type review and its name.",
        )
        if isinstance(school, Reply):
            return school
        return await start_review(turn, school)

    registry.verb(ReviewVerb.save, private=True, roles=REVIEWERS)(save_review)


async def save_review(turn: Turn) -> Reply:
    """A standards review, stored once; a new category is a categorisation, and the
    school's heads are told of it in the same transaction."""
    submission = REVIEW_FORM.read(turn)
    if isinstance(submission, Reply):
        return submission
    actor = turn.actor
    school_id = school_id_of(turn.data)
    async with turn.sessions.begin() as session:
        school = (
            await school_store.school_in_trust(
                session, trust_id=actor.trust_id, school_id=school_id
            )
            if school_id is not None
            else None
        )
        if school is None or not reviews(turn, school.id):
            what = (
                f"{school.name}'s standards reviews"
                if school
                else "that school's standards reviews"
            )
            return await refused(session, turn, school=school, what=what, action="review.save")
        stored = await stored_by_form(
            session, StandardsReview, trust_id=actor.trust_id, form_id=submission.form_id
        )
        if stored is not None:
            # Sent again (a double click, a retry): what it stored, not checked again
            # against the category it may itself have changed.
            if (stored.school_id, stored.recorded_by) != (school.id, actor.person_id):
                return REVIEW_FORM.out_of_date
            return Reply(card=saved_card(school, stored))
        standing = await school_category(session, trust_id=actor.trust_id, school_id=school.id)
        form = submission.form
        new_category: str | None = None
        if form is not None:
            new_category = await _check(session, turn, school, standing, submission, form)
        if form is None or not submission.valid:
            return await review_form(session, turn, school, submission.view())
        try:
            recorded = await record_review(
                session,
                trust_id=actor.trust_id,
                school_id=school.id,
                held_on=form.held_on,
                attendees=form.attendees,
                trustees_attended=form.trustees,
                new_category=new_category,
                notes=form.notes,
                recorded_by=actor.person_id,
                form_id=submission.form_id,
            )
        except FormTaken:
            return REVIEW_FORM.out_of_date
        if recorded.created:
            await record_event(
                session,
                trust_id=actor.trust_id,
                person_id=actor.person_id,
                action="review",
                outcome="done",
                school_id=school.id,
                subject_type="standards_review",
                subject_id=recorded.review.id,
            )
        if recorded.created and recorded.categorisation is not None:
            await _announce(session, turn, school, recorded.categorisation.id)
    return Reply(card=saved_card(school, recorded.review))


async def _check(
    session: AsyncSession,
    turn: Turn,
    school: School,
    standing: CategoryStanding | None,
    submission: Submission[ReviewForm],
    form: ReviewForm,
) -> str | None:
    """The new category's key, if the review changes it; problems go on the form."""
    error = submission.error
    if form.held_on > turn.today:
        error("held_on", "A review is recorded once it has been held: this date is in the future.")
    if form.outcome == CONFIRM:
        if standing is None:
            error("outcome", f"{school.name} has no category yet: choose one.")
        return None
    keys = {c.key for c in await framework_categories(session, trust_id=turn.actor.trust_id)}
    key = form.outcome.removeprefix(CHANGE)
    if not form.outcome.startswith(CHANGE) or key not in keys:
        error("outcome", "Choose the outcome: the category confirmed, or one of the trust's.")
        return None
    if standing is not None and standing.category is not None and standing.category.key == key:
        error(
            "outcome",
            f"{school.name} is in {standing.current.category_name} now: "
            "choose “Category confirmed”.",
        )
    if not form.notes:
        error("notes", "Give the reasons for the new category.")
    if standing is not None and form.held_on < standing.current.decided_on:
        error(
            "held_on",
            f"{school.name} was categorised on {long_date(standing.current.decided_on)}, "
            "after this date: a review before then can't change its category.",
        )
    return key


async def _announce(
    session: AsyncSession, turn: Turn, school: School, categorisation_id: int
) -> None:
    """The new category on the audit trail and to the school's heads, as `categorise` does."""
    actor = turn.actor
    await record_event(
        session,
        trust_id=actor.trust_id,
        person_id=actor.person_id,
        action="categorise",
        outcome="done",
        school_id=school.id,
        subject_type="school_categorisation",
        subject_id=categorisation_id,
    )
    standing = await school_category(session, trust_id=actor.trust_id, school_id=school.id)
    if standing is None:
        return
    notice = category_card(
        school,
        standing,
        intro=f"{school.name}'s category has been updated: {last_change(standing)}",
    )
    for head_id in [p.id for p in await school_heads(session, school_id=school.id)]:
        await turn.notifier.notify(
            trust_id=actor.trust_id, person_id=head_id, reply=Reply(card=notice), session=session
        )


def saved_card(school: School, review: StandardsReview) -> dict[str, Any]:
    if review.outcome == CONFIRMED:
        outcome = f"{review.category_name} confirmed"
        text = "The category stands: nothing changes and no one else is told."
    else:
        outcome = f"New category: {review.category_name}"
        text = "The new category is in the school's history, and its heads are told what it brings."
    return render_card(
        "notice",
        title="Standards review recorded",
        text=text,
        facts=[
            ("School", school.name),
            ("For", f"{review.term_name} {review.academic_year}"),
            ("Held", long_date(review.held_on)),
            ("Who attended", review.attendees),
            ("Trustees", "Attended" if review.trustees_attended else "Not present"),
            ("Outcome", outcome),
        ],
        buttons=[],
    )
