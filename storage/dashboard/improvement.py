"""The school-improvement panels: categories now and their movements, actions, and
visits against entitlement. Each is a fixed number of grouped statements over every
school in scope; none reads a rationale, an action's description or a note."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import Rag, Status
from storage.categories import add_months, current_categorisations, framework_categories
from storage.dashboard.model import (
    ActionPanel,
    CategoryMove,
    CategoryPanel,
    RagCount,
    SchoolActions,
    SchoolCategory,
    SchoolRef,
    SchoolVisits,
    VisitPanel,
)
from storage.dashboard.scope import of_schools
from storage.models import ActionEvent, SchoolAction, SchoolCategorisation
from storage.visit_programme import default_entitlement, entitlements
from storage.visits import visit_year, visits_done_by_school

MOVEMENT_YEARS = 3
RAG_MONTHS = 12


async def category_panel(
    session: AsyncSession,
    *,
    trust_id: int,
    schools: list[SchoolRef],
    ids: list[int] | None,
    today: date,
) -> CategoryPanel:
    """Each school's category now, and every change of category over the last three
    years (a school's first categorisation is a change from none): three statements."""
    order = tuple(c.name for c in await framework_categories(session, trust_id=trust_id))
    current = await current_categorisations(session, trust_id=trust_id)
    now = tuple(
        SchoolCategory(school.id, decision.category_name, decision.decided_on)
        if (decision := current.get(school.id)) is not None
        else SchoolCategory(school.id, None, None)
        for school in schools
    )
    # The category each decision replaced, by the same order as "current" (newest
    # last): the window runs over the whole history, the date limit after it.
    before = (
        func.lag(SchoolCategorisation.category_name)
        .over(
            partition_by=SchoolCategorisation.school_id,
            order_by=(SchoolCategorisation.decided_on, SchoolCategorisation.id),
        )
        .label("before")
    )
    history = (
        select(
            SchoolCategorisation.school_id,
            SchoolCategorisation.decided_on,
            SchoolCategorisation.id,
            before,
            SchoolCategorisation.category_name,
        )
        .where(
            SchoolCategorisation.trust_id == trust_id,
            of_schools(SchoolCategorisation.school_id, ids),
        )
        .subquery()
    )
    since = add_months(today, -12 * MOVEMENT_YEARS)
    rows = await session.execute(
        select(history.c.school_id, history.c.decided_on, history.c.before, history.c.category_name)
        .where(history.c.decided_on > since, history.c.decided_on <= today)
        .order_by(history.c.decided_on, history.c.id)
    )
    movements = tuple(
        CategoryMove(school_id, on, from_category, to_category)
        for school_id, on, from_category, to_category in rows
        # A decision that kept the category (a review confirming it) is no movement.
        if from_category != to_category
    )
    return CategoryPanel(order=order, now=now, movements=movements)


async def action_panel(
    session: AsyncSession,
    *,
    trust_id: int,
    schools: list[SchoolRef],
    ids: list[int] | None,
    today: date,
    zone: ZoneInfo,
) -> ActionPanel:
    """Open, overdue (open and past due, as storage/actions.py) and done-awaiting-rating
    actions by school, and the ratings given by month: two statements."""
    is_open = SchoolAction.status == Status.open.value
    counts = await session.execute(
        select(
            SchoolAction.school_id,
            func.count().filter(is_open),
            func.count().filter(is_open, SchoolAction.due_on < today),
            func.count().filter(SchoolAction.status == Status.done.value),
        )
        .where(SchoolAction.trust_id == trust_id, of_schools(SchoolAction.school_id, ids))
        .group_by(SchoolAction.school_id)
    )
    by_id = {
        school_id: SchoolActions(school_id, int(open_), int(overdue), int(awaiting))
        for school_id, open_, overdue, awaiting in counts
    }
    by_school = tuple(by_id.get(school.id, SchoolActions(school.id, 0, 0, 0)) for school in schools)

    # A rating counts in the month of the trust's day it was given on (its time zone),
    # so the rows are read and bucketed here: one statement whatever the schools.
    months = [add_months(today.replace(day=1), -back) for back in range(RAG_MONTHS - 1, -1, -1)]
    ratings = await session.execute(
        select(ActionEvent.at, ActionEvent.value)
        .join(SchoolAction, SchoolAction.id == ActionEvent.action_id)
        .where(
            SchoolAction.trust_id == trust_id,
            of_schools(SchoolAction.school_id, ids),
            ActionEvent.kind == "rag",
            ActionEvent.at >= datetime.combine(months[0], time.min, tzinfo=zone),
        )
    )
    given: dict[tuple[date, str], int] = {}
    for at, rag in ratings:
        key = (at.astimezone(zone).date().replace(day=1), rag)
        given[key] = given.get(key, 0) + 1
    rag_over_time = tuple(
        RagCount(
            month=first,
            red=given.get((first, Rag.red.value), 0),
            amber=given.get((first, Rag.amber.value), 0),
            green=given.get((first, Rag.green.value), 0),
        )
        for first in months
    )
    return ActionPanel(by_school=by_school, rag_over_time=rag_over_time)


async def visit_panel(
    session: AsyncSession,
    *,
    trust_id: int,
    schools: list[SchoolRef],
    ids: list[int] | None,
    today: date,
) -> VisitPanel:
    """Notes of visit this academic year against each school's entitlement (its
    phase's), as the digests count them: two statements."""
    loaded = await entitlements(session, trust_id=trust_id)
    done = await visits_done_by_school(
        session,
        trust_id=trust_id,
        # Visits are few: the storage function's list of schools costs nothing here.
        school_ids=[school.id for school in schools],
        academic_year=visit_year(today),
    )
    return VisitPanel(
        by_school=tuple(
            SchoolVisits(
                school.id,
                done.get(school.id, 0),
                loaded.get(school.phase, default_entitlement(school.phase)),
            )
            for school in schools
        )
    )
