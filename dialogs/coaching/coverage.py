"""`coaching coverage [school]`: the share of teachers coached; counts, never content."""

from __future__ import annotations

from typing import Any

from cards.render import render_card
from dialogs.coaching.access import COVERAGE_READERS, refused
from dialogs.turn import Reply, Turn
from dialogs.words import counted
from storage.coaching.coachees import coaching_settings_of
from storage.coaching.coverage import Coverage, coaching_coverage, trust_total
from storage.schools import SchoolFound, SchoolNotFound, find_school


async def coverage(turn: Turn) -> Reply:
    actor = turn.actor
    # A read: on SQLite it takes no write lock. Only a refusal writes (its audit row).
    refused_at: SchoolFound | None = None
    async with turn.sessions() as session:
        if turn.args:
            match = await find_school(session, trust_id=actor.trust_id, query=turn.args)
            if isinstance(match, SchoolNotFound):
                return Reply(text=f"I couldn't find a school called “{turn.args}” in your trust.")
            if not isinstance(match, SchoolFound):
                names = ", ".join(s.name for s in match.schools)
                return Reply(text=f"Which school did you mean: {names}? Type its full name.")
            school = match.school
            if not actor.has_role_at(school.id, COVERAGE_READERS):
                refused_at = match
            school_ids: list[int] | None = [school.id]
        else:
            # Each head sees the schools they head; a trust lead, every school.
            read = actor.schools_where(COVERAGE_READERS)
            school_ids = None if read is None else sorted(read)
        if refused_at is None:
            schools = await coaching_coverage(
                session, trust_id=actor.trust_id, school_ids=school_ids, today=turn.today
            )
            settings = coaching_settings_of(actor)
    if refused_at is not None:
        school = refused_at.school
        async with turn.sessions.begin() as session:
            await refused(session, turn, "coaching.coverage", None, school_id=school.id)
        return Reply(text=f"You don't have access to coaching coverage for {school.name}.")
    total = trust_total(schools, actor.trust_name) if len(schools) > 1 else None
    card = render_card(
        "coaching_coverage",
        title=(
            "Coaching coverage — "
            + (schools[0].school_name if len(schools) == 1 else actor.trust_name)
        ),
        target=settings.target_percent,
        rows=[_coverage_row(c) for c in schools],
        total=_coverage_row(total) if total else None,
        strands=sorted((total or schools[0]).strands.items(), key=lambda kv: (-kv[1], kv[0]))
        if schools
        else [],
    )
    return Reply(card=card)


def _coverage_row(c: Coverage) -> dict[str, Any]:
    def percent(value: int | None) -> str:
        return "—" if value is None else f"{value}%"

    return {
        "school": c.school_name,
        "two_weeks": percent(c.share_2_weeks),
        "six_weeks": percent(c.share_6_weeks),
        "detail": _detail(c),
    }


def _detail(c: Coverage) -> str:
    """4 teachers · 1.5 sessions per teacher · 10% cancelled: the rest of a row, in words."""
    if not c.teachers:
        return "No teachers listed"
    parts = [counted(c.teachers, "teacher")]
    if c.sessions_per_teacher is not None:
        parts.append(f"{counted(c.sessions_per_teacher, 'session')} per teacher")
    if c.cancellation_rate is not None:
        parts.append(f"{c.cancellation_rate}% cancelled")
    return " · ".join(parts)
