"""`concerns [school]`: the open list for those who follow a school's concerns, the
counts for everyone else (and for the digests)."""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.render import render_card
from dialogs.attendance.verbs import AttendanceVerb
from dialogs.attendance.words import day, review
from dialogs.school_scope import pick_school, school_id_of, school_in_trust
from dialogs.turn import Reply, Turn
from storage import schools as school_store
from storage.attendance import SUBJECT
from storage.attendance.counts import AttendanceCounts, attendance_counts
from storage.attendance.policy import followed_schools, may_follow
from storage.attendance.queries import ConcernLine, open_concerns
from storage.attendance.rules import CONCERN_TYPES, STAGES, VULNERABLE_GROUPS, YEAR_GROUPS
from storage.audit import record_event, record_refusal
from storage.directory import schools_of
from storage.models import STAFF_ROLES, School

# A list card stays well under Teams' size limit; the rest wait their turn.
LIST_LIMIT = 30


async def list_concerns(turn: Turn) -> Reply:
    """`concerns [school]`: the list for those who follow concerns, counts for everyone else."""
    actor = turn.actor
    if turn.args:
        picked = await pick_school(
            turn, query=turn.args, verb=AttendanceVerb.list, asking="attendance concerns"
        )
        if isinstance(picked, Reply):
            return picked
        return await _for_school(turn, picked)
    followed = followed_schools(actor)
    if followed is None or followed:
        return await _list(turn, followed, title=_list_title(turn, followed))
    async with turn.sessions() as session:
        # Counts are for a school's staff: a governor's school is not one of theirs.
        reach = await schools_of(session, actor, roles=STAFF_ROLES)
    if not reach:
        return Reply(text="Waypoint doesn't link you to a school yet; your trust admin can.")
    scope = None if actor.trust_wide else [s.id for s in reach]
    name = actor.trust_name if actor.trust_wide or len(reach) > 1 else reach[0].name
    return await _counts(turn, scope, name=name)


async def list_school(turn: Turn) -> Reply:
    school = await school_in_trust(turn, school_id_of(turn.data))
    if school is None:
        async with turn.sessions.begin() as session:
            await record_refusal(session, turn.actor, "attendance.list")
        return Reply(text="You don't have access to that school's attendance concerns.")
    return await _for_school(turn, school)


async def _for_school(turn: Turn, school: School) -> Reply:
    actor = turn.actor
    if may_follow(actor, school.id):
        return await _list(turn, [school.id], title=f"Open attendance concerns: {school.name}")
    if actor.has_role_at(school.id, STAFF_ROLES):
        return await _counts(turn, [school.id], name=school.name)
    async with turn.sessions.begin() as session:
        await record_refusal(
            session,
            actor,
            "attendance.list",
            school_id=school.id,
        )
    return Reply(text=f"You don't have access to attendance concerns at {school.name}.")


def _list_title(turn: Turn, followed: frozenset[int] | None) -> str:
    if followed is None or len(followed) > 1:
        return f"Open attendance concerns: {turn.actor.trust_name}"
    return "Open attendance concerns"


async def _list(turn: Turn, school_ids: frozenset[int] | list[int] | None, *, title: str) -> Reply:
    today = turn.today
    async with turn.sessions.begin() as session:
        lines, total = await open_concerns(
            session, trust_id=turn.actor.trust_id, school_ids=school_ids, limit=LIST_LIMIT
        )
        if school_ids is not None and len(school_ids) == 1:
            school = await school_store.school_in_trust(
                session, trust_id=turn.actor.trust_id, school_id=next(iter(school_ids))
            )
            if school is not None:
                title = f"Open attendance concerns: {school.name}"
        for line in lines:
            # Seeing a pupil reference in a list is a view of that concern.
            await record_event(
                session,
                trust_id=turn.actor.trust_id,
                person_id=turn.actor.person_id,
                action="attendance.list",
                outcome="ok",
                school_id=line.school_id,
                subject_type=SUBJECT,
                subject_id=line.id,
            )
    if total == 0:
        summary = "No open concerns."
    elif total > len(lines):
        summary = f"The {len(lines)} most overdue of {total} open concerns."
    else:
        summary = f"{total} open, the most overdue review first."
    many_schools = school_ids is None or len(school_ids) > 1
    card = render_card(
        "attendance_list",
        verbs=AttendanceVerb,
        title=title,
        summary=summary,
        rows=[_row(turn, line, today, many_schools) for line in lines],
    )
    return Reply(card=card)


def _row(turn: Turn, line: ConcernLine, today: date, many_schools: bool) -> dict[str, Any]:
    when, overdue = review(line.next_review_on, today)
    place = f"{line.school_name} · " if many_schools else ""
    raised = day(turn.local(line.raised_at).date())
    return {
        "id": line.id,
        "heading": f"{line.pupil_ref} · {YEAR_GROUPS.get(line.year_group, line.year_group)}",
        "detail": f"{place}{STAGES.get(line.stage, line.stage)} · raised {raised}",
        "review": when,
        "overdue": overdue,
    }


async def _counts(turn: Turn, school_ids: list[int] | None, *, name: str) -> Reply:
    async with turn.sessions() as session:
        counts = await attendance_counts(
            session, trust_id=turn.actor.trust_id, school_ids=school_ids
        )
    return Reply(card=counts_card(counts, name=name))


def counts_card(counts: AttendanceCounts, *, name: str) -> dict[str, Any]:
    """Counts only, for anyone and for the digests."""
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    if len(counts.by_school) > 1:
        sections.append(("By school", [(s.school_name, str(s.open)) for s in counts.by_school]))
    sections.append(
        ("By stage", [(STAGES[k], str(v)) for k, v in counts.by_stage.items() if k in STAGES])
    )
    sections.append(
        (
            "By concern",
            [(CONCERN_TYPES[k], str(v)) for k, v in counts.by_type.items() if k in CONCERN_TYPES],
        )
    )
    sections.append(
        (
            "By vulnerable group",
            [
                (VULNERABLE_GROUPS[k], _group_count(v))
                for k, v in counts.by_vulnerable.items()
                if k in VULNERABLE_GROUPS
            ],
        )
    )
    return render_card(
        "attendance_counts",
        title=f"Attendance concerns: {name}",
        intro="Open concerns, counted. Pupil details are for the school's attendance "
        "leads and head.",
        totals=[
            ("Open concerns", str(counts.total)),
            ("Persistent absence", str(counts.persistent)),
            ("Severe absence", str(counts.severe)),
            ("Consider a penalty notice", str(counts.penalty_notice)),
        ],
        sections=sections,
    )


# Counts by vulnerable group go to people who may not see the pupils (the school's
# attendance staff and head get the list instead): below this, a count can point to
# a pupil everyone knows is in the group.
SMALL_GROUP = 5


def _group_count(count: int) -> str:
    """The count, or "fewer than 5" for 0 to 4: zero too, or a 1 beside a 0 would
    still say which group's only pupil has a concern."""
    return f"fewer than {SMALL_GROUP}" if count < SMALL_GROUP else str(count)
