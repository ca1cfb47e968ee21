"""`category [school]` and `categorise`: the category register a head can simply ask."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from cards.render import render_card
from dialogs.forms import CardForm, FormView, record_id
from dialogs.registry import Registry
from dialogs.school_scope import pick_school, refuse, school_named
from dialogs.turn import Reply, Turn
from dialogs.words import bullets, long_date
from storage import schools as school_store
from storage.actions import school_heads
from storage.audit import record_event, record_refusal
from storage.categories import (
    CategoryStanding,
    categorisation_history,
    framework_categories,
    improvement_target_date,
    record_categorisation,
    school_category,
)
from storage.directory import schools_of
from storage.forms import FormTaken
from storage.models import Role, School, SchoolCategorisation
from storage.targets import MissedTarget, school_missed_target


class CategoryVerb(StrEnum):
    show = "category.show"
    history = "category.history"
    start = "categorise.start"
    save = "categorise.save"


# The standards meeting's decision is recorded by trust leads (admins load data).
CATEGORISERS = frozenset({Role.trust_lead})
# The descriptor "in brief": its first sentence, at most this long.
BRIEF_LENGTH = 280


def brief(text: str) -> str:
    first = text.split(". ")[0].strip()
    if first and not first.endswith("."):
        first += "."
    return first if len(first) <= BRIEF_LENGTH else first[: BRIEF_LENGTH - 1].rstrip() + "…"


def category_card(
    school: School,
    standing: CategoryStanding | None,
    *,
    intro: str | None = None,
    missed: MissedTarget | None = None,
) -> dict[str, Any]:
    if standing is None:
        return render_card(
            "notice",
            title=f"{school.name} has no category yet",
            text="No category has been recorded for this school. A trust lead records one "
            "after the school's standards meeting.",
            facts=[],
            buttons=[],
        )
    current, category = standing.current, standing.category
    facts = [("Since", long_date(current.decided_on))]
    lists: list[tuple[str, str]] = []
    descriptor = ""
    note = None
    needs_attention = False
    if category is not None:
        descriptor = brief(category.descriptor)
        needs_attention = category.needs_attention
        target_date = improvement_target_date(category.improvement_target, current.decided_on)
        facts.append(("Improvement target", category.improvement_target or "None set"))
        facts.append(("Target date", long_date(target_date) if target_date else "None stated"))
        if missed is not None:
            facts.append(("Target date passed", missed.shown))
        if category.monitoring:
            facts.append(("Extra monitoring", category.monitoring))
        lists = [
            ("Support it brings", bullets(category.support)),
            ("Challenge it brings", bullets(category.challenge)),
        ]
    else:
        note = (
            f"“{current.category_name}” is no longer in the trust's framework, so its "
            "support and challenge are not listed. A trust lead can recategorise the school."
        )
    facts.append(("Last change", last_change(standing)))
    return render_card(
        "category",
        verbs=CategoryVerb,
        intro=intro,
        school=school.name,
        category=current.category_name,
        needs_attention=needs_attention,
        facts=facts,
        descriptor=descriptor,
        lists=lists,
        # Seed 002: the decision "should be shared with all governors and staff".
        decision={
            "attendees": current.attendees or "Not recorded",
            "rationale": current.rationale or "Not recorded",
        },
        note=note,
        history={"school_id": school.id},
        buttons=[],
    )


def history_card(school: School, decisions: list[SchoolCategorisation]) -> dict[str, Any]:
    """Every decision on the school's category, newest first."""
    return render_card(
        "category_history",
        title=f"{school.name}: category history",
        decisions=[
            {
                "heading": f"{long_date(d.decided_on)}: {d.category_name}",
                "attendees": d.attendees or "Not recorded",
                "rationale": d.rationale or "Not recorded",
            }
            for d in decisions
        ],
    )


