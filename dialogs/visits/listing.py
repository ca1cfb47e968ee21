"""`visits [school]`: a school's notes of visit, newest first, against its programme.

The list says how many visits the school has had this academic year against its
entitlement ("4 of 6 visits this year"), what the trust plans for the next one, and
each note with an Open button that shows it in full (`visit.show`). Heads and
governors read their school's, advisers their schools', trust leads any school's;
anyone else is refused, audited, and nothing changes.
"""

from __future__ import annotations

from typing import Any

from cards.render import render_card
from dialogs.forms import record_id
from dialogs.school_scope import pick_school, refuse, school_named
from dialogs.turn import Reply, Turn
from dialogs.visits.access import READERS, advises, reads_visits
from dialogs.visits.note import note_of_visit_card
from dialogs.visits.verbs import VisitVerb
from dialogs.words import counted, of_total, short_day
from storage.audit import record_refusal
from storage.engine import AsyncSession
from storage.models import School
from storage.visit_notes import VisitLine, VisitPage, school_visits, visit_in_trust
from storage.visit_programme import entitlement, planned_focus
from storage.visits import next_visit_number, visit_year, visits_done

# Notes on one card: a year and a half of a primary's visits, well under Teams' limit.
PAGE_SIZE = 10
# Characters of a visit's focus the list shows; Open shows all of it.
FOCUS_SHOWN = 160
NO_ACCESS = "You don't have access to that note of visit."


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= FOCUS_SHOWN else text[: FOCUS_SHOWN - 1].rstrip() + "…"


def _row(line: VisitLine) -> dict[str, Any]:
    done = [f"{line.next_steps} next step{'' if line.next_steps == 1 else 's'}"]
    if line.rated:
        done.append(f"{line.rated} earlier action{'' if line.rated == 1 else 's'} rated")
    return {
        "id": line.id,
        "heading": f"Visit {line.number} · {short_day(line.visited_on)}",
        "detail": f"{line.academic_year} · {line.adviser_name or 'adviser no longer in Waypoint'}",
        "focus": _shorten(line.focus) if line.focus else "No focus recorded",
        "outcome": " · ".join(done),
    }


async def _page(session: AsyncSession, school: School, page: int) -> VisitPage:
    return await school_visits(
        session,
        trust_id=school.trust_id,
        school_id=school.id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )


def _buttons(turn: Turn, school: School, page: int, pages: int) -> list[dict[str, Any]]:
    """Newer and Older pages of the list; a new note for the school's own adviser."""
    here = {"school_id": school.id}
    buttons = []
    if page > 1:
        buttons.append(
            {"title": "Newer notes", "verb": VisitVerb.notes, "data": here | {"page": page - 1}}
        )
    if page < pages:
        buttons.append(
            {"title": "Older notes", "verb": VisitVerb.notes, "data": here | {"page": page + 1}}
        )
    if advises(turn.actor, school.id):
        buttons.append({"title": "New note of visit", "verb": VisitVerb.start, "data": here})
    return buttons


async def visits_card(turn: Turn, school: School, *, page: int = 1) -> Reply:
    """The school's notes of visit, a page at a time, for someone who may read them."""
    year = visit_year(turn.today)
    async with turn.sessions() as session:
        done = await visits_done(session, school_id=school.id, academic_year=year)
        entitled = await entitlement(session, trust_id=school.trust_id, phase=school.phase)
        upcoming = await next_visit_number(session, school_id=school.id, academic_year=year)
        planned = (
            await planned_focus(
                session, trust_id=school.trust_id, phase=school.phase, number=upcoming
            )
            if upcoming <= entitled
            else None
        )
        page = max(page, 1)
        listed = await _page(session, school, page)
        pages = max(1, -(-listed.total // PAGE_SIZE))
        if page > pages:
            # A page that has gone (a note removed since): the last there is.
            page = pages
            listed = await _page(session, school, page)
    if listed.total == 0:
        summary = "No notes of visit yet."
    elif pages == 1:
        summary = "Newest first."
    else:
        summary = f"Page {page} of {pages}, newest first: {counted(listed.total, 'note')} in all."
    card = render_card(
        "visits",
        verbs=VisitVerb,
        title=f"Notes of visit: {school.name}",
        programme=f"{of_total(done, entitled, 'visit')} this year ({year})",
        planned=f"Visit {upcoming} is planned to cover: {planned}" if planned else None,
        summary=summary,
        rows=[_row(line) for line in listed.lines],
        buttons=_buttons(turn, school, page, pages),
    )
    return Reply(card=card)


async def show_visits(turn: Turn, school: School, *, page: int = 1) -> Reply:
    if not reads_visits(turn.actor, school.id):
        return await refuse(
            turn, school=school, what=f"{school.name}'s notes of visit", action="visit.notes"
        )
    return await visits_card(turn, school, page=page)


async def list_visits(turn: Turn) -> Reply:
    """`visits [school]`: the named school, or the reader's only school, or a choice."""
    found = await pick_school(
        turn, query=turn.args, verb=VisitVerb.notes, asking="notes of visit", roles=READERS
    )
    if isinstance(found, Reply):
        return found
    return await show_visits(turn, found)


async def notes_page(turn: Turn) -> Reply:
    """`visit.notes`: a school chosen on a card, a page of its list, or back from a note."""
    school = await school_named(
        turn,
        what="that school's notes of visit",
        action="visit.notes",
        missing="Choose a school, or type visits and its name.",
    )
    if isinstance(school, Reply):
        return school
    number = turn.data.get("page")
    page = number if isinstance(number, int) and not isinstance(number, bool) else 1
    return await show_visits(turn, school, page=page)


async def show_note(turn: Turn) -> Reply:
    """`visit.show`: one note of visit in full, for those who read the school's notes."""
    visit_id = record_id(turn.data.get("visit_id"))
    async with turn.sessions.begin() as session:
        visit = (
            await visit_in_trust(session, trust_id=turn.actor.trust_id, visit_id=visit_id)
            if visit_id is not None
            else None
        )
        if visit is None or not reads_visits(turn.actor, visit.school_id):
            # Another trust's visit (only a tampered card names one) is not said to exist.
            await record_refusal(
                session,
                turn.actor,
                "visit.show",
                school_id=visit.school_id if visit else None,
                subject_type="visit" if visit else None,
                subject_id=visit.id if visit else None,
            )
            return Reply(text=NO_ACCESS)
        card = await note_of_visit_card(
            session, trust_id=turn.actor.trust_id, visit_id=visit.id, zone=turn.zone
        )
    return Reply(card=card) if card is not None else Reply(text=NO_ACCESS)
