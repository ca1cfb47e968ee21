"""Subject-lead QA: the termly summary card, reading a summary, reminders.

A subject lead submits only for the subjects they lead at their own schools; a
summary is read by its author, the head of its school and trust leads. `qa status`
is dialogs/qa_status.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from dialogs.turn import Reply, Turn
from storage.audit import record_event, record_refusal
from storage.directory import Actor
from storage.forms import FormTaken
from storage.models import Person, QaSummary, Role, School
from storage.qa import (
    EVIDENCE,
    JUDGEMENTS,
    QaContent,
    ReminderDue,
    SummaryLine,
    claim_qa_reminders,
    latest_summaries,
    led_subjects,
    qa_summary,
    record_qa_summary,
    release_qa_reminders,
    summary_by_form,
)
from storage.terms import QaClosed, QaOpen, QaPeriod, Term, qa_period, qa_settings

SUBMITTERS = frozenset({Role.subject_lead})
# Who reads a school's summaries and status: its head, and trust leads.
SCHOOL_READERS = frozenset({Role.head, Role.trust_lead})
MAX_TEXT = 4000
FIELDS = ("target", "strengths", "areas_for_development", "evidence", "judgement", "actions", "cpd")

MESSAGES = {
    "strengths": "Write the subject's strengths.",
    "areas_for_development": "Write the areas for development in the subject's pedagogy.",
    "evidence": "Choose at least one kind of evidence.",
    "judgement": "Choose red, amber or green.",
    "actions": "Write the actions you will take.",
    **{
        f"{name}:string_too_long": "Keep this to 4,000 characters (this is {length})."
        for name in ("strengths", "areas_for_development", "actions", "cpd")
    },
}

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


@dataclass(frozen=True)
class Target:
    school_id: int
    school_name: str
    subject: str

    @property
    def key(self) -> tuple[int, str]:
        return (self.school_id, self.subject)

    @property
    def value(self) -> str:
        return f"{self.school_id}:{self.subject}"

    @property
    def title(self) -> str:
        return f"{self.subject} at {self.school_name}"


def register(registry: Registry) -> None:
    registry.command(
        "qa",
        title="Submit QA summary",
        summary="Your subject's termly QA summary, in one card",
        phrases=("qa", "submit qa", "qa summary", "submit qa summary", "qa form"),
        private=True,
        example="submit qa",
        roles=SUBMITTERS,
    )(open_form)
    registry.verb("qa.open", private=True, roles=SUBMITTERS)(open_for)
    registry.verb("qa.save", private=True, roles=SUBMITTERS)(save)
    registry.verb("qa.show", private=True)(show)


# -- words -------------------------------------------------------------------------


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def _long_day(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def closed_text(period: QaClosed) -> str:
    text = "No term is open for QA summaries today."
    if period.previous is not None:
        text += (
            f" The window for {period.previous.term.title} closed on "
            f"{_long_day(period.previous.closes)}."
        )
    if period.next is not None:
        text += (
            f" The next window, for {period.next.term.title}, opens on "
            f"{_long_day(period.next.opens)}."
        )
    return text


def window_text(period: QaOpen) -> str:
    closes = _long_day(period.window.closes)
    if period.days_left == 0:
        return f"The window for {period.term.title} closes today, {closes}."
    days = "1 day" if period.days_left == 1 else f"{period.days_left} days"
    return f"The window for {period.term.title} is open until {closes}: {days} left."


def submitted_line(line: SummaryLine, actor: Actor) -> str:
    who = "you" if line.author_id == actor.person_id else (line.author_name or "someone")
    return f"{who} submitted on {_day(school_today(line.submitted_at))} (version {line.version})"


# -- the form ----------------------------------------------------------------------


async def subject_targets(session: AsyncSession, actor: Actor) -> list[Target]:
    if Role.subject_lead not in actor.roles:
        return []
    leads = await led_subjects(session, trust_id=actor.trust_id, person_id=actor.person_id)
    return [Target(lead.school_id, lead.school_name, lead.subject) for lead in leads]


async def today_period(session: AsyncSession, turn: Turn) -> QaPeriod:
    return await qa_period(session, trust_id=turn.actor.trust_id, today=school_today(turn.now))


def _form(
    period: QaOpen,
    targets: list[Target],
    latest: dict[tuple[int, str], SummaryLine],
    actor: Actor,
    *,
    values: dict[str, str],
    form_id: str,
    errors: dict[str, str] | None = None,
) -> Reply:
    resubmissions = []
    for target in targets:
        line = latest.get(target.key)
        if line is None:
            continue
        who = "You" if line.author_id == actor.person_id else (line.author_name or "Someone")
        prefix = f"{target.title}: " if len(targets) > 1 else ""
        resubmissions.append(
            f"{prefix}{who} submitted on {_day(school_today(line.submitted_at))} — "
            f"this will be version {line.version + 1}."
        )
    data: dict[str, Any] = {"verb": "qa.save", "form_id": form_id}
    if len(targets) == 1:
        data.update(school_id=targets[0].school_id, subject=targets[0].subject)
    card = render_card(
        "qa_form",
        title=f"QA summary: {period.term.title}",
        note=window_text(period),
        resubmissions=resubmissions,
        targets=[{"title": t.title, "value": t.value} for t in targets],
        values=values,
        errors=errors or {},
        evidence=EVIDENCE,
        judgements=JUDGEMENTS,
        max_text=MAX_TEXT,
        data=data,
    )
    return Reply(card=card)


NO_SUBJECTS = (
    "Waypoint has no subject and school for you as a subject lead yet. "
    "Your trust admin can add them."
)


async def open_form(turn: Turn) -> Reply:
    return await _open(turn, chosen=None)


async def open_for(turn: Turn) -> Reply:
    """The form for one (school, subject), from a reminder's button."""
    chosen = _target_key(turn.data)
    if _named_target(turn.data):
        async with turn.sessions.begin() as session:
            targets = await subject_targets(session, turn.actor)
            if chosen is None or chosen not in {t.key for t in targets}:
                # Only a tampered card names a subject or school that isn't the lead's.
                await refuse(
                    session, turn.actor, "qa.open", school_id=chosen[0] if chosen else None
                )
                return Reply(text=_NOT_YOURS)
    return await _open(turn, chosen=chosen)