def last_change(standing: CategoryStanding) -> str:
    current, previous = standing.current, standing.previous
    when = long_date(current.decided_on)
    if previous is None:
        return f"First categorised as {current.category_name} on {when}"
    if previous.category_name == current.category_name:
        return f"{current.category_name} confirmed on {when}"
    return f"{previous.category_name} → {current.category_name} on {when}"


async def show_category(turn: Turn, school: School) -> Reply:
    if not turn.actor.reaches_school(school.id):
        return await refuse(
            turn,
            school=school,
            what=f"{school.name}'s category",
            action="category.view",
        )
    async with turn.sessions() as session:
        standing = await school_category(session, trust_id=turn.actor.trust_id, school_id=school.id)
        missed = (
            await school_missed_target(
                session, trust_id=turn.actor.trust_id, standing=standing, today=turn.today
            )
            if standing is not None
            else None
        )
        return Reply(card=category_card(school, standing, missed=missed))


async def show_history(turn: Turn) -> Reply:
    """`History` on the category card: for whoever may read the school's category."""
    school = await school_named(
        turn,
        what="that school's category",
        action="category.history",
        missing="Choose a school, or type category and its name.",
    )
    if isinstance(school, Reply):
        return school
    if not turn.actor.reaches_school(school.id):
        return await refuse(
            turn, school=school, what=f"{school.name}'s category", action="category.history"
        )
    async with turn.sessions() as session:
        decisions = await categorisation_history(
            session, trust_id=turn.actor.trust_id, school_id=school.id
        )
    return Reply(card=history_card(school, decisions))


class CategoriseForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    school_id: int
    category: str = Field(min_length=1, max_length=64)
    decided_on: date
    attendees: str = Field(min_length=1, max_length=1000)
    rationale: str = Field(min_length=1, max_length=4000)

    @field_validator("decided_on")
    @classmethod
    def _not_in_future(cls, value: date, info: ValidationInfo) -> date:
        today = (info.context or {}).get("today")
        if today is not None and value > today:
            raise ValueError("The meeting date can't be in the future.")
        return value


CATEGORISE_FORM = CardForm(
    CategoriseForm,
    messages={
        "school_id": "Choose a school.",
        "category": "Choose a category.",
        "attendees": "Say who attended the standards meeting.",
        "rationale": "Give the reasons for this category.",
    },
    start_again="Type categorise and the school to start again.",
)


async def categorise_form(turn: Turn, view: FormView) -> Reply:
    async with turn.sessions() as session:
        schools = await schools_of(session, turn.actor)
        categories = await framework_categories(session, trust_id=turn.actor.trust_id)
    if not categories:
        return Reply(text="Your trust has no categorisation framework yet; an admin can set one.")
    card = render_card(
        "categorise_form",
        verbs=CategoryVerb,
        values=view.values,
        errors=view.errors,
        schools=[{"title": s.name, "value": str(s.id)} for s in schools],
        categories=[
            {"title": f"{c.name}: {brief(c.descriptor)}", "value": c.key} for c in categories
        ],
        form_id=view.form_id,
    )
    return Reply(card=card)


