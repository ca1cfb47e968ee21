"""The dashboard's numbers for a seeded trust, one test per chart: what a trust lead
sees for three schools, each figure counted as the commands and digests count it."""

from __future__ import annotations

from datetime import date

import pytest

from storage.dashboard import (
    CategoryMove,
    Dashboard,
    QAJudgement,
    RagCount,
    SchoolActions,
    SchoolCategory,
    SchoolCoverage,
    SchoolQA,
    SchoolVisits,
    StageCount,
    WeekCount,
    dashboard_data,
    dashboard_scope,
)
from storage.directory import actor_for, trust_by_id
from storage.engine import Sessions
from tests.dashboard_seed import TODAY, Trust3, seed_dashboard_trust
from tests.support import TRUST_LEAD

pytestmark = pytest.mark.storage


async def dashboard_for(
    sessions: Sessions,
    trust: Trust3,
    aad: str = TRUST_LEAD,
    today: date = TODAY,
    *,
    school_id: int | None = None,
    hub: str | None = None,
    phase: str | None = None,
) -> Dashboard:
    async with sessions() as session:
        found = await trust_by_id(session, trust.seeded.trust_id)
        assert found is not None
        actor = await actor_for(session, trust=found, aad_object_id=aad)
        assert actor is not None
        scope = dashboard_scope(actor, school_id=school_id, hub=hub, phase=phase)
        return await dashboard_data(session, scope=scope, today=today)


@pytest.fixture
async def trust(sessions: Sessions) -> Trust3:
    return await seed_dashboard_trust(sessions)


async def test_the_trust_lead_sees_every_school_by_name_with_the_filters(
    sessions: Sessions, trust: Trust3
) -> None:
    dashboard = await dashboard_for(sessions, trust)
    assert dashboard.trust_name == "Test Trust"
    assert dashboard.term_name == "Autumn term 2026-27"
    assert [s.name for s in dashboard.schools] == [
        "Hill Secondary",
        "Oakfield Primary",
        "St Mary's C of E",
    ]
    assert dashboard.hubs == ("North", "South")
    assert dashboard.phases == ("primary", "secondary")


async def test_categories_now_and_their_movements_over_three_years(
    sessions: Sessions, trust: Trust3
) -> None:
    panel = (await dashboard_for(sessions, trust)).categories
    assert panel is not None
    assert panel.order == ("Excellence", "Refinement", "Reinforcement", "Recovery", "Repair")
    assert panel.now == (
        SchoolCategory(trust.hill, None, None),
        SchoolCategory(trust.oakfield, "Reinforcement", date(2026, 7, 1)),
        SchoolCategory(trust.st_marys, "Excellence", date(2026, 7, 9)),
    )
    # Repair in January 2023 is older than three years; the July 2026 confirmation of
    # Reinforcement is no movement.
    assert panel.movements == (
        CategoryMove(trust.oakfield, date(2024, 3, 1), "Repair", "Recovery"),
        CategoryMove(trust.oakfield, date(2025, 7, 1), "Recovery", "Reinforcement"),
        CategoryMove(trust.st_marys, date(2026, 7, 9), None, "Excellence"),
    )


async def test_coaching_coverage_by_school_against_the_target_and_its_weekly_trend(
    sessions: Sessions, trust: Trust3
) -> None:
    panel = (await dashboard_for(sessions, trust)).coaching
    assert panel is not None
    assert panel.target_percent == 75
    assert panel.by_school == (
        SchoolCoverage(trust.hill, 0, 1, 0),
        # Tom coached; Tia's session was cancelled.
        SchoolCoverage(trust.oakfield, 1, 2, 50),
        # Sam's session on 1 October is older than six weeks.
        SchoolCoverage(trust.st_marys, 0, 1, 0),
    )
    assert panel.weeks[0] == date(2026, 8, 31) and panel.weeks[-1] == date(2026, 12, 7)
    assert len(panel.weeks) == 15 and [t.week for t in panel.trend] == list(panel.weeks)
    # One teacher of four coached: Sam from the week of 28 September until the window
    # ending 8 November passes 1 October; Tom in the week of 7 December.
    covered = {t.week: t.percent for t in panel.trend if t.percent}
    assert covered == {
        date(2026, 9, 28): 25,
        date(2026, 10, 5): 25,
        date(2026, 10, 12): 25,
        date(2026, 10, 19): 25,
        date(2026, 10, 26): 25,
        date(2026, 11, 2): 25,
        date(2026, 12, 7): 25,
    }


