"""What an adviser reads before a visit that no other job keeps: the last note of
visit's next steps and how each stands now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SchoolAction, Visit


@dataclass(frozen=True)
class LastNote:
    number: int
    visited_on: date
    focus: str
    # (next step, its status, its latest RAG rating or None), in the note's order.
    steps: list[tuple[str, str, str | None]]


async def last_note_of_visit(
    session: AsyncSession, *, trust_id: int, school_id: int
) -> LastNote | None:
    """The school's latest note of visit and the actions it left, in one query."""
    latest = (
        select(Visit.id)
        .where(Visit.trust_id == trust_id, Visit.school_id == school_id)
        .order_by(Visit.visited_on.desc(), Visit.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Visit, SchoolAction.description, SchoolAction.status, SchoolAction.rag)
            .outerjoin(SchoolAction, SchoolAction.visit_id == Visit.id)
            .where(Visit.id == latest)
            .order_by(SchoolAction.id)
        )
    ).all()
    if not rows:
        return None
    visit = rows[0][0]
    steps = [(text, status, rag) for _, text, status, rag in rows if text is not None]
    return LastNote(visit.number, visit.visited_on, visit.focus, steps)
