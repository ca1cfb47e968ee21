"""Standards reviews: recording one, and which schools are due one this term.

A category can bring a standards review every term (`Category.termly_review`: the
five-categories preset's Recovery and Repair, "Additional Standards Review
meetings at the end of each term"), beside the annual standards meeting every
school has, in the trust's chosen term (`Trust.standards_meeting_term`; none is the
last term of the year).

A review is for the term its meeting was held in; a meeting in the holidays counts
for the term just ended. A review that changes the category is also a
categorisation, made in the same transaction, exactly as `categorise` makes one.

In the REMINDER_DAYS before a term ends, a school is due a reminder when its
category brings a termly review and no standards review is recorded for the term,
or when the term holds the annual standards meeting and neither a review nor a
categorisation is dated in it (the annual meeting agrees the school's category,
which `categorise` records). A categorisation alone is no termly review: one made
at a review is recorded with `review`, which makes both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import Term
from storage.categories import (
    UnknownCategory,
    current_categorisations,
    framework_categories,
    record_categorisation,
    school_category,
)
from storage.forms import store_once
from storage.models import (
    Delivery,
    Person,
    PersonRole,
    Role,
    School,
    SchoolCategorisation,
    StandardsReview,
    Trust,
)
from storage.terms import terms_around

# Trust leads are reminded in this many days before a term ends.
REMINDER_DAYS = 14
REVIEW_REMINDER = "review_reminder"
CONFIRMED = "confirmed"
CHANGED = "changed"
# Trusts keep from three to six terms a year (storage/academic_calendar.py).
MAX_TERMS = 6


class NotCategorised(ValueError):
    """A review can confirm a category only when the school has one."""


class InvalidMeetingTerm(ValueError):
    pass


# -- which term ------------------------------------------------------------------------


def term_of(terms: list[Term], day: date) -> Term | None:
    """The term a meeting on `day` is for: the last one begun by then (a day in the
    holidays belongs to the term just ended)."""
    begun = [term for term in terms if term.starts <= day]
    return max(begun, key=lambda term: term.starts) if begun else None


async def review_term(session: AsyncSession, *, trust_id: int, day: date) -> Term:
    term = term_of(await terms_around(session, trust_id=trust_id, day=day), day)
    # The year before the day's is among the terms: some term has always begun.
    assert term is not None, f"no term begun by {day}"
    return term


def meeting_term_number(terms: list[Term], year: str, chosen: int | None) -> int:
    """The number of `year`'s term that holds the annual standards meeting: the one the
    trust chose, or its last (a year with fewer terms than the choice: its last)."""
    last = max(term.number for term in terms if term.academic_year == year)
    return last if chosen is None else min(chosen, last)


async def standards_meeting_term(session: AsyncSession, *, trust_id: int) -> int | None:
    return await session.scalar(select(Trust.standards_meeting_term).where(Trust.id == trust_id))


async def set_standards_meeting_term(
    session: AsyncSession, *, trust_id: int, number: int | None
) -> None:
    """The trust's term for the annual standards meeting (None: the last of the year)."""
    if number is not None and not 1 <= number <= MAX_TERMS:
        raise InvalidMeetingTerm(f"the term must be from 1 to {MAX_TERMS}, or last (not {number})")
    trust = await session.get(Trust, trust_id)
    if trust is None:
        raise ValueError(f"there is no trust with id {trust_id}")
    trust.standards_meeting_term = number
    await session.flush()


# -- recording a review ----------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRecorded:
    review: StandardsReview
    # False when this form had been stored already (a double click, a redelivery).
    created: bool
    # The categorisation a change of category made.
    categorisation: SchoolCategorisation | None


async def record_review(
    session: AsyncSession,
    *,
    trust_id: int,
    school_id: int,
    held_on: date,
    attendees: str,
    trustees_attended: bool,
    new_category: str | None,
    notes: str,
    recorded_by: int | None,
    form_id: str,
) -> ReviewRecorded:
    """Store a standards review once per form; with `new_category`, the categorisation
    it decided too (the notes are its rationale).

    The review is stored first: a form sent again finds it and makes no second
    categorisation, whatever the resent card says. Raises FormTaken for a form id
    stored for another school or by someone else, NotCategorised for a confirmation
    of a school with no category, UnknownCategory for a key not in the framework.
    """
    term = await review_term(session, trust_id=trust_id, day=held_on)
    if new_category is None:
        standing = await school_category(session, trust_id=trust_id, school_id=school_id)
        if standing is None:
            raise NotCategorised()
        category_name = standing.current.category_name
    else:
        categories = await framework_categories(session, trust_id=trust_id)
        category = next((c for c in categories if c.key == new_category), None)
        if category is None:
            raise UnknownCategory(new_category)
        category_name = category.name
    stored = await store_once(
        session,
        StandardsReview,
        {
            "trust_id": trust_id,
            "school_id": school_id,
            "academic_year": term.academic_year,
            "term": term.number,
            "term_name": term.name,
            "held_on": held_on,
            "attendees": attendees,
            "trustees_attended": trustees_attended,
            "outcome": CONFIRMED if new_category is None else CHANGED,
            "category_name": category_name,
            "notes": notes,
            "recorded_by": recorded_by,
            "form_id": form_id,
        },
        same=("school_id", "recorded_by"),
    )
    review = stored.row
    categorisation: SchoolCategorisation | None = None
    if stored.created and new_category is not None:
        recorded = await record_categorisation(
            session,
            trust_id=trust_id,
            school_id=school_id,
            category_key=new_category,
            decided_on=held_on,
            attendees=attendees,
            rationale=notes,
            recorded_by=recorded_by,
            form_id=form_id,
        )
        categorisation = recorded.categorisation
        review.categorisation_id = categorisation.id
        await session.flush()
    elif review.categorisation_id is not None:
        categorisation = await session.get(SchoolCategorisation, review.categorisation_id)
    return ReviewRecorded(review, created=stored.created, categorisation=categorisation)


