"""Schools' actions: what must happen next, who owns it, by when, how far it has got.

Every RAG rating and status change is also written to `action_event` (who, when).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionEvent, Person, PersonRole, Role, School, SchoolAction


class Rag(enum.StrEnum):
    red = "red"
    amber = "amber"
    green = "green"


class Status(enum.StrEnum):
    open = "open"
    done = "done"
    dropped = "dropped"


@dataclass(frozen=True)
class ActionRow:
    """An action as a list shows it."""

    id: int
    school_id: int
    school_name: str
    description: str
    owner_name: str | None
    due_on: date | None
    rag: str | None
    overdue: bool


@dataclass(frozen=True)
class ActionList:
    rows: list[ActionRow]
    # All that matched, of which `rows` are the first ones.
    total: int


def _listing(trust_id: int) -> Select[SchoolAction, str, str | None]:
    return (
        select(SchoolAction, School.name, Person.display_name)
        .join(School, School.id == SchoolAction.school_id)
        .outerjoin(Person, Person.id == SchoolAction.owner_id)
        .where(SchoolAction.trust_id == trust_id, SchoolAction.status == Status.open.value)
    )


async def _list(
    session: AsyncSession,
    query: Select[SchoolAction, str, str | None],
    *,
    today: date,
    limit: int | None,
) -> ActionList:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    ordered = query.order_by(
        # Overdue first, then by due date (undated last), oldest first.
        case((SchoolAction.due_on < today, 0), else_=1),
        SchoolAction.due_on.is_(None),
        SchoolAction.due_on,
        SchoolAction.id,
    )
    if limit is not None:
        ordered = ordered.limit(limit)
    rows = [
        ActionRow(
            id=action.id,
            school_id=action.school_id,
            school_name=school_name,
            description=action.description,
            owner_name=owner_name,
            due_on=action.due_on,
            rag=action.rag,
            overdue=action.due_on is not None and action.due_on < today,
        )
        for action, school_name, owner_name in (await session.execute(ordered)).all()
    ]
    return ActionList(rows=rows, total=int(total or 0))


async def open_actions(
    session: AsyncSession,
    *,
    trust_id: int,
    school_ids: Collection[int] | None,
    today: date,
    limit: int | None = None,
) -> ActionList:
    """Open actions at these schools (None: every school of the trust), overdue first."""
    query = _listing(trust_id)
    if school_ids is not None:
        query = query.where(SchoolAction.school_id.in_(list(school_ids)))
    return await _list(session, query, today=today, limit=limit)


async def overdue_actions(
    session: AsyncSession,
    *,
    trust_id: int,
    today: date,
    school_ids: Collection[int] | None = None,
    limit: int | None = None,
) -> ActionList:
    """Open actions past their due date, the longest overdue first."""
    query = _listing(trust_id).where(SchoolAction.due_on < today)
    if school_ids is not None:
        query = query.where(SchoolAction.school_id.in_(list(school_ids)))
    return await _list(session, query, today=today, limit=limit)


async def action_in_trust(
    session: AsyncSession, *, trust_id: int, action_id: int
) -> SchoolAction | None:
    return await session.scalar(
        select(SchoolAction).where(SchoolAction.id == action_id, SchoolAction.trust_id == trust_id)
    )


async def mark_action_done(
    session: AsyncSession, *, action_id: int, school_id: int, by_person_id: int, at: datetime
) -> bool:
    """Close an open action; False when it was not open (a second click changes nothing).

    A conditional UPDATE, so two clicks racing each other record one event.
    """
    changed = await session.execute(
        update(SchoolAction)
        .where(
            SchoolAction.id == action_id,
            SchoolAction.school_id == school_id,
            SchoolAction.status == Status.open.value,
        )
        .values(status=Status.done.value, updated_at=at)
        .execution_options(synchronize_session="fetch")
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(
        ActionEvent(
            action_id=action_id,
            at=at,
            by_person_id=by_person_id,
            kind="status",
            value=Status.done.value,
        )
    )
    await session.flush()
    return True


async def rate_action(
    session: AsyncSession,
    *,
    action_id: int,
    school_id: int,
    rag: Rag,
    by_person_id: int,
    at: datetime,
    visit_id: int | None = None,
    only_if_changed: bool = False,
) -> bool:
    """Give an open action of this school a RAG rating; False when there is no such action.

    Each rating is kept, even one that repeats the last: the history shows it was
    looked at again (at this visit). With `only_if_changed` a rating equal to the
    current one is not recorded, decided by the UPDATE itself, so that two clicks
    racing each other record one rating.
    """
    only = (
        [or_(SchoolAction.rag.is_(None), SchoolAction.rag != rag.value)] if only_if_changed else []
    )
    changed = await session.execute(
        update(SchoolAction)
        .where(
            SchoolAction.id == action_id,
            SchoolAction.school_id == school_id,
            SchoolAction.status == Status.open.value,
            *only,
        )
        .values(rag=rag.value, updated_at=at)
        .execution_options(synchronize_session="fetch")
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(
        ActionEvent(
            action_id=action_id,
            at=at,
            by_person_id=by_person_id,
            kind="rag",
            value=rag.value,
            visit_id=visit_id,
        )
    )
    await session.flush()
    return True


async def reschedule_action(
    session: AsyncSession, *, action_id: int, school_id: int, due_on: date, at: datetime
) -> bool:
    changed = await session.execute(
        update(SchoolAction)
        .where(
            SchoolAction.id == action_id,
            SchoolAction.school_id == school_id,
            SchoolAction.status == Status.open.value,
        )
        .values(due_on=due_on, updated_at=at)
        .execution_options(synchronize_session="fetch")
    )
    return bool(changed.rowcount == 1)  # type: ignore[attr-defined]


async def action_history(session: AsyncSession, *, action_id: int) -> list[ActionEvent]:
    """The action's ratings and status changes, oldest first."""
    rows = await session.scalars(
        select(ActionEvent)
        .where(ActionEvent.action_id == action_id)
        .order_by(ActionEvent.at, ActionEvent.id)
    )
    return list(rows)


async def school_heads(session: AsyncSession, *, school_id: int) -> list[Person]:
    """The school's head (or co-heads), by name."""
    rows = await session.scalars(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.school_id == school_id, PersonRole.role == Role.head.value)
        .order_by(Person.display_name, Person.id)
    )
    return list(rows)
