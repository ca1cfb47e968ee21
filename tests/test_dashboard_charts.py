"""The charts show names as typed: plotly.js reads labels and hover text as its own
small HTML, so a school named like a link must not become one."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from bot.dashboard.view import sections
from storage.engine import Sessions
from storage.models import School
from tests.dashboard_seed import seed_dashboard_trust
from tests.test_dashboard_data import dashboard_for

pytestmark = pytest.mark.storage

LINK_NAME = '<a href="https://evil.example">Oak</a>'


async def test_a_school_named_like_a_link_is_text_in_every_chart(sessions: Sessions) -> None:
    trust = await seed_dashboard_trust(sessions)
    async with sessions.begin() as session:
        await session.execute(
            update(School).where(School.id == trust.oakfield).values(name=LINK_NAME)
        )
    dashboard = await dashboard_for(sessions, trust)
    charts = [chart for section in sections(dashboard, str) for chart in section.charts]
    figures = {chart.id: json.dumps(json.loads(str(chart.figure))) for chart in charts}
    # The name reaches the charts (escaped), and nowhere as markup.
    named = [key for key, figure in figures.items() if "&lt;a href=" in figure]
    assert len(named) >= 5, named
    assert not [key for key, figure in figures.items() if "<a" in figure]
    # The tables beside them hold the name as typed (the template escapes it).
    cells = [cell.text for chart in charts for row in chart.table.rows for cell in row]
    assert LINK_NAME in cells
