"""`submit qa`: the subject lead's termly QA summary card, opened and saved once.

A subject lead submits only for the subjects they lead at their own schools; a
resubmission in the same term is a new version, and the latest one counts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cards.render import render_card
from dialogs.forms import CardForm, FormView
from dialogs.qa.access import NOT_YOURS, refused
from dialogs.qa.targets import (
    NO_SUBJECTS,
    Target,
    names_target,
    subject_targets,
    target_key,
    today_period,
)
from dialogs.qa.verbs import QaVerb
from dialogs.qa.words import closed_text, summary_card, window_text
from dialogs.turn import Reply, Turn
from dialogs.words import short_day
from storage.academic_calendar import QaClosed, QaOpen
from storage.audit import record_event
from storage.engine import AsyncSession
from storage.forms import FormTaken
from storage.models import QaSummary
from storage.qa import (
    EVIDENCE,
    JUDGEMENTS,
    QaContent,
    SummaryLine,
    latest_summaries,
    record_qa_summary,
)
from storage.schools import school_in_trust

MAX_TEXT = 4000

Evidence = Literal[
    "deep_dive",
    "learning_walk",
    "book_look",
    "pupil_voice",
    "planning_scrutiny",
    "assessment_data",
    "other",
]


class QaForm(BaseModel):
    """The QA card as submitted; every input arrives as a string."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    strengths: str = Field(min_length=1, max_length=MAX_TEXT)
    areas_for_development: str = Field(min_length=1, max_length=MAX_TEXT)
    evidence: list[Evidence] = Field(min_length=1)
    judgement: Literal["red", "amber", "green"]
    actions: str = Field(min_length=1, max_length=MAX_TEXT)
    cpd: str = Field(default="", max_length=MAX_TEXT)

    @field_validator("evidence", mode="before")
    @classmethod
    def _multi_select(cls, value: object) -> object:
        # A multi-select ChoiceSet submits its values joined by commas.
        if isinstance(value, str):
            return list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
        return value


QA_FORM = CardForm(
    QaForm,
    messages={
        "strengths": "Write the subject's strengths.",
        "areas_for_development": "Write the areas for development in the subject's pedagogy.",
        "evidence": "Choose at least one kind of evidence.",
        "judgement": "Choose red, amber or green.",
        "actions": "Write the actions you will take.",
        **{
            f"{name}:string_too_long": "Keep this to 4,000 characters (this is {length})."
            for name in ("strengths", "areas_for_development", "actions", "cpd")
        },
    },
    start_again="Type submit qa to start a new one.",
    # The (school, subject) choice is read by the job: only some of it is the lead's.
    fields=("target", *QaForm.model_fields),
)


def _form(
    turn: Turn,
    period: QaOpen,
    targets: list[Target],
    latest: dict[tuple[int, str], SummaryLine],
    view: FormView,
) -> Reply:
    resubmissions = []
    for target in targets:
        line = latest.get(target.key)
        if line is None:
            continue
        who = "You" if line.author_id == turn.actor.person_id else (line.author_name or "Someone")
        prefix = f"{target.title}: " if len(targets) > 1 else ""
        resubmissions.append(
            f"{prefix}{who} submitted on {short_day(turn.local(line.submitted_at).date())} — "
            f"this will be version {line.version + 1}."
        )
    data: dict[str, Any] = {"verb": QaVerb.save, "form_id": view.form_id}
    if len(targets) == 1:
        data.update(school_id=targets[0].school_id, subject=targets[0].subject)
    card = render_card(
        "qa_form",
        verbs=QaVerb,
        title=f"QA summary: {period.term.title}",
        note=window_text(period),
        resubmissions=resubmissions,
        targets=[{"title": t.title, "value": t.value} for t in targets],
        values=view.values,
        errors=view.errors,
        evidence=EVIDENCE,
        judgements=JUDGEMENTS,
        max_text=MAX_TEXT,
        data=data,
    )
    return Reply(card=card)


