"""Who sees what on the dashboard: each person's schools and panels, the hub and
phase filters, no pupil or coaching content in its data, and the same number of SQL
statements however many schools the trust has."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.synthetic import generate_trust
from bench.synthetic_shape import TrustShape
from storage.dashboard import (
    DashboardScope,
    OutOfScope,
    Panel,
    dashboard_data,
    dashboard_scope,
)
from storage.directory import actor_for, trust_by_id
from storage.engine import Sessions
from storage.models import PersonRole
from tests.dashboard_seed import (
    ADVISER,
    GOVERNOR,
    PUPIL,
    SECRET,
    TODAY,
    Trust3,
    seed_dashboard_trust,
)
from tests.support import HEAD, OTHER_TENANT, TEACHER, TRUST_LEAD, add_person, seed_trust
from tests.test_dashboard_data import dashboard_for

pytestmark = pytest.mark.storage

NO_SCHOOL = "dddddddd-0000-4000-8000-000000000001"


@pytest.fixture
async def trust(sessions: Sessions) -> Trust3:
    return await seed_dashboard_trust(sessions)


def _names(dashboard: Any) -> list[str]:
    return [school.name for school in dashboard.schools]


async def test_a_head_reaches_their_school_and_no_other(sessions: Sessions, trust: Trust3) -> None:
    dashboard = await dashboard_for(sessions, trust, HEAD)
    assert _names(dashboard) == ["Oakfield Primary"]
    assert dashboard.coaching is not None and dashboard.attendance is not None
    assert dashboard.qa is not None
    with pytest.raises(OutOfScope):
        await dashboard_for(sessions, trust, HEAD, school_id=trust.st_marys)
    # Their own school, asked for by id, is fine.
    assert _names(await dashboard_for(sessions, trust, HEAD, school_id=trust.oakfield)) == [
        "Oakfield Primary"
    ]


async def test_a_governor_reads_categories_actions_and_visits_only(
    sessions: Sessions, trust: Trust3
) -> None:
    dashboard = await dashboard_for(sessions, trust, GOVERNOR)
    assert _names(dashboard) == ["Oakfield Primary"]
    assert dashboard.coaching is None
    assert dashboard.attendance is None
    assert dashboard.qa is None
    assert dashboard.categories is not None and dashboard.categories.now[0].category == (
        "Reinforcement"
    )
    assert dashboard.actions is not None and dashboard.actions.by_school[0].open == 3
    assert dashboard.visits is not None and dashboard.visits.by_school[0].done == 2


async def test_an_adviser_sees_only_their_schools_and_their_filter_choices(
    sessions: Sessions, trust: Trust3
) -> None:
    dashboard = await dashboard_for(sessions, trust, ADVISER)
    assert _names(dashboard) == ["Hill Secondary", "St Mary's C of E"]
    assert dashboard.hubs == ("North", "South")
    assert dashboard.attendance is not None
    assert {c.school_id for c in dashboard.attendance.by_school} == {trust.hill, trust.st_marys}
    with pytest.raises(OutOfScope):
        await dashboard_for(sessions, trust, ADVISER, school_id=trust.oakfield)
    # A teacher at Oakfield has Oakfield's hub and phase to choose from, no more.
    teacher = await dashboard_for(sessions, trust, TEACHER)
    assert (teacher.hubs, teacher.phases) == (("North",), ("primary",))


async def test_hub_and_phase_filters_narrow_the_schools_and_every_panel(
    sessions: Sessions, trust: Trust3
) -> None:
    north = await dashboard_for(sessions, trust, hub="North")
    assert _names(north) == ["Hill Secondary", "Oakfield Primary"]
    # The choices stay those of the person's reach.
    assert north.hubs == ("North", "South")
    assert north.visits is not None
    assert [v.school_id for v in north.visits.by_school] == [trust.hill, trust.oakfield]
    primary = await dashboard_for(sessions, trust, phase="primary")
    assert _names(primary) == ["Oakfield Primary", "St Mary's C of E"]
    both = await dashboard_for(sessions, trust, hub="North", phase="primary")
    assert _names(both) == ["Oakfield Primary"]
    assert both.coaching is not None
    assert [c.school_id for c in both.coaching.by_school] == [trust.oakfield]
    # Oakfield's two staff, one coached, from the week of 7 December.
    assert both.coaching.trend[-1].percent == 50


async def test_a_school_of_another_trust_is_out_of_scope(sessions: Sessions, trust: Trust3) -> None:
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    foreign = other.school_ids["100001"]
    async with sessions() as session:
        found = await trust_by_id(session, trust.seeded.trust_id)
        assert found is not None
        lead = await actor_for(session, trust=found, aad_object_id=TRUST_LEAD)
        assert lead is not None
        with pytest.raises(OutOfScope):
            await dashboard_data(
                session, scope=dashboard_scope(lead, school_id=foreign), today=TODAY
            )


async def test_a_trust_attendance_lead_follows_every_schools_concerns_and_nothing_else(
    sessions: Sessions, trust: Trust3
) -> None:
    """An attendance lead for the whole trust holds no role at a school and is no trust
    lead: as in chat, they follow every school's concerns, and see nothing else."""
    async with sessions.begin() as session:
        await add_person(session, trust.seeded.trust_id, NO_SCHOOL, "Ned Lead", ["attendance_lead"])
    dashboard = await dashboard_for(sessions, trust, NO_SCHOOL)
    every = await dashboard_for(sessions, trust, TRUST_LEAD)
    assert len(every.schools) == 3 and _names(dashboard) == _names(every)
    assert dashboard.attendance is not None
    assert every.attendance is not None
    assert dashboard.attendance.by_school == every.attendance.by_school
    assert dashboard.attendance.by_school  # the seeded concerns are counted
    assert (dashboard.categories, dashboard.coaching, dashboard.qa) == (None, None, None)
    assert (dashboard.actions, dashboard.visits) == (None, None)