async def latest_review(
    session: AsyncSession, *, trust_id: int, school_id: int
) -> StandardsReview | None:
    return await session.scalar(
        select(StandardsReview)
        .where(StandardsReview.trust_id == trust_id, StandardsReview.school_id == school_id)
        .order_by(StandardsReview.held_on.desc(), StandardsReview.id.desc())
        .limit(1)
    )


# -- who is due a reminder -------------------------------------------------------------


@dataclass(frozen=True)
class ReviewDue:
    """A school with no review yet for a term that needs one."""

    school_id: int
    school_name: str
    # Its category now (None: not categorised yet), and since when.
    category: str | None
    since: date | None
    # Its category brings a review every term, and none is recorded for this one.
    termly: bool
    # The term holds the annual standards meeting, and none is recorded for it.
    annual: bool
    last_review: date | None


@dataclass(frozen=True)
class DueThisTerm:
    term: Term
    # The term holds the annual standards meeting.
    annual: bool
    schools: list[ReviewDue]

    def period(self, school_id: int) -> str:
        """The reminder's outbox period: one per school and term, whatever the reason."""
        return f"{self.term_key}/school-{school_id}"

    @property
    def term_key(self) -> str:
        return f"{self.term.academic_year}/t{self.term.number}"


@dataclass(frozen=True)
class NothingDue:
    reason: str


def reminder_term(terms: list[Term], today: date) -> Term | None:
    """The term whose last REMINDER_DAYS days (and its last day) hold `today`."""
    for term in sorted(terms, key=lambda t: t.ends):
        if term.ends - timedelta(days=REMINDER_DAYS) <= today <= term.ends:
            return term
    return None


async def reviews_due(
    session: AsyncSession,
    *,
    trust_id: int,
    today: date,
    calendar: tuple[Term, ...] | None = None,
) -> DueThisTerm | NothingDue:
    """The schools to remind trust leads about today, or why there are none."""
    terms = await terms_around(session, trust_id=trust_id, day=today, calendar=calendar)
    term = reminder_term(terms, today)
    if term is None:
        return NothingDue(
            f"no reminders today: they go in the {REMINDER_DAYS} days before a term ends"
        )
    chosen = await standards_meeting_term(session, trust_id=trust_id)
    annual = term.number == meeting_term_number(terms, term.academic_year, chosen)
    categories = {c.id: c for c in await framework_categories(session, trust_id=trust_id)}
    current = await current_categorisations(session, trust_id=trust_id)
    reviewed, categorised = await _held(session, trust_id=trust_id, term=term)
    latest = await session.execute(
        select(StandardsReview.school_id, func.max(StandardsReview.held_on))
        .where(StandardsReview.trust_id == trust_id)
        .group_by(StandardsReview.school_id)
    )
    last_reviews: dict[int, date] = {school_id: held_on for school_id, held_on in latest}
    due: list[ReviewDue] = []
    schools = await session.execute(
        select(School.id, School.name).where(School.trust_id == trust_id).order_by(School.name)
    )
    for school_id, name in schools:
        decision = current.get(school_id)
        category = (
            categories.get(decision.category_id) if decision and decision.category_id else None
        )
        termly = category is not None and category.termly_review and school_id not in reviewed
        meeting = annual and school_id not in reviewed | categorised
        if termly or meeting:
            due.append(
                ReviewDue(
                    school_id=school_id,
                    school_name=name,
                    category=decision.category_name if decision else None,
                    since=decision.decided_on if decision else None,
                    termly=termly,
                    annual=meeting,
                    last_review=last_reviews.get(school_id),
                )
            )
    return DueThisTerm(term=term, annual=annual, schools=due)


async def _held(session: AsyncSession, *, trust_id: int, term: Term) -> tuple[set[int], set[int]]:
    """The schools with a review for the term, and those with a categorisation in it."""
    reviewed = await session.scalars(
        select(StandardsReview.school_id).where(
            StandardsReview.trust_id == trust_id,
            StandardsReview.academic_year == term.academic_year,
            StandardsReview.term == term.number,
        )
    )
    categorised = await session.scalars(
        select(SchoolCategorisation.school_id).where(
            SchoolCategorisation.trust_id == trust_id,
            SchoolCategorisation.decided_on >= term.starts,
            SchoolCategorisation.decided_on <= term.ends,
        )
    )
    return set(reviewed), set(categorised)


async def review_reminder_readers(session: AsyncSession, *, trust_id: int) -> list[int]:
    """Who is reminded: the trust leads."""
    rows = await session.scalars(
        select(Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.trust_id == trust_id, PersonRole.role == Role.trust_lead.value)
        .order_by(Person.id)
    )
    return list(rows)


async def reminders_queued(
    session: AsyncSession, *, trust_id: int, due: DueThisTerm
) -> set[tuple[str, int]]:
    """(period, recipient) of the term's reminders queued already.

    The outbox's uniqueness is what keeps a reminder from going twice; asking first
    keeps a tick that finds nothing new from writing (or spending ids) at all.
    """
    rows = await session.execute(
        select(Delivery.period, Delivery.recipient_id).where(
            Delivery.trust_id == trust_id,
            Delivery.kind == REVIEW_REMINDER,
            Delivery.period.startswith(due.term_key + "/", autoescape=True),
        )
    )
    return {(period, recipient) for period, recipient in rows}


async def every_trust(session: AsyncSession) -> list[Trust]:
    """Every trust: the scheduler's tick reminds each on its own day."""
    return list(await session.scalars(select(Trust).order_by(Trust.id)))
