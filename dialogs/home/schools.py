"""`schools`: the schools a person works with (a trust lead: every one; an adviser:
theirs; staff and governors: their own), each with its category and one line of
counts, and a button to open its category."""

from __future__ import annotations

from cards.render import render_card
from dialogs.category import CategoryVerb
from dialogs.home.jobs import plural
from dialogs.turn import Reply, Turn
from storage.attention import Concern
from storage.digests import SchoolPosition, trust_position
from storage.home import SchoolLine, school_lines
from storage.models import STAFF_ROLES, Role


def _line(school: SchoolLine) -> str:
    parts = [school.category or "No category yet"]
    if school.overdue_actions:
        parts.append(f"{plural(school.overdue_actions, 'action')} overdue")
    elif school.open_actions:
        parts.append(f"{plural(school.open_actions, 'open action')}, none overdue")
    else:
        parts.append("no open actions")
    return " · ".join(parts)


def _attention_line(school: SchoolPosition) -> str:
    """Staff see the digest's reasons, so "which schools need attention" answers as the
    trust digest does."""
    named = any(reason.concern is Concern.category for reason in school.attention)
    parts = [*([] if named else [school.category or "No category yet"]), *school.reasons]
    if not school.needs_attention:
        parts.append(
            f"{plural(school.open_actions, 'open action')}, none overdue"
            if school.open_actions
            else "no open actions"
        )
    return " · ".join(parts)


async def schools(turn: Turn) -> Reply:
    actor = turn.actor
    # A role held for the whole trust (trust lead, admin, a trust's attendance lead)
    # reaches every school; any other, the schools where it is held.
    reach = actor.schools_where(frozenset(Role))
    # Governors read nothing about pupils, counts of concerns included: they get the
    # plain counts; staff get the digest's attention reasons.
    staff = actor.has_any(STAFF_ROLES)
    async with turn.sessions() as session:
        if staff:
            position = await trust_position(
                session,
                trust_id=actor.trust_id,
                today=turn.today,
                school_ids=None if reach is None else sorted(reach),
            )
            ranked = position.attention_first()
        else:
            lines = await school_lines(
                session, trust_id=actor.trust_id, school_ids=reach, today=turn.today
            )
    rows = (
        [(s.school_id, s.name, _attention_line(s), s.needs_attention) for s in ranked]
        if staff
        else [(s.school_id, s.name, _line(s), bool(s.overdue_actions)) for s in lines]
    )
    if not rows:
        return Reply(text="Waypoint doesn't link you to a school yet; your trust admin can.")
    attention = sum(1 for *_, flagged in rows if flagged)
    title = (
        f"{actor.trust_name}: {plural(len(rows), 'school')}"
        if reach is None
        else ("Your school" if len(rows) == 1 else f"Your {len(rows)} schools")
    )
    if staff:
        intro = (
            f"{plural(attention, 'school')} {'needs' if attention == 1 else 'need'} attention, "
            "listed first with the trust digest's reasons."
            if attention
            else "No school needs attention."
        )
    else:
        intro = "Overdue actions listed." if attention else "No overdue actions."
    if not staff:
        rows.sort(key=lambda row: not row[3])
    card = render_card(
        "schools",
        verbs=CategoryVerb,
        title=title,
        intro=intro,
        schools=[{"id": sid, "name": name, "line": line} for sid, name, line, _ in rows],
    )
    return Reply(card=card)
