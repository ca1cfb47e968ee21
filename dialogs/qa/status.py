"""`qa status`: which subjects have submitted this term's QA summary, and which have not.

Heads read the schools they head, advisers the schools they advise, trust leads
every school, a subject lead their own subjects. A view of many schools (the whole
trust, or a head of several) lists one line per school, a page of them per card,
with the totals across every school in scope; one school is shown subject by subject.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from cards.render import render_card
from dialogs.forms import record_id
from dialogs.qa.access import SCHOOL_READERS, refused
from dialogs.qa.targets import NO_SUBJECTS, subject_targets, today_period
from dialogs.qa.verbs import QaVerb
from dialogs.qa.words import closed_text, submitted_line, window_text
from dialogs.turn import Reply, Turn
from dialogs.words import counted, of_total
from storage.academic_calendar import QaClosed, QaOpen, Term
from storage.engine import AsyncSession
from storage.qa import JUDGEMENTS, SchoolCompliance, latest_summaries
from storage.qa_compliance import compliance
from storage.schools import SchoolFound, SchoolNotFound, find_school, school_in_trust

# Schools on one card of a many-school view. A line is at most about 650 bytes of
# card JSON as sent (a 200-character school name, its counts, its Details button),
# so a page stays under 14 KB whatever the trust's size: well under Teams' ~28 KB
# for a card and ~100 KB for a message.
SCHOOLS_PER_PAGE = 20
# -- pages -------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One card's share of the schools, numbered from 1."""

    schools: Sequence[SchoolCompliance]
    number: int
    count: int
    first: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None

    @property
    def heading(self) -> str:
        if self.count == 1:
            return "Schools"
        last = self.first + len(self.schools) - 1
        return f"Schools {self.first}–{last} of {self.total} (page {self.number} of {self.count})"


