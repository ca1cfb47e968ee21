"""`schools`: the schools a person works with (a trust lead: every one; an adviser:
theirs; staff and governors: their own), each with its category and one line of
counts, and a button to open its category."""

from __future__ import annotations

from cards.render import render_card
from dialogs.category import CategoryVerb
from dialogs.home.jobs import plural
from dialogs.turn import Reply, Turn
from storage.home import SchoolLine, school_lines
from storage.models import STAFF_ROLES, Role


def _line(school: SchoolLine, *, concerns: bool) -> str:
    parts = [school.category or "No category yet"]
    if school.overdue_actions:
        parts.append(f"{plural(school.overdue_actions, 'action')} overdue")
    elif school.open_actions:
        parts.append(f"{plural(school.open_actions, 'open action')}, none overdue")
    else:
        parts.append("no open actions")
    if concerns and school.open_concerns:
        parts.append(plural(school.open_concerns, "open attendance concern"))
    return " · ".join(parts)


async def schools(turn: Turn) -> Reply:
    actor = turn.actor
    # A role held for the whole trust (trust lead, admin, a trust's attendance lead)
    # reaches every school; any other, the schools where it is held.
    reach = actor.schools_where(frozenset(Role))
    async with turn.sessions() as session:
        lines = await school_lines(
            session, trust_id=actor.trust_id, school_ids=reach, today=turn.today
        )
    if not lines:
        return Reply(text="Waypoint doesn't link you to a school yet; your trust admin can.")
    # Governors read nothing about pupils, counts of concerns included.
    concerns = actor.has_any(STAFF_ROLES)
    attention = [s for s in lines if s.overdue_actions]
    title = (
        f"{actor.trust_name}: {plural(len(lines), 'school')}"
        if reach is None
        else ("Your school" if len(lines) == 1 else f"Your {len(lines)} schools")
    )
    intro = (
        f"{plural(len(attention), 'school')} with overdue actions, listed first."
        if attention
        else "No school has overdue actions."
    )
    ordered = attention + [s for s in lines if not s.overdue_actions]
    card = render_card(
        "schools",
        verbs=CategoryVerb,
        title=title,
        intro=intro,
        schools=[
            {"id": s.school_id, "name": s.name, "line": _line(s, concerns=concerns)}
            for s in ordered
        ],
    )
    return Reply(card=card)
