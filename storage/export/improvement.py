"""The export's school-improvement facts: categorisations, visits, actions and their
RAG and status history.

No free text leaves in these tables: not a categorisation's rationale or attendees,
not a note of visit's focus, strengths or risks, not an action's description or a
progress note. The note of visit is shared with heads and governors in Teams, but
free text typed into a form can name anyone (a pupil included), and a file loaded
into Power BI is read far beyond the people Teams shows it to. The facts are what a
report counts: who, where, when, which category, which rating.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.export.schema import Batches, Calendar, Row, Table, streamed
from storage.models import ActionEvent, SchoolAction, SchoolCategorisation, Visit

# The kinds of action event exported; "note" (a progress note's text) never is.
EXPORTED_ACTION_EVENTS = ("rag", "status")


async def _categorisations(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(
            SchoolCategorisation.id,
            SchoolCategorisation.school_id,
            SchoolCategorisation.category_id,
            SchoolCategorisation.category_name,
            SchoolCategorisation.decided_on,
            SchoolCategorisation.recorded_by,
        )
        .where(SchoolCategorisation.trust_id == calendar.trust_id)
        .order_by(SchoolCategorisation.decided_on, SchoolCategorisation.id)
    )
    async for batch in streamed(session, query):
        yield [
            (row_id, school, category, name, day, calendar.term_key(day), by)
            for row_id, school, category, name, day, by in batch
        ]


async def _visits(session: AsyncSession, calendar: Calendar) -> Batches:
    # Counted per visit in the same statement: the actions it set and the ratings
    # the adviser gave at it.
    actions_set = (
        select(func.count(SchoolAction.id)).where(SchoolAction.visit_id == Visit.id)
    ).scalar_subquery()
    ratings_given = (
        select(func.count(ActionEvent.id)).where(
            ActionEvent.visit_id == Visit.id, ActionEvent.kind == "rag"
        )
    ).scalar_subquery()
    query = (
        select(
            Visit.id,
            Visit.school_id,
            Visit.adviser_id,
            Visit.visited_on,
            Visit.number,
            Visit.academic_year,
            actions_set,
            ratings_given,
            Visit.next_visit_on,
        )
        .where(Visit.trust_id == calendar.trust_id)
        .order_by(Visit.visited_on, Visit.id)
    )
    async for batch in streamed(session, query):
        yield [
            (row_id, school, adviser, day, number, year, calendar.term_key(day), *rest)
            for row_id, school, adviser, day, number, year, *rest in batch
        ]


async def _actions(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(
            SchoolAction.id,
            SchoolAction.school_id,
            SchoolAction.visit_id,
            SchoolAction.owner_id,
            SchoolAction.created_at,
            SchoolAction.due_on,
            SchoolAction.status,
            SchoolAction.rag,
        )
        .where(SchoolAction.trust_id == calendar.trust_id)
        .order_by(SchoolAction.id)
    )
    async for batch in streamed(session, query):
        yield [
            (row_id, school, visit, owner, calendar.day_of(created), due, status, rag)
            for row_id, school, visit, owner, created, due, status, rag in batch
        ]


async def _action_events(session: AsyncSession, calendar: Calendar) -> Batches:
    query = (
        select(
            ActionEvent.id,
            ActionEvent.action_id,
            SchoolAction.school_id,
            ActionEvent.at,
            ActionEvent.by_person_id,
            ActionEvent.kind,
            ActionEvent.value,
            ActionEvent.visit_id,
        )
        .join(SchoolAction, SchoolAction.id == ActionEvent.action_id)
        .where(
            SchoolAction.trust_id == calendar.trust_id,
            ActionEvent.kind.in_(EXPORTED_ACTION_EVENTS),
        )
        .order_by(ActionEvent.at, ActionEvent.id)
    )
    async for batch in streamed(session, query):
        rows: list[Row] = []
        for row_id, action, school, at, by, kind, value, visit in batch:
            day = calendar.day_of(at)
            rows.append(
                (row_id, action, school, day, calendar.term_key(day), by, kind, value, visit)
            )
        yield rows


IMPROVEMENT_FACTS = (
    Table(
        "fact_categorisations",
        (
            "categorisation_id",
            "school_id",
            "category_id",
            "category",
            "decided_on",
            "term_key",
            "recorded_by_id",
        ),
        _categorisations,
    ),
    Table(
        "fact_visits",
        (
            "visit_id",
            "school_id",
            "adviser_id",
            "visited_on",
            "visit_number",
            "academic_year",
            "term_key",
            "actions_set",
            "ratings_given",
            "next_visit_on",
        ),
        _visits,
    ),
    Table(
        "fact_actions",
        (
            "action_id",
            "school_id",
            "visit_id",
            "owner_id",
            "created_on",
            "due_on",
            "status",
            "rag",
        ),
        _actions,
    ),
    Table(
        "fact_action_events",
        (
            "action_event_id",
            "action_id",
            "school_id",
            "happened_on",
            "term_key",
            "by_person_id",
            "kind",
            "value",
            "visit_id",
        ),
        _action_events,
    ),
)