def register(registry: Registry) -> None:
    @registry.command(
        "category",
        title="Category",
        summary="A school's category, what it brings, and the last change",
        phrases=("category", "our category", "whats our category", "school category"),
        private=False,
        example="category oakfield",
    )
    async def category(turn: Turn) -> Reply:
        found = await pick_school(
            turn, query=turn.args, verb=CategoryVerb.show, asking="its category"
        )
        if isinstance(found, Reply):
            return found
        return await show_category(turn, found)

    @registry.verb(CategoryVerb.show, private=False)
    async def category_show(turn: Turn) -> Reply:
        school = await school_named(
            turn,
            what="that school's category",
            action="category.view",
            missing="Choose a school, or type category and its name.",
        )
        if isinstance(school, Reply):
            return school
        return await show_category(turn, school)

    registry.verb(CategoryVerb.history, private=False)(show_history)

    @registry.command(
        "categorise",
        title="Categorise",
        summary="Record a school's category agreed at a standards meeting",
        phrases=("categorise", "categorize", "set category", "record category"),
        private=True,
        example="categorise oakfield",
        roles=CATEGORISERS,
    )
    async def categorise(turn: Turn) -> Reply:
        view = CATEGORISE_FORM.blank(decided_on=turn.today.isoformat())
        if turn.args:
            found = await pick_school(
                turn, query=turn.args, verb=CategoryVerb.start, asking="the categorisation"
            )
            if isinstance(found, Reply):
                return found
            view = CATEGORISE_FORM.blank(decided_on=turn.today.isoformat(), school_id=str(found.id))
        return await categorise_form(turn, view)

    @registry.verb(CategoryVerb.start, private=True, roles=CATEGORISERS)
    async def categorise_start(turn: Turn) -> Reply:
        school_id = ""
        if turn.data.get("school_id") not in (None, ""):
            school = await school_named(
                turn,
                what="that school",
                action="categorise.start",
                missing="Choose a school, or type categorise and its name.",
            )
            if isinstance(school, Reply):
                return school
            school_id = str(school.id)
        view = CATEGORISE_FORM.blank(decided_on=turn.today.isoformat(), school_id=school_id)
        return await categorise_form(turn, view)

    @registry.verb(CategoryVerb.save, private=True, roles=CATEGORISERS)
    async def categorise_save(turn: Turn) -> Reply:
        return await save_categorisation(turn)


async def save_categorisation(turn: Turn) -> Reply:
    """The standards meeting's decision, stored once; the school's heads are told."""
    submission = CATEGORISE_FORM.read(turn)
    if isinstance(submission, Reply):
        return submission
    actor = turn.actor
    async with turn.sessions.begin() as session:
        form = submission.form
        school = (
            await school_store.school_in_trust(
                session, trust_id=actor.trust_id, school_id=form.school_id
            )
            if form is not None and record_id(form.school_id) is not None
            else None
        )
        if form is not None and school is None:
            # Only a tampered card names a school outside the trust: keep a trace.
            await record_refusal(session, actor, "categorise")
            submission.error("school_id", "Choose a school of your trust.")
        keys = {c.key for c in await framework_categories(session, trust_id=actor.trust_id)}
        if form is not None and form.category not in keys:
            submission.error("category", "Choose one of the trust's categories.")
        if form is None or school is None or not submission.valid:
            return await categorise_form(turn, submission.view())
        try:
            recorded = await record_categorisation(
                session,
                trust_id=actor.trust_id,
                school_id=school.id,
                category_key=form.category,
                decided_on=form.decided_on,
                attendees=form.attendees,
                rationale=form.rationale,
                recorded_by=actor.person_id,
                form_id=submission.form_id,
            )
        except FormTaken:
            return CATEGORISE_FORM.out_of_date
        if recorded.created:
            await record_event(
                session,
                trust_id=actor.trust_id,
                person_id=actor.person_id,
                action="categorise",
                outcome="done",
                school_id=school.id,
                subject_type="school_categorisation",
                subject_id=recorded.categorisation.id,
            )
        standing = await school_category(session, trust_id=actor.trust_id, school_id=school.id)
        if recorded.created and standing is not None:
            # A re-sent form was announced the first time round. The notices go in
            # the decision's own transaction: both are kept, or neither.
            notice = category_card(
                school,
                standing,
                intro=f"{school.name}'s category has been updated: {last_change(standing)}",
            )
            for head_id in [p.id for p in await school_heads(session, school_id=school.id)]:
                await turn.notifier.notify(
                    trust_id=actor.trust_id,
                    person_id=head_id,
                    reply=Reply(card=notice),
                    session=session,
                )
    return Reply(card=category_card(school, standing, intro="Categorisation recorded"))
