"""The dashboard for a scope: every panel the scope allows, for the schools in it,
in a fixed number of grouped statements (about twenty) however many schools there
are. The rules are the digests' and the commands' own (categories, coverage, QA
compliance, actions, attendance counts, visits), called for all the schools at once.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.academic_calendar import (
    QaOpen,
    Term,
    academic_year_of,
    qa_period_on,
    qa_windows,
    year_label,
)
from storage.dashboard.attendance import attendance_panel
from storage.dashboard.improvement import action_panel, category_panel, visit_panel
from storage.dashboard.model import Dashboard, DashboardScope, Panel, SchoolRef
from storage.dashboard.scope import filtered, reached
from storage.dashboard.teaching import coaching_panel, qa_panel
from storage.directory import trust_zone
from storage.models import School, Trust
from storage.standards import term_of
from storage.terms import qa_settings, terms_around


async def dashboard_data(session: AsyncSession, *, scope: DashboardScope, today: date) -> Dashboard:
    """The scope's dashboard on the trust's day `today`.

    Raises OutOfScope when the scope names a school that is not the trust's.
    """
    trust = await session.get(Trust, scope.trust_id)
    if trust is None:
        raise LookupError(f"no trust {scope.trust_id}")
    every_school = [
        SchoolRef(school_id, name, hub, phase)
        for school_id, name, hub, phase in await session.execute(
            select(School.id, School.name, School.hub, School.phase).where(
                School.trust_id == trust.id
            )
        )
    ]
    within_reach = reached(every_school, scope)
    schools = filtered(within_reach, scope)

    terms = await terms_around(session, trust_id=trust.id, day=today)
    term = term_of(terms, today)
    # The year before today's is among the terms: some term has always begun.
    assert term is not None, f"no term begun by {today}"
    weeks = term_weeks(term, today)

    trust_id = trust.id
    zone = trust_zone(trust)
    # None: every school of the trust is shown, and the queries need not list them.
    ids = None if len(schools) == len(every_school) else [school.id for school in schools]
    panels = scope.panels
    return Dashboard(
        trust_name=trust.name,
        today=today,
        term_name=term.title,
        schools=tuple(schools),
        hubs=tuple(sorted({school.hub for school in within_reach if school.hub})),
        phases=tuple(sorted({school.phase for school in within_reach})),
        categories=await category_panel(
            session, trust_id=trust_id, schools=schools, ids=ids, today=today
        )
        if Panel.categories in panels
        else None,
        coaching=await coaching_panel(
            session,
            trust_id=trust_id,
            schools=schools,
            ids=ids,
            today=today,
            weeks=weeks,
            target_percent=trust.coaching_target_percent,
        )
        if Panel.coaching in panels
        else None,
        qa=await qa_panel(
            session,
            trust_id=trust_id,
            schools=schools,
            ids=ids,
            term=await _qa_term(session, trust.id, terms, term, today),
        )
        if Panel.qa in panels
        else None,
        actions=await action_panel(
            session, trust_id=trust_id, schools=schools, ids=ids, today=today, zone=zone
        )
        if Panel.actions in panels
        else None,
        attendance=await attendance_panel(
            session,
            trust_id=trust_id,
            schools=schools,
            ids=ids,
            today=today,
            weeks=weeks,
            zone=trust_zone(trust),
        )
        if Panel.attendance in panels
        else None,
        visits=await visit_panel(session, trust_id=trust_id, schools=schools, ids=ids, today=today)
        if Panel.visits in panels
        else None,
    )


def term_weeks(term: Term, today: date) -> tuple[date, ...]:
    """The Mondays of the term's weeks, up to today's week (or the term's last)."""
    last = min(today, term.ends)
    monday = term.starts - timedelta(days=term.starts.weekday())
    weeks: list[date] = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return tuple(weeks)


async def _qa_term(
    session: AsyncSession, trust_id: int, terms: list[Term], term: Term, today: date
) -> Term:
    """The QA round the dashboard shows, as the digests choose it: the term whose
    window is open; between windows, this academic year's latest round; else (a new
    year before its first window) the term today is in."""
    settings = await qa_settings(session, trust_id=trust_id)
    period = qa_period_on(qa_windows(terms, settings), today)
    if isinstance(period, QaOpen):
        return period.term
    latest = period.previous
    if latest is not None and latest.term.academic_year == year_label(academic_year_of(today)):
        return latest.term
    return term
