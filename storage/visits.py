"""Notes of visit: what a school improvement adviser found, and the actions it leaves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import Rag, rate_action
from storage.forms import store_once
from storage.models import ActionEvent, Person, PersonRole, SchoolAction, Visit

# Without a next visit date, a next step is due this long after the visit.
DEFAULT_DUE_AFTER = timedelta(weeks=6)


class VisitNumberTaken(ValueError):
    def __init__(self, number: int) -> None:
        self.number = number
        super().__init__(f"visit {number} is recorded for this school already")


@dataclass(frozen=True)
class VisitRecorded:
    visit: Visit
    # False when this form had been stored already (a double click, a redelivery).
    created: bool
    actions: list[SchoolAction] = field(default_factory=list)
    # Ids of the earlier actions rated at this visit.
    rated: list[int] = field(default_factory=list)


def default_due_on(visited_on: date, next_visit_on: date | None) -> date:
    return next_visit_on or visited_on + DEFAULT_DUE_AFTER


async def next_visit_number(session: AsyncSession, *, school_id: int) -> int:
    highest = await session.scalar(
        select(func.max(Visit.number)).where(Visit.school_id == school_id)
    )
    return int(highest or 0) + 1


async def school_staff(session: AsyncSession, *, school_id: int) -> list[Person]:
    """People who hold a role at the school, by name: who may own its actions."""
    rows = await session.scalars(
        select(Person)
        .where(Person.id.in_(select(PersonRole.person_id).where(PersonRole.school_id == school_id)))
        .order_by(Person.display_name, Person.id)
    )
    return list(rows)


async def actions_to_rate(session: AsyncSession, *, school_id: int) -> list[SchoolAction]:
    """The school's open actions, oldest first: what a visit looks at again."""
    rows = await session.scalars(
        select(SchoolAction)
        .where(SchoolAction.school_id == school_id, SchoolAction.status == "open")
        .order_by(SchoolAction.created_at, SchoolAction.id)
    )
    return list(rows)


async def record_visit(
    session: AsyncSession,
    *,
    trust_id: int,
    school_id: int,
    adviser_id: int,
    number: int,
    visited_on: date,
    focus: str,
    strengths: str,
    risks: str,
    next_visit_on: date | None,
    next_steps: Sequence[str],
    owner_id: int | None,
    due_on: date | None,
    ratings: Mapping[int, Rag],
    form_id: str,
    at: datetime,
) -> VisitRecorded:
    """Store a note of visit once per form: each next step becomes an open action,
    and each rating of an earlier open action of the same school is kept with its
    history. Ratings of any other action are ignored.

    Raises VisitNumberTaken when the school already has a visit with this number,
    FormTaken when the form id is stored for another school or adviser.
    """
    try:
        # A savepoint: losing the visit number to another note keeps the caller's
        # transaction usable, to draw the form again with the number by its field.
        async with session.begin_nested():
            stored = await store_once(
                session,
                Visit,
                {
                    "trust_id": trust_id,
                    "school_id": school_id,
                    "adviser_id": adviser_id,
                    "number": number,
                    "visited_on": visited_on,
                    "focus": focus,
                    "strengths": strengths,
                    "risks": risks,
                    "next_visit_on": next_visit_on,
                    "form_id": form_id,
                    "recorded_at": at,
                },
                same=("school_id", "adviser_id"),
            )
    except IntegrityError:
        raise VisitNumberTaken(number) from None
    visit = stored.row
    if not stored.created:
        return VisitRecorded(visit, created=False)
    # Ratings first: the actions this visit creates are not for rating yet.
    rated = [
        action_id
        for action_id, rag in ratings.items()
        if await rate_action(
            session,
            action_id=action_id,
            school_id=school_id,
            rag=rag,
            by_person_id=adviser_id,
            at=at,
            visit_id=visit.id,
        )
    ]
    due = due_on or default_due_on(visited_on, next_visit_on)
    actions = [
        SchoolAction(
            trust_id=trust_id,
            school_id=school_id,
            visit_id=visit.id,
            description=step,
            owner_id=owner_id,
            due_on=due,
            status="open",
            created_at=at,
            updated_at=at,
        )
        for step in next_steps
    ]
    session.add_all(actions)
    await session.flush()
    return VisitRecorded(visit, created=True, actions=actions, rated=rated)


async def visit_outcome(session: AsyncSession, *, visit_id: int) -> tuple[int, int]:
    """(actions the visit created, earlier actions it rated): its confirmation, also
    for a form sent twice."""
    created = await session.scalar(
        select(func.count()).select_from(SchoolAction).where(SchoolAction.visit_id == visit_id)
    )
    rated = await session.scalar(
        select(func.count())
        .select_from(ActionEvent)
        .where(ActionEvent.visit_id == visit_id, ActionEvent.kind == "rag")
    )
    return int(created or 0), int(rated or 0)
