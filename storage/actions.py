"""Schools' actions: what must happen next, who owns it, by when, how far it has got.

An action is open until the school marks it done; it then waits for the
adviser's RAG rating at the next visit (seed 002: "The actions will be rag-rated
according to how they have been actioned on the next visit") and is closed once
rated. Only advisers and trust leads rate (the dialogs check who). Every rating,
status change and progress note is also written to `action_event` (who, when).
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
    # Done, says the school: awaiting the adviser's rating.
    done = "done"
    # Rated after it was done: off every list.
    closed = "closed"
    dropped = "dropped"


# What a school still has in hand: its open actions and those awaiting a rating.
IN_HAND = (Status.open.value, Status.done.value)


@dataclass(frozen=True)
class Rating:
    rag: str
    at: datetime
    by: str | None


@dataclass(frozen=True)
class ProgressNote:
    text: str
    at: datetime
    by: str | None


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
    # Marked done by the school, waiting for the adviser's rating.
    awaiting_rating: bool = False
    # Every rating, oldest first, and the latest progress note.
    ratings: tuple[Rating, ...] = ()
    latest_note: ProgressNote | None = None


@dataclass(frozen=True)
class ActionList:
    rows: list[ActionRow]
    # All that matched, of which `rows` are the first ones.
    total: int


def _listing(
    trust_id: int, statuses: Collection[str] = (Status.open.value,)
) -> Select[SchoolAction, str, str | None]:
    return (
        select(SchoolAction, School.name, Person.display_name)
        .join(School, School.id == SchoolAction.school_id)
        .outerjoin(Person, Person.id == SchoolAction.owner_id)
        .where(SchoolAction.trust_id == trust_id, SchoolAction.status.in_(list(statuses)))
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
        # Still open before awaiting a rating; overdue first, then by due date
        # (undated last), oldest first.
        case((SchoolAction.status == Status.open.value, 0), else_=1),
        case((SchoolAction.due_on < today, 0), else_=1),
        SchoolAction.due_on.is_(None),
        SchoolAction.due_on,
        SchoolAction.id,
    )
    if limit is not None:
        ordered = ordered.limit(limit)
    listed = (await session.execute(ordered)).all()
    ratings, notes = await _histories(session, [action.id for action, _, _ in listed])
    rows = [
        ActionRow(
            id=action.id,
            school_id=action.school_id,
            school_name=school_name,
            description=action.description,
            owner_name=owner_name,
            due_on=action.due_on,
            rag=action.rag,
            overdue=action.status == Status.open.value
            and action.due_on is not None
            and action.due_on < today,
            awaiting_rating=action.status == Status.done.value,
            ratings=tuple(ratings.get(action.id, ())),
            latest_note=notes.get(action.id),
        )
        for action, school_name, owner_name in listed
    ]
    return ActionList(rows=rows, total=int(total or 0))


async def _histories(
    session: AsyncSession, action_ids: list[int]
) -> tuple[dict[int, list[Rating]], dict[int, ProgressNote]]:
    """Each listed action's ratings and latest progress note, in one query for the list."""
    ratings: dict[int, list[Rating]] = {}
    notes: dict[int, ProgressNote] = {}
    if not action_ids:
        return ratings, notes
    events = await session.execute(
        select(ActionEvent, Person.display_name)
        .outerjoin(Person, Person.id == ActionEvent.by_person_id)
        .where(ActionEvent.action_id.in_(action_ids), ActionEvent.kind.in_(("rag", "note")))
        .order_by(ActionEvent.at, ActionEvent.id)
    )
    for event, name in events:
        if event.kind == "rag":
            ratings.setdefault(event.action_id, []).append(Rating(event.value, event.at, name))
        else:
            notes[event.action_id] = ProgressNote(event.note, event.at, name)
    return ratings, notes


async def actions_in_hand(
    session: AsyncSession,
    *,
    trust_id: int,
    school_ids: Collection[int] | None,
    today: date,
    limit: int | None = None,
) -> ActionList:
    """Open actions at these schools (None: every school of the trust), overdue first,
    then those done and awaiting the adviser's rating."""
    query = _listing(trust_id, IN_HAND)
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
    session: AsyncSession,
    *,
    action_id: int,
    school_id: int,
    by_person_id: int,
    at: datetime,
) -> bool:
    """Mark an open action done, awaiting the adviser's rating; False when it was not
    open (a second click changes nothing).

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


async def add_progress_note(
    session: AsyncSession,
    *,
    action_id: int,
    school_id: int,
    by_person_id: int,
    at: datetime,
    note: str,
) -> bool:
    """A note of how far an action in hand has got; False when there is no such action,
    or when this person's latest note on it says the same (a card sent twice)."""
    found = await session.scalar(
        select(SchoolAction.id).where(
            SchoolAction.id == action_id,
            SchoolAction.school_id == school_id,
            SchoolAction.status.in_(IN_HAND),
        )
    )
    if found is None:
        return False
    latest = await session.execute(
        select(ActionEvent.by_person_id, ActionEvent.note)
        .where(ActionEvent.action_id == action_id, ActionEvent.kind == "note")
        .order_by(ActionEvent.at.desc(), ActionEvent.id.desc())
        .limit(1)
    )
    if latest.first() == (by_person_id, note):
        return False
    session.add(
        ActionEvent(
            action_id=action_id,
            at=at,
            by_person_id=by_person_id,
            kind="note",
            value="note",
            note=note,
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
    """Give an action of this school in hand a RAG rating; False when there is no such
    action. Rating an action the school marked done closes it.

    Each rating is kept, even one that repeats the last: the history shows it was
    looked at again (at this visit). With `only_if_changed` a rating equal to the
    current one is not recorded, decided by the UPDATE itself, so that two clicks
    racing each other record one rating.
    """
    only = (
        [or_(SchoolAction.rag.is_(None), SchoolAction.rag != rag.value)] if only_if_changed else []
    )
    closing = case(
        (SchoolAction.status == Status.done.value, Status.closed.value),
        else_=SchoolAction.status,
    )
    changed = await session.execute(
        update(SchoolAction)
        .where(
            SchoolAction.id == action_id,
            SchoolAction.school_id == school_id,
            SchoolAction.status.in_(IN_HAND),
            *only,
        )
        .values(rag=rag.value, status=closing, updated_at=at)
        .returning(SchoolAction.status)
        .execution_options(synchronize_session="fetch")
    )
    status = changed.scalar()
    if status is None:
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
    if status == Status.closed.value:
        session.add(
            ActionEvent(
                action_id=action_id,
                at=at,
                by_person_id=by_person_id,
                kind="status",
                value=Status.closed.value,
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