_NOT_YOURS = (
    "You don't have access to submit a QA summary for that subject and school: "
    "subject leads submit for the subjects they lead at their own schools."
)


async def _open(turn: Turn, *, chosen: tuple[int, str] | None) -> Reply:
    async with turn.sessions() as session:
        period = await today_period(session, turn)
        if isinstance(period, QaClosed):
            return Reply(text=closed_text(period))
        targets = await subject_targets(session, turn.actor)
        if not targets:
            return Reply(text=NO_SUBJECTS)
        latest = await latest_summaries(
            session,
            trust_id=turn.actor.trust_id,
            term=period.term,
            school_ids={t.school_id for t in targets},
        )
    values = {}
    picked = next((t for t in targets if t.key == chosen), None)
    if picked is not None:
        values["target"] = picked.value
    return _form(period, targets, latest, turn.actor, values=values, form_id=new_form_id())


# -- saving ------------------------------------------------------------------------


def _target_key(data: dict[str, Any]) -> tuple[int, str] | None:
    """The (school, subject) a submit names: the choice, or the card's own data."""
    raw = data.get("target")
    school: object
    subject: object
    if isinstance(raw, str) and ":" in raw:
        school, subject = raw.split(":", 1)
    else:
        school, subject = data.get("school_id"), data.get("subject")
    school_id = record_id(school)
    if school_id is None:
        return None
    return (school_id, subject) if isinstance(subject, str) and subject else None


def _named_target(data: dict[str, Any]) -> bool:
    return any(data.get(key) not in (None, "") for key in ("target", "school_id", "subject"))