async def _drawn(
    session: AsyncSession, turn: Turn, period: QaOpen, targets: list[Target], view: FormView
) -> Reply:
    latest = await latest_summaries(
        session,
        trust_id=turn.actor.trust_id,
        term=period.term,
        school_ids={t.school_id for t in targets},
    )
    return _form(turn, period, targets, latest, view)


async def open_form(turn: Turn) -> Reply:
    return await _open(turn, chosen=None)


async def open_for(turn: Turn) -> Reply:
    """The form for one (school, subject), from a reminder's button."""
    chosen = target_key(turn.data)
    if names_target(turn.data):
        async with turn.sessions.begin() as session:
            targets = await subject_targets(session, turn.actor)
            if chosen is None or chosen not in {t.key for t in targets}:
                # Only a tampered card names a subject or school that isn't the lead's.
                await refused(
                    session, turn.actor, "qa.open", school_id=chosen[0] if chosen else None
                )
                return Reply(text=NOT_YOURS)
    return await _open(turn, chosen=chosen)


async def _open(turn: Turn, *, chosen: tuple[int, str] | None) -> Reply:
    async with turn.sessions() as session:
        period = await today_period(session, turn)
        if isinstance(period, QaClosed):
            return Reply(text=closed_text(period))
        targets = await subject_targets(session, turn.actor)
        if not targets:
            return Reply(text=NO_SUBJECTS)
        picked = next((t for t in targets if t.key == chosen), None)
        view = QA_FORM.blank(**({"target": picked.value} if picked else {}))
        return await _drawn(session, turn, period, targets, view)


async def save(turn: Turn) -> Reply:
    submission = QA_FORM.read(turn)
    if isinstance(submission, Reply):
        return submission
    actor = turn.actor
    key = target_key(turn.data)
    async with turn.sessions.begin() as session:
        targets = await subject_targets(session, actor)
        target = next((t for t in targets if t.key == key), None)
        if target is None and names_target(turn.data):
            # A school or subject outside the lead's own is a scope attempt, not a typo.
            await refused(session, actor, "qa.save", school_id=key[0] if key else None)
            return Reply(text=NOT_YOURS)
        period = await today_period(session, turn)
        if isinstance(period, QaClosed):
            return Reply(text=f"{closed_text(period)} Nothing was saved.")
        if target is None:
            submission.error("target", "Choose the subject and school.")
        form = submission.form
        if form is None or target is None or not submission.valid:
            return await _drawn(session, turn, period, targets, submission.view())
        try:
            row, created = await record_qa_summary(
                session,
                trust_id=actor.trust_id,
                school_id=target.school_id,
                subject=target.subject,
                term=period.term,
                author_id=actor.person_id,
                form_id=submission.form_id,
                content=QaContent(
                    strengths=form.strengths,
                    areas_for_development=form.areas_for_development,
                    evidence=list(form.evidence),
                    judgement=form.judgement,
                    actions=form.actions,
                    cpd=form.cpd,
                ),
                submitted_at=turn.now,
            )
        except FormTaken:
            # Another lead's form id: a tampered card. Their summary is not shown.
            return QA_FORM.out_of_date
        if created:
            await record_event(
                session,
                trust_id=actor.trust_id,
                person_id=actor.person_id,
                action="qa.save",
                outcome="ok",
                school_id=row.school_id,
                subject_type="qa_summary",
                subject_id=row.id,
            )
        return await _confirmation(session, turn, row, again=not created)


async def _confirmation(session: AsyncSession, turn: Turn, row: QaSummary, *, again: bool) -> Reply:
    school = await school_in_trust(session, trust_id=row.trust_id, school_id=row.school_id)
    if again:
        title = "Already submitted"
        subtitle = (
            "This summary was stored when you first pressed Submit; nothing was stored twice."
        )
    else:
        title = "QA summary submitted"
        subtitle = f"Thank you. This is version {row.version} for the term; the latest one counts."
    return summary_card(
        row,
        school.name if school else "a school",
        zone=turn.zone,
        title=title,
        subtitle=subtitle,
        author=None,
    )
