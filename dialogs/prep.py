"""`prep visit [school]`: an adviser's prep pack, one card with what a visit looks at.

Seed 002: "SI Team have access to school data and would not expect data to be
prepared for the visit." The category and its target date, the actions in hand
with their last rating, this term's QA judgements by subject, coaching coverage,
attendance concerns counted by stage (never a pupil), and the last note's next
steps. Advisers for their schools, trust leads for any.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cards.render import render_card
from dialogs.actions.listing import MAX_SHOWN
from dialogs.qa.status import reported_term
from dialogs.registry import Registry
from dialogs.school_scope import pick_school, refuse, school_named
from dialogs.turn import Reply, Turn
from dialogs.visits.access import ADVISERS
from dialogs.visits.verbs import VisitVerb
from dialogs.words import long_date
from storage.actions import actions_in_hand
from storage.attendance.counts import attendance_counts
from storage.attendance.rules import STAGES
from storage.categories import improvement_target_date, school_category
from storage.coaching.coverage import coaching_coverage
from storage.engine import AsyncSession
from storage.models import School
from storage.qa import JUDGEMENTS
from storage.qa_compliance import compliance
from storage.visit_prep import last_note_of_visit


class PrepVerb(StrEnum):
    # The school chosen, when the adviser has several.
    start = "prep.start"


def register(registry: Registry) -> None:
    registry.command(
        "prep_visit",
        title="Prep a visit",
        summary="Before a visit: category, actions, QA, coaching, attendance counts, last note",
        phrases=("prep visit", "visit prep", "prep pack", "prepare a visit"),
        private=True,
        example="prep visit oakfield",
        roles=ADVISERS,
    )(prep_visit)
    registry.verb(PrepVerb.start, private=True, roles=ADVISERS)(prep_chosen)


async def prep_visit(turn: Turn) -> Reply:
    found = await pick_school(
        turn, query=turn.args, verb=PrepVerb.start, asking="the prep pack", roles=ADVISERS
    )
    if isinstance(found, Reply):
        return found
    return await _pack(turn, found)


async def prep_chosen(turn: Turn) -> Reply:
    school = await school_named(
        turn,
        what="that school's visits",
        action="prep.visit",
        missing="Choose a school, or type prep visit and its name.",
    )
    if isinstance(school, Reply):
        return school
    return await _pack(turn, school)


async def _pack(turn: Turn, school: School) -> Reply:
    if not turn.actor.has_role_at(school.id, ADVISERS):
        return await refuse(
            turn, school=school, what=f"{school.name}'s visits", action="prep.visit"
        )
    async with turn.sessions() as session:
        sections = [
            await _category(session, turn, school),
            await _actions(session, turn, school),
            await _qa(session, turn, school),
            await _coaching(session, turn, school),
            await _attendance(session, turn, school),
            await _last_note(session, turn, school),
        ]
    card = render_card(
        "prep_visit",
        verbs=VisitVerb,
        title=f"Prep pack: {school.name}",
        subtitle=f"As it stands on {long_date(turn.today)}",
        sections=sections,
        school_id=school.id,
    )
    return Reply(card=card)


def _section(heading: str, facts: list[tuple[str, str]], empty: str) -> dict[str, Any]:
    return {"heading": heading, "facts": facts, "empty": empty}


async def _category(session: AsyncSession, turn: Turn, school: School) -> dict[str, Any]:
    standing = await school_category(session, trust_id=turn.actor.trust_id, school_id=school.id)
    if standing is None:
        return _section("Category", [], "No category recorded yet.")
    current, category = standing.current, standing.category
    facts = [("Category", f"{current.category_name}, since {long_date(current.decided_on)}")]
    if category is not None and category.improvement_target:
        target = improvement_target_date(category.improvement_target, current.decided_on)
        facts.append(("Improvement target", category.improvement_target))
        facts.append(("Target date", long_date(target) if target else "None stated"))
    return _section("Category", facts, "")


async def _actions(session: AsyncSession, turn: Turn, school: School) -> dict[str, Any]:
    listed = await actions_in_hand(
        session,
        trust_id=turn.actor.trust_id,
        school_ids=[school.id],
        today=turn.today,
        limit=MAX_SHOWN,
    )
    facts = []
    for row in listed.rows:
        rating = f"last rated {row.rag}" if row.rag else "not rated yet"
        if row.awaiting_rating:
            state = "done, awaiting your rating"
        elif row.overdue and row.due_on is not None:
            state = f"overdue since {long_date(row.due_on)}"
        else:
            state = "open"
        facts.append((row.description, f"{state}; {rating}"))
    if listed.total > len(listed.rows):
        facts.append(("…", f"and {listed.total - len(listed.rows)} more"))
    return _section("Actions in hand", facts, "No open actions.")


async def _qa(session: AsyncSession, turn: Turn, school: School) -> dict[str, Any]:
    reported = await reported_term(session, turn)
    if isinstance(reported, Reply):
        return _section("QA this term", [], "No QA window open or closed yet this year.")
    term, _ = reported
    [status] = await compliance(
        session, trust_id=turn.actor.trust_id, term=term, school_ids=[school.id]
    )
    facts = [
        (subject, JUDGEMENTS.get(line.judgement, line.judgement))
        for subject, line in sorted(status.submitted.items())
    ]
    facts += [(subject, "not yet submitted") for subject in status.missing]
    return _section(f"QA: {term.title}", facts, "No subject leads are set up for this school.")


async def _coaching(session: AsyncSession, turn: Turn, school: School) -> dict[str, Any]:
    [coverage] = await coaching_coverage(
        session, trust_id=turn.actor.trust_id, school_ids=[school.id], today=turn.today
    )
    if not coverage.teachers:
        return _section("Coaching", [], "No teachers listed for this school.")
    facts = [
        ("Teachers coached, 6 weeks", f"{coverage.share_6_weeks}% of {coverage.teachers}"),
        ("Sessions held, 6 weeks", str(coverage.held_6_weeks)),
    ]
    if coverage.strands:
        top = sorted(coverage.strands.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        facts.append(("Focus strands", ", ".join(name for name, _ in top)))
    return _section("Coaching", facts, "")


async def _attendance(session: AsyncSession, turn: Turn, school: School) -> dict[str, Any]:
    counts = await attendance_counts(session, trust_id=turn.actor.trust_id, school_ids=[school.id])
    facts = [("Open concerns", str(counts.total))]
    facts += [
        (STAGES[stage], str(n)) for stage, n in counts.by_stage.items() if n and stage in STAGES
    ]
    return _section("Attendance concerns (counts only)", facts, "")


async def _last_note(session: AsyncSession, turn: Turn, school: School) -> dict[str, Any]:
    note = await last_note_of_visit(session, trust_id=turn.actor.trust_id, school_id=school.id)
    if note is None:
        return _section("Last note of visit", [], "No note of visit yet.")
    facts = [("Visit", f"{note.number} on {long_date(note.visited_on)}: {note.focus}")]
    facts += [
        (step, f"{status}{f', rated {rag}' if rag else ''}") for step, status, rag in note.steps
    ]
    return _section("Last note of visit", facts, "")