async def save(turn: Turn) -> Reply:
    actor = turn.actor
    form_id = valid_form_id(turn.data.get("form_id"))
    if form_id is None:
        return Reply(text=_OUT_OF_DATE)
    values = {key: submitted_text(turn.data, key) for key in FIELDS}
    key = _target_key(turn.data)
    async with turn.sessions.begin() as session:
        existing = await summary_by_form(session, trust_id=actor.trust_id, form_id=form_id)
        if existing is not None and existing.author_id != actor.person_id:
            # Another lead's form id: a tampered card. Their summary is not shown.
            return Reply(text=_OUT_OF_DATE)
        if existing is not None:
            # A double click or a redelivery: the first submit stored it.
            return await _confirmation(session, existing, again=True)
        targets = await subject_targets(session, actor)
        target = next((t for t in targets if t.key == key), None)
        if target is None and _named_target(turn.data):
            # A school or subject outside the lead's own is a scope attempt, not a typo.
            await refuse(session, actor, "qa.save", school_id=key[0] if key else None)
            return Reply(text=_NOT_YOURS)
        period = await today_period(session, turn)
        if isinstance(period, QaClosed):
            return Reply(text=f"{closed_text(period)} Nothing was saved.")
        errors: dict[str, str] = {}
        form: QaForm | None = None
        try:
            form = QaForm.model_validate(values)
        except ValidationError as error:
            errors = field_errors(error, MESSAGES)
        if target is None:
            errors["target"] = "Choose the subject and school."
        if errors or form is None or target is None:
            latest = await latest_summaries(
                session,
                trust_id=actor.trust_id,
                term=period.term,
                school_ids={t.school_id for t in targets},
            )
            return _form(
                period, targets, latest, actor, values=values, form_id=form_id, errors=errors
            )
        try:
            row, created = await _record(session, actor, target, period.term, form_id, form, turn)
        except FormTaken:
            return Reply(text=_OUT_OF_DATE)
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
        return await _confirmation(session, row, again=not created)


_OUT_OF_DATE = "That form is out of date. Type submit qa to start a new one."