async def test_qa_submitted_against_expected_and_the_subject_by_school_grid(
    sessions: Sessions, trust: Trust3
) -> None:
    panel = (await dashboard_for(sessions, trust)).qa
    assert panel is not None
    assert panel.term_name == "Autumn term 2026-27"
    assert panel.by_school == (
        SchoolQA(trust.hill, 0, 0),
        SchoolQA(trust.oakfield, 1, 2),
        SchoolQA(trust.st_marys, 1, 1),
    )
    assert panel.subjects == ("English", "History", "Maths")
    assert panel.grid == (
        QAJudgement("English", trust.oakfield, None),
        QAJudgement("History", trust.st_marys, "green"),
        # Resubmitted: the latest version's judgement.
        QAJudgement("Maths", trust.oakfield, "amber"),
    )


async def test_actions_open_overdue_awaiting_rating_and_ratings_by_month(
    sessions: Sessions, trust: Trust3
) -> None:
    panel = (await dashboard_for(sessions, trust)).actions
    assert panel is not None
    assert panel.by_school == (
        SchoolActions(trust.hill, 0, 0, 0),
        SchoolActions(trust.oakfield, open=3, overdue=2, awaiting_rating=1),
        SchoolActions(trust.st_marys, open=1, overdue=0, awaiting_rating=0),
    )
    months = [r.month for r in panel.rag_over_time]
    assert months == [date(2026, m, 1) for m in range(1, 13)]
    given = [r for r in panel.rag_over_time if r.red or r.amber or r.green]
    assert given == [
        RagCount(date(2026, 10, 1), red=0, amber=1, green=0),
        RagCount(date(2026, 11, 1), red=1, amber=0, green=0),
        RagCount(date(2026, 12, 1), red=0, amber=0, green=1),
    ]


async def test_attendance_concerns_by_school_and_stage_and_new_severe_by_week(
    sessions: Sessions, trust: Trust3
) -> None:
    panel = (await dashboard_for(sessions, trust)).attendance
    assert panel is not None
    assert panel.stages == ("expect", "monitor", "listen", "facilitate", "formalise", "enforce")
    assert len(panel.by_school) == 3 * 6
    assert [c for c in panel.by_school if c.count] == [
        StageCount(trust.hill, "enforce", 1),
        StageCount(trust.oakfield, "monitor", 2),
        StageCount(trust.oakfield, "listen", 1),
        StageCount(trust.st_marys, "expect", 1),
    ]
    assert len(panel.severe_by_week) == 15
    # Hill's was raised last term; the persistent one (88%) is not severe.
    assert [w for w in panel.severe_by_week if w.count] == [
        WeekCount(date(2026, 9, 14), 1),
        WeekCount(date(2026, 12, 7), 2),
    ]


async def test_visits_this_academic_year_against_entitlement(
    sessions: Sessions, trust: Trust3
) -> None:
    panel = (await dashboard_for(sessions, trust)).visits
    assert panel is not None
    # Hill's June visit was last academic year; a secondary is entitled to 4, others 6.
    assert panel.by_school == (
        SchoolVisits(trust.hill, 0, 4),
        SchoolVisits(trust.oakfield, 2, 6),
        SchoolVisits(trust.st_marys, 1, 6),
    )


async def test_early_in_a_term_qa_shows_the_round_of_the_term_just_ended(
    sessions: Sessions, trust: Trust3
) -> None:
    # 6 January 2027: the spring term has begun; the autumn window closes on 8 January.
    dashboard = await dashboard_for(sessions, trust, today=date(2027, 1, 6))
    assert dashboard.term_name == "Spring term 2026-27"
    assert dashboard.qa is not None and dashboard.qa.term_name == "Autumn term 2026-27"
    assert dashboard.qa.by_school[1] == SchoolQA(trust.oakfield, 1, 2)
    assert dashboard.coaching is not None and dashboard.coaching.weeks == (date(2027, 1, 4),)