def page_of(schools: Sequence[SchoolCompliance], requested: int) -> Page:
    """The requested page; past the last one, the last (a card pressed after schools
    were removed still shows something)."""
    count = max(1, -(-len(schools) // SCHOOLS_PER_PAGE))
    number = min(max(requested, 1), count)
    start = (number - 1) * SCHOOLS_PER_PAGE
    return Page(
        schools=schools[start : start + SCHOOLS_PER_PAGE],
        number=number,
        count=count,
        first=start + 1,
        total=len(schools),
    )


def _requested_page(data: dict[str, Any]) -> int:
    # A page number is a record-id-shaped positive whole number; anything else is page 1.
    return record_id(data.get("page")) or 1


# -- answering ---------------------------------------------------------------------


async def reported_term(session: AsyncSession, turn: Turn) -> tuple[Term, str] | Reply:
    """The term status reports on (the open one, else the one whose window last
    closed) with a line about its window; else the answer to give instead."""
    period = await today_period(session, turn)
    if isinstance(period, QaOpen):
        return period.term, window_text(period)
    if period.previous is not None:
        return period.previous.term, closed_text(period)
    return Reply(text=closed_text(period) if isinstance(period, QaClosed) else "")


async def status(turn: Turn) -> Reply:
    if not turn.args:
        return await _in_scope(turn, page=1)
    actor = turn.actor
    # Each head reads the schools they head; a role at another school gives nothing there.
    read = actor.schools_where(SCHOOL_READERS)
    readers = read is None or bool(read)
    async with turn.sessions() as session:
        match = await find_school(session, trust_id=actor.trust_id, query=turn.args)
    if isinstance(match, SchoolNotFound):
        return Reply(text=f"I couldn't find a school called “{turn.args}” in {actor.trust_name}.")
    if not readers:
        # A subject lead's status is their own subjects: at a school of theirs, that;
        # anywhere else, a refusal.
        if isinstance(match, SchoolFound) and actor.reaches_school(match.school.id):
            return await _my_status(turn)
        if isinstance(match, SchoolFound):
            return await _school_status_checked(turn, match.school.id)
        return await _my_status(turn)
    if isinstance(match, SchoolFound):
        return await _school_status_checked(turn, match.school.id)
    choices = [
        {
            "text": school.name,
            "button": {
                "title": "Show",
                "data": {"verb": QaVerb.status, "school_id": school.id},
            },
        }
        for school in match.schools
        if actor.has_role_at(school.id, SCHOOL_READERS)
    ]
    card = render_card(
        "qa_status",
        title="Which school?",
        note=f"More than one school matches “{turn.args}”.",
        sections=[{"heading": "Schools", "items": choices, "empty": "None of yours."}],
    )
    return Reply(card=card)


async def status_page(turn: Turn) -> Reply:
    """Previous / Next. The card says only which page: the schools are the asker's
    own, worked out again here, whatever else a card's data names."""
    return await _in_scope(turn, page=_requested_page(turn.data))


async def _in_scope(turn: Turn, *, page: int) -> Reply:
    """`qa status` with no school named: everything the asker may read."""
    read = turn.actor.schools_where(SCHOOL_READERS)
    if read is None:
        return await _trust_status(turn, page=page)
    if read:
        return await _schools_status(turn, school_ids=read, page=page)
    return await _my_status(turn)


async def status_of_school(turn: Turn) -> Reply:
    school_id = record_id(turn.data.get("school_id"))
    if school_id is None:
        return Reply(text="That card is out of date. Type qa status to start again.")
    return await _school_status_checked(turn, school_id)


async def _school_status_checked(turn: Turn, school_id: int) -> Reply:
    actor = turn.actor
    async with turn.sessions() as session:
        school = await school_in_trust(session, trust_id=actor.trust_id, school_id=school_id)
    if school is None or not actor.has_role_at(school_id, SCHOOL_READERS):
        async with turn.sessions.begin() as session:
            await refused(session, actor, "qa.status", school_id=school_id)
        return Reply(
            text="You don't have access to that school's QA summaries: heads see their own "
            "school, advisers the schools they advise, trust leads every school."
        )
    return await _schools_status(turn, school_ids={school_id}, page=1)


async def _compliance(
    turn: Turn, school_ids: Collection[int] | None
) -> tuple[Term, str, list[SchoolCompliance]] | Reply:
    async with turn.sessions() as session:
        reported = await reported_term(session, turn)
        if isinstance(reported, Reply):
            return reported
        term, note = reported
        schools = await compliance(
            session, trust_id=turn.actor.trust_id, term=term, school_ids=school_ids
        )
    return term, note, schools


async def _trust_status(turn: Turn, *, page: int) -> Reply:
    found = await _compliance(turn, None)
    if isinstance(found, Reply):
        return found
    term, note, schools = found
    return _many_schools_card(
        term,
        f"{note} Across {turn.actor.trust_name}: {_totals(schools)}.",
        page_of(schools, page),
        empty="The trust has no schools.",
    )


async def _schools_status(turn: Turn, *, school_ids: Collection[int], page: int) -> Reply:
    found = await _compliance(turn, school_ids)
    if isinstance(found, Reply):
        return found
    term, note, schools = found
    if not schools:
        return Reply(text="You have no school in Waypoint yet.")
    if len(schools) > 1:
        return _many_schools_card(
            term,
            f"{note} Across your {counted(len(schools), 'school')}: {_totals(schools)}.",
            page_of(schools, page),
            empty="",
        )
    [only] = schools
    card = render_card(
        "qa_status",
        title=f"QA summaries at {only.school_name}: {term.title}",
        note=f"{note} {of_total(only.submitted_count, len(only.expected), 'subject')} submitted.",
        sections=_school_sections(only, turn),
    )
    return Reply(card=card)


def _totals(schools: Sequence[SchoolCompliance]) -> str:
    expected = sum(len(s.expected) for s in schools)
    submitted = sum(s.submitted_count for s in schools)
    return f"{submitted} of {expected} submitted"


def _many_schools_card(term: Term, note: str, page: Page, *, empty: str) -> Reply:
    # Schools stay in name order, not "most behind first": a summary submitted
    # between two presses of Next must not move a school onto a page already seen.
    items = [
        {
            "text": f"{s.school_name}: {s.submitted_count} of {len(s.expected)} submitted",
            "button": {
                "title": "Details",
                "data": {"verb": QaVerb.status, "school_id": s.school_id},
            },
        }
        for s in page.schools
    ]
    card = render_card(
        "qa_status",
        title=f"QA summaries: {term.title}",
        note=note,
        sections=[{"heading": page.heading, "items": items, "empty": empty}],
        pages={"verb": QaVerb.status_page, "previous": page.previous, "next": page.next},
    )
    return Reply(card=card)


def _school_sections(school: SchoolCompliance, turn: Turn) -> list[dict[str, Any]]:
    submitted = [
        {
            "text": f"{subject}: {submitted_line(line, turn.actor, turn.zone)}, "
            f"{JUDGEMENTS.get(line.judgement, line.judgement)}",
            "button": {"title": "View", "data": {"verb": QaVerb.show, "summary_id": line.id}},
        }
        for subject, line in sorted(school.submitted.items())
    ]
    missing = [
        {"text": f"{subject}: {', '.join(school.expected[subject])}", "button": None}
        for subject in school.missing
    ]
    # The card's title names the school: a heading is the state of its lines alone
    # ("Oakfield Primary: submitted" above "No summary yet" read as a contradiction).
    sections = [{"heading": f"Submitted ({len(submitted)})", "items": submitted, "empty": ""}]
    return [
        *(sections if submitted else []),
        {
            "heading": f"Not yet submitted ({len(missing)})",
            "items": missing,
            "empty": "Every subject has submitted."
            if school.expected
            else "No subject leads are set up for this school.",
        },
    ]


async def _my_status(turn: Turn) -> Reply:
    """A subject lead's own subjects: done or not, this term."""
    actor = turn.actor
    async with turn.sessions() as session:
        reported = await reported_term(session, turn)
        if isinstance(reported, Reply):
            return reported
        term, note = reported
        targets = await subject_targets(session, actor)
        latest = await latest_summaries(
            session, trust_id=actor.trust_id, term=term, school_ids={t.school_id for t in targets}
        )
    if not targets:
        return Reply(text=NO_SUBJECTS)
    items = []
    for target in targets:
        line = latest.get(target.key)
        if line is None:
            items.append(
                {
                    "text": f"{target.title}: not yet submitted",
                    "button": {
                        "title": "Submit",
                        "data": {
                            "verb": QaVerb.open,
                            "school_id": target.school_id,
                            "subject": target.subject,
                        },
                    },
                }
            )
        else:
            items.append(
                {
                    "text": f"{target.title}: {submitted_line(line, actor, turn.zone)}",
                    "button": {
                        "title": "View",
                        "data": {"verb": QaVerb.show, "summary_id": line.id},
                    },
                }
            )
    card = render_card(
        "qa_status",
        title=f"Your QA summaries: {term.title}",
        note=note,
        sections=[{"heading": "Your subjects", "items": items, "empty": ""}],
    )
    return Reply(card=card)