async def _record(
    session: AsyncSession,
    actor: Actor,
    target: Target,
    term: Term,
    form_id: str,
    form: QaForm,
    turn: Turn,
) -> tuple[QaSummary, bool]:
    return await record_qa_summary(
        session,
        trust_id=actor.trust_id,
        school_id=target.school_id,
        subject=target.subject,
        term=term,
        author_id=actor.person_id,
        form_id=form_id,
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


async def refuse(
    session: AsyncSession, actor: Actor, action: str, *, school_id: int | None
) -> None:
    # Only a school of the actor's trust may be named in the trail (and exist at all).
    school = await session.get(School, school_id) if school_id is not None else None
    await record_refusal(
        session,
        actor,
        action,
        school_id=school.id if school is not None and school.trust_id == actor.trust_id else None,
    )


async def _confirmation(session: AsyncSession, row: QaSummary, *, again: bool) -> Reply:
    school = await session.get(School, row.school_id)
    school_name = school.name if school else "a school"
    if again:
        title = "Already submitted"
        subtitle = (
            "This summary was stored when you first pressed Submit; nothing was stored twice."
        )
    else:
        title = "QA summary submitted"
        subtitle = f"Thank you. This is version {row.version} for the term; the latest one counts."
    return _summary_card(row, school_name, title=title, subtitle=subtitle, author=None)


def _summary_card(
    row: QaSummary, school_name: str, *, title: str, subtitle: str | None, author: str | None
) -> Reply:
    facts = [
        ("Subject", row.subject),
        ("School", school_name),
        ("Term", f"{row.term_name} {row.academic_year}"),
        ("Version", str(row.version)),
        ("Judgement", JUDGEMENTS.get(row.judgement, row.judgement)),
        ("Evidence", ", ".join(EVIDENCE.get(e, e) for e in row.evidence)),
        ("Submitted", _day(school_today(row.submitted_at))),
    ]
    if author:
        facts.insert(3, ("Submitted by", author))
    sections = [
        ("Strengths", row.strengths),
        ("Areas for development", row.areas_for_development),
        ("Actions", row.actions),
        ("CPD delivered", row.cpd or "None recorded"),
    ]
    card = render_card("qa_summary", title=title, subtitle=subtitle, facts=facts, sections=sections)
    return Reply(card=card)


# -- reading a summary -------------------------------------------------------------


def may_read(actor: Actor, row: QaSummary) -> bool:
    """The author, the head of the summary's school, trust leads."""
    if actor.trust_id != row.trust_id:
        return False
    return row.author_id == actor.person_id or actor.has_role_at(row.school_id, SCHOOL_READERS)


async def show(turn: Turn) -> Reply:
    summary_id = record_id(turn.data.get("summary_id"))
    async with turn.sessions.begin() as session:
        row = (
            await qa_summary(session, trust_id=turn.actor.trust_id, summary_id=summary_id)
            if summary_id is not None
            else None
        )
        if row is None or not may_read(turn.actor, row):
            await refuse(session, turn.actor, "qa.show", school_id=row.school_id if row else None)
            return Reply(
                text="You don't have access to that QA summary: it is for its author, "
                "the school's head and trust leads."
            )
        school = await session.get(School, row.school_id)
        author = await _person_name(session, row.author_id)
        return _summary_card(
            row,
            school.name if school else "a school",
            title=f"QA summary: {row.subject}",
            subtitle=None,
            author=author or "someone no longer in Waypoint",
        )


async def _person_name(session: AsyncSession, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = await session.get(Person, person_id)
    return person.display_name if person else None


# -- reminders ---------------------------------------------------------------------


class Deliver(Protocol):
    """Sends a card to a person's own chat now; True when it was accepted."""

    async def __call__(self, *, trust_id: int, person_id: int, reply: Reply) -> bool: ...


@dataclass(frozen=True)
class ReminderRun:
    term: Term | None
    people: int = 0
    delivered: int = 0
    reason: str = ""

    def __str__(self) -> str:
        if self.term is None or self.reason:
            return self.reason
        failed = self.people - self.delivered
        text = f"{self.term.title}: reminded {self.delivered} subject lead(s)"
        if failed:
            text += f"; {failed} could not be reached (they will be tried again next run)"
        return text


def reminder_card(term: Term, items: list[ReminderDue]) -> Reply:
    lines = [
        {
            "text": f"{item.subject} at {item.school_name}",
            "button": {
                "title": "Open the form",
                "data": {"verb": "qa.open", "school_id": item.school_id, "subject": item.subject},
            },
        }
        for item in items
    ]
    card = render_card(
        "qa_status",
        title=f"QA summary due: {term.title}",
        note=f"{term.name} ends on {_long_day(term.ends)} and Waypoint has no QA summary "
        "from you yet for:",
        sections=[{"heading": "Still to submit", "items": lines, "empty": ""}],
    )
    return Reply(card=card)


async def send_qa_reminders(
    sessions: async_sessionmaker[AsyncSession], *, trust_id: int, today: date, deliver: Deliver
) -> ReminderRun:
    """Remind each subject lead without a summary, once per term, school and subject.

    At most once: reminders are claimed (written) and committed before sending,
    so a second run, or one on another machine, finds them taken. A send that
    fails releases its claim, so the next run retries; a process that dies
    between the claim and the send loses that reminder rather than risking a
    duplicate.
    """
    async with sessions.begin() as session:
        settings = await qa_settings(session, trust_id=trust_id)
        period = await qa_period(session, trust_id=trust_id, today=today, settings=settings)
        if not isinstance(period, QaOpen):
            return ReminderRun(None, reason="no reminders: " + closed_text(period))
        term = period.term
        first_day = term.ends.toordinal() - settings.reminder_days
        if not first_day <= today.toordinal() <= term.ends.toordinal():
            return ReminderRun(
                term,
                reason=f"no reminders: they go in the {settings.reminder_days} days before "
                f"{term.title} ends on {_long_day(term.ends)}",
            )
        claimed = await claim_qa_reminders(
            session, trust_id=trust_id, term=term, now=datetime.now(UTC)
        )
    by_person: defaultdict[int, list[ReminderDue]] = defaultdict(list)
    for item in claimed:
        by_person[item.person_id].append(item)
    delivered = 0
    for person_id, items in by_person.items():
        if await deliver(trust_id=trust_id, person_id=person_id, reply=reminder_card(term, items)):
            delivered += 1
            continue
        async with sessions.begin() as session:
            await release_qa_reminders(session, reminder_ids=[i.reminder_id for i in items])
    return ReminderRun(term, people=len(by_person), delivered=delivered)
