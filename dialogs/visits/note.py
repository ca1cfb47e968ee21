"""One note of visit in full: the card `visit.show` opens, and the card any dialog
can show for a visit it names by id.

    card = await note_of_visit_card(session, trust_id=turn.actor.trust_id,
                                    visit_id=visit.id, zone=turn.zone)

It reads the note in the caller's session and decides nothing about access: call it
only for someone who may read the school's notes of visit
(dialogs/visits/access.py `reads_visits`: the school's head, governors and adviser,
and trust leads).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from cards.render import render_card
from dialogs.visits.verbs import VisitVerb
from dialogs.words import long_date
from storage.engine import AsyncSession
from storage.visit_notes import NextStep, NoteOfVisit, note_of_visit

RAG_WORDS = {
    "green": "Green: carried out",
    "amber": "Amber: partly carried out",
    "red": "Red: not carried out",
}
# Adaptive Card colours for a rating: the words say it too, for anyone who can't see colour.
# Teams' "good" green and "warning" yellow are too pale to read on white (2.1:1 and 1.5:1):
# those ratings are in the default colour, the words saying which.
RAG_COLOURS = {"red": "Attention"}
STATUS_WORDS = {"open": "Open", "done": "Done", "dropped": "Dropped"}
NOBODY_NOW = "someone no longer in Waypoint"


def _step(step: NextStep) -> dict[str, str]:
    detail = [
        f"Owner: {step.owner_name or 'nobody yet'}",
        f"Due {long_date(step.due_on)}" if step.due_on else "No due date",
        STATUS_WORDS.get(step.status, step.status),
    ]
    if step.rag:
        detail.append(f"RAG {step.rag}")
    return {"description": step.description, "detail": " · ".join(detail)}


def note_card(note: NoteOfVisit, *, zone: ZoneInfo) -> dict[str, Any]:
    """The note as its card: school, visit number and academic year, date, adviser,
    focus, strengths, risks, the next steps it left (owner, due date, status as they
    stand now) and the RAG ratings it gave earlier actions."""
    visit, school = note.visit, note.school
    recorded = visit.recorded_at.astimezone(zone)
    facts = [
        ("School", school.name),
        ("Visit", f"Visit {visit.number} of {visit.academic_year}"),
        ("Date", long_date(visit.visited_on)),
        ("Adviser", note.adviser_name or NOBODY_NOW),
        ("Next visit", long_date(visit.next_visit_on) if visit.next_visit_on else "Not set"),
        ("Recorded", f"{long_date(recorded.date())} at {recorded:%H:%M}"),
    ]
    sections = [
        ("Focus", visit.focus or "None recorded"),
        ("Strengths", visit.strengths or "None recorded"),
        ("Risks", visit.risks or "None recorded"),
    ]
    return render_card(
        "note_of_visit",
        verbs=VisitVerb,
        title="Note of visit",
        subtitle=f"{school.name} · Visit {visit.number}, {visit.academic_year}",
        facts=facts,
        sections=sections,
        steps=[_step(step) for step in note.next_steps],
        ratings=[
            {
                "description": rating.description,
                "rating": RAG_WORDS.get(rating.rag, rating.rag),
                "colour": RAG_COLOURS.get(rating.rag, "Default"),
            }
            for rating in note.ratings
        ],
        school_id=school.id,
    )


async def note_of_visit_card(
    session: AsyncSession, *, trust_id: int, visit_id: int, zone: ZoneInfo
) -> dict[str, Any] | None:
    """The full note of visit `visit_id` of the trust as an Adaptive Card, or None when
    the trust has no such visit.

    `zone` is the trust's time zone (`turn.zone`), in which the time the note was
    recorded is shown. Its button ("All notes of visit", verb `visit.notes`) lists the
    school's notes. The caller checks that the reader may see the school's notes of
    visit (`reads_visits`) before showing the card to anyone.
    """
    note = await note_of_visit(session, trust_id=trust_id, visit_id=visit_id)
    return None if note is None else note_card(note, zone=zone)