async def test_a_teacher_reads_only_the_panels_chat_gives_a_teacher(
    sessions: Sessions, trust: Trust3
) -> None:
    """As in chat: a teacher reads categories and counts of concerns, not coaching
    coverage, QA status, actions or notes of visit."""
    dashboard = await dashboard_for(sessions, trust, TEACHER)
    assert _names(dashboard) == ["Oakfield Primary"]
    assert dashboard.categories is not None and dashboard.attendance is not None
    assert (dashboard.coaching, dashboard.qa) == (None, None)
    assert (dashboard.actions, dashboard.visits) == (None, None)


async def test_a_trust_attendance_lead_who_governs_a_school_gets_no_coaching_or_qa_there(
    sessions: Sessions, trust: Trust3
) -> None:
    """Their trust role opens the attendance panel and nothing else; at the school they
    govern, a governor's panels. Coaching and QA stay closed."""
    async with sessions.begin() as session:
        person = await add_person(
            session, trust.seeded.trust_id, NO_SCHOOL, "Gil Lead", ["attendance_lead"]
        )
        session.add(PersonRole(person_id=person, role="governor", school_id=trust.oakfield))
    dashboard = await dashboard_for(sessions, trust, NO_SCHOOL)
    assert _names(dashboard) == ["Oakfield Primary"]
    assert dashboard.attendance is not None and dashboard.attendance.by_school
    assert dashboard.categories is not None
    assert dashboard.actions is not None and dashboard.visits is not None
    assert (dashboard.coaching, dashboard.qa) == (None, None)


async def test_no_pupil_reference_note_or_action_step_reaches_the_data(
    sessions: Sessions, trust: Trust3
) -> None:
    dashboard = await dashboard_for(sessions, trust)
    shown = repr(dataclasses.asdict(dashboard))
    # Every panel has something in it, so the check below looks at real data.
    assert all(getattr(dashboard, panel.value) is not None for panel in Panel)
    for secret in (SECRET, PUPIL, "Y7", "Tom Teacher", "Lara Lead", "Ava Adviser"):
        assert secret not in shown


async def _statements(engine: AsyncEngine, sessions: Sessions, scope: DashboardScope) -> int:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessions() as session:
            dashboard = await dashboard_data(session, scope=scope, today=TODAY)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert dashboard.schools and all(getattr(dashboard, p.value) is not None for p in Panel)
    return len(seen)


async def test_the_dashboard_takes_the_same_statements_at_10_and_40_schools(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    counts = []
    for schools in (10, 40):
        shape = TrustShape(schools=schools, coaching_sessions=20, concerns=5, actions=5)
        synthetic = await generate_trust(
            sessions, shape=shape, today=TODAY, tenant_id=f"synthetic-{schools}"
        )
        scope = DashboardScope(synthetic.trust_id, None, frozenset(Panel))
        counts.append(await _statements(engine, sessions, scope))
    assert counts[0] == counts[1]
    # Twenty-odd grouped statements, not one per school.
    assert counts[1] < 30, counts
