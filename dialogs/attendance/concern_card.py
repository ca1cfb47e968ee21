"""One concern with its chronology: for those who follow the school's concerns only."""

from __future__ import annotations

from cards.render import render_card
from dialogs.attendance.verbs import AttendanceVerb
from dialogs.attendance.words import day, groups, percent, review, status
from dialogs.forms import record_id
from dialogs.turn import Reply, Turn
from storage.attendance import OPEN, SUBJECT
from storage.attendance.concerns import record_view
from storage.attendance.policy import may_follow
from storage.attendance.queries import ChronologyEntry, chronology, concern_in_trust
from storage.attendance.rules import CONCERN_TYPES, OUTCOMES, STAGES, YEAR_GROUPS
from storage.audit import record_refusal
from storage.directory import person_name
from storage.engine import AsyncSession
from storage.models import AttendanceConcern
from storage.schools import school_in_trust

NO_ACCESS = (
    "You don't have access to that attendance concern: concerns are seen only by "
    "the school's attendance leads and head."
)


async def followable(session: AsyncSession, turn: Turn, action: str) -> AttendanceConcern | Reply:
    """The concern the card names, if this person may see it; else a refusal, audited."""
    concern_id = record_id(turn.data.get("concern_id"))
    row = (
        await concern_in_trust(session, trust_id=turn.actor.trust_id, concern_id=concern_id)
        if concern_id is not None
        else None
    )
    if row is not None and may_follow(turn.actor, row.school_id):
        return row
    await record_refusal(
        session,
        turn.actor,
        action,
        school_id=row.school_id if row else None,
        subject_type=SUBJECT if row else None,
        subject_id=row.id if row else None,
    )
    return Reply(text=NO_ACCESS)


async def open_concern(turn: Turn) -> Reply:
    async with turn.sessions.begin() as session:
        found = await followable(session, turn, "attendance.view")
        if isinstance(found, Reply):
            return found
        await record_view(session, actor=turn.actor, concern=found, action="attendance.view")
        return await concern_card(session, turn, found, title="Attendance concern")


async def concern_card(
    session: AsyncSession,
    turn: Turn,
    row: AttendanceConcern,
    *,
    title: str,
    subtitle: str | None = None,
    note: str | None = None,
    good: bool = False,
    with_chronology: bool = True,
) -> Reply:
    school = await school_in_trust(session, trust_id=row.trust_id, school_id=row.school_id)
    assert school is not None
    raiser = await person_name(session, row.raised_by)
    entries = await chronology(session, concern_id=row.id) if with_chronology else []
    facts = [
        ("Pupil", row.pupil_ref),
        ("School", school.name),
        ("Year group", YEAR_GROUPS.get(row.year_group, row.year_group)),
        ("Attendance this year", percent(row.attendance_percent)),
        (
            "Unauthorised sessions",
            f"{row.unauthorised_sessions_10_weeks} in the last 10 school weeks",
        ),
        ("Concern", CONCERN_TYPES.get(row.concern_type, row.concern_type)),
        ("Vulnerable groups", groups(row.vulnerable)),
        ("Stage", STAGES.get(row.stage, row.stage)),
        ("Status", status(row, turn.zone)),
    ]
    raised_day = turn.local(row.raised_at).date()
    if row.status == OPEN:
        when = review(row.next_review_on, turn.today)[0]
        if row.next_review_on == raised_day == turn.today:
            # Nobody chose this date: a new concern is due for review the day it is
            # raised (storage/attendance/concerns.py raise_concern).
            when = "Today: a new concern is looked at the day it is raised"
        facts.append(("Next review", when))
    raised_on = day(raised_day)
    facts.append(("Raised", f"{raised_on} by {raiser or 'a former member of staff'}"))
    card = render_card(
        "attendance_concern",
        verbs=AttendanceVerb,
        title=title,
        subtitle=subtitle,
        note=note,
        good=good,
        concern={"facts": facts, "flags": _flags(row), "done_so_far": row.done_so_far},
        entries=[_entry(turn, e, row) for e in entries],
        can_follow=may_follow(turn.actor, row.school_id),
        is_open=row.status == OPEN,
        concern_id=row.id,
    )
    return Reply(card=card)


def _flags(row: AttendanceConcern) -> list[tuple[str, str]]:
    return [
        (
            "Persistent absence",
            "Yes: attendance is 90% or below (missing 10% or more of sessions)"
            if row.persistent_absence
            else "No: attendance is above 90%",
        ),
        (
            "Severe absence",
            "Yes: attendance is 50% or below (missing half or more of sessions)"
            if row.severe_absence
            else "No: attendance is above 50%",
        ),
        (
            "Penalty notice",
            "Consider a penalty notice under the national framework "
            "(10 or more unauthorised sessions in 10 school weeks)"
            if row.consider_penalty_notice
            else "Not indicated (fewer than 10 unauthorised sessions in 10 school weeks)",
        ),
    ]


def _entry(turn: Turn, entry: ChronologyEntry, row: AttendanceConcern) -> dict[str, str]:
    who = entry.by or "Waypoint"
    stage = STAGES.get(entry.stage or "", entry.stage or "")
    if entry.kind == "raised":
        what = f"Raised at stage {stage}"
    elif entry.kind == "stage":
        what = f"Stage moved to {stage}"
    elif entry.kind == "action":
        what = f"Action on {day(entry.on_date)}" if entry.on_date else "Action"
    elif entry.kind == "review":
        what = (
            f"Next review set for {day(entry.on_date)}" if entry.on_date else "Review date cleared"
        )
    elif entry.kind == "closed":
        what = f"Closed: {OUTCOMES.get(row.outcome or '', 'no outcome given')}"
    elif entry.kind == "anonymised":
        what = "Anonymised at the end of the trust's retention period"
    else:
        what = entry.kind
    when = turn.local(entry.at)
    return {"heading": f"{day(when.date())} {when:%H:%M} · {who} · {what}", "text": entry.text}
