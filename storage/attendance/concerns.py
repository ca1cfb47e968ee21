"""Raising a concern and following it through, each card stored once
(storage/forms.py); every change is audited by id, never by pupil reference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from storage.attendance import CLOSED, OPEN, SUBJECT
from storage.attendance.rules import absence_flags
from storage.audit import record_event
from storage.directory import Actor
from storage.forms import FormTaken, store_once, stored_by_form
from storage.models import AttendanceConcern, ConcernChange, ConcernEvent
from storage.outbox import withdraw_waiting
from storage.waiting import ATTENDANCE_NOTICE, attendance_notice_key


@dataclass(frozen=True)
class ConcernDetails:
    school_id: int
    pupil_ref: str
    year_group: str
    attendance_percent: Decimal
    unauthorised_sessions: int
    concern_type: str
    vulnerable: list[str]
    done_so_far: str
    stage: str


async def raise_concern(
    session: AsyncSession,
    *,
    trust_id: int,
    raised_by: int,
    form_id: str,
    details: ConcernDetails,
    raised_at: datetime,
    today: date,
) -> tuple[AttendanceConcern, bool]:
    """Store a concern once per form: (the concern, whether it was new).

    A new concern is due for review the day it is raised: the attendance lead
    should look at it at once.
    """
    flags = absence_flags(details.attendance_percent, details.unauthorised_sessions)
    stored = await store_once(
        session,
        AttendanceConcern,
        {
            "trust_id": trust_id,
            "school_id": details.school_id,
            "pupil_ref": details.pupil_ref,
            "year_group": details.year_group,
            "attendance_percent": details.attendance_percent,
            "unauthorised_sessions_10_weeks": details.unauthorised_sessions,
            "concern_type": details.concern_type,
            "vulnerable": list(details.vulnerable),
            "done_so_far": details.done_so_far,
            "stage": details.stage,
            "persistent_absence": flags.persistent,
            "severe_absence": flags.severe,
            "consider_penalty_notice": flags.penalty_notice,
            "status": OPEN,
            "next_review_on": today,
            "raised_by": raised_by,
            "form_id": form_id,
            "raised_at": raised_at,
            "updated_at": raised_at,
        },
        same=("raised_by",),
    )
    row = stored.row
    if not stored.created:
        return row, False
    session.add(
        ConcernEvent(
            concern_id=row.id, at=raised_at, by_person_id=raised_by, kind="raised", stage=row.stage
        )
    )
    await audit(session, row, person_id=raised_by, action="attendance.raise")
    return row, True


async def record_view(
    session: AsyncSession, *, actor: Actor, concern: AttendanceConcern, action: str
) -> None:
    await audit(session, concern, person_id=actor.person_id, action=action)


@dataclass(frozen=True)
class ConcernUpdate:
    stage: str
    action_on: date | None
    action: str
    next_review_on: date | None


async def applied_change(
    session: AsyncSession, *, trust_id: int, form_id: str
) -> ConcernChange | None:
    """The change an update or close card made, if it was applied before."""
    return await stored_by_form(session, ConcernChange, trust_id=trust_id, form_id=form_id)


class ChangeTaken(Exception):
    """The card's form id was applied to another concern, or as another kind of
    change: only a tampered or mixed-up card does that. Nothing changes."""


async def _claim_change(
    session: AsyncSession, row: AttendanceConcern, *, by: int, form_id: str, kind: str, at: datetime
) -> bool:
    """Record that this card is applied (storage/forms.py); False when it was before."""
    try:
        stored = await store_once(
            session,
            ConcernChange,
            {
                "trust_id": row.trust_id,
                "concern_id": row.id,
                "kind": kind,
                "by_person_id": by,
                "form_id": form_id,
                "at": at,
            },
            same=("concern_id", "kind"),
        )
    except FormTaken:
        raise ChangeTaken() from None
    return stored.created


async def update_concern(
    session: AsyncSession,
    *,
    row: AttendanceConcern,
    by: int,
    form_id: str,
    change: ConcernUpdate,
    at: datetime,
) -> bool:
    """Apply an update card once: a chronology entry for each thing that changed.

    False when this card was applied before; ChangeTaken when its form id belongs
    to another concern's card.
    """
    if not await _claim_change(session, row, by=by, form_id=form_id, kind="update", at=at):
        return False
    events: list[ConcernEvent] = []
    if change.stage != row.stage:
        events.append(event(row, by, at, form_id, "stage", stage=change.stage))
        row.stage = change.stage
    if change.action:
        events.append(
            event(row, by, at, form_id, "action", on=change.action_on, text=change.action)
        )
    if change.next_review_on != row.next_review_on:
        events.append(event(row, by, at, form_id, "review", on=change.next_review_on))
        row.next_review_on = change.next_review_on
    await _apply(session, row, by, at, events, action="attendance.update")
    return True


async def close_concern(
    session: AsyncSession,
    *,
    row: AttendanceConcern,
    by: int,
    form_id: str,
    outcome: str,
    note: str,
    at: datetime,
) -> bool:
    """Close with an outcome, once per card; False when this card was applied before."""
    if not await _claim_change(session, row, by=by, form_id=form_id, kind="close", at=at):
        return False
    row.status = CLOSED
    row.outcome = outcome
    row.closed_at = at
    row.next_review_on = None
    closed = event(row, by, at, form_id, "closed", text=note)
    await _apply(session, row, by, at, [closed], action="attendance.close")
    # A notice still waiting for a lead who has not installed Waypoint is moot now.
    await withdraw_waiting(
        session,
        trust_id=row.trust_id,
        kind=ATTENDANCE_NOTICE,
        period=attendance_notice_key(row.id),
        reason="concern closed",
    )
    return True


def event(
    row: AttendanceConcern,
    by: int | None,
    at: datetime,
    form_id: str | None,
    kind: str,
    *,
    stage: str | None = None,
    on: date | None = None,
    text: str = "",
) -> ConcernEvent:
    return ConcernEvent(
        concern_id=row.id,
        at=at,
        by_person_id=by,
        kind=kind,
        stage=stage or row.stage,
        on_date=on,
        text=text,
        form_id=form_id,
    )


async def _apply(
    session: AsyncSession,
    row: AttendanceConcern,
    by: int,
    at: datetime,
    events: list[ConcernEvent],
    *,
    action: str,
) -> None:
    row.updated_at = at
    session.add_all(events)
    await audit(session, row, person_id=by, action=action)


async def audit(
    session: AsyncSession, row: AttendanceConcern, *, person_id: int | None, action: str
) -> None:
    await record_event(
        session,
        trust_id=row.trust_id,
        person_id=person_id,
        action=action,
        outcome="ok",
        school_id=row.school_id,
        subject_type=SUBJECT,
        subject_id=row.id,
    )
