"""Debian's Chromium opens the dashboard of the demo trust through a signed link, as
a trust lead would from chat: every chart draws a plotly SVG with its data, nothing
is written to the console (a CSP refusal would be), the theme applies, and the page
never scrolls sideways, on a desktop and at Teams' narrowest tab (320 px), light and
dark. The screenshots go to WAYPOINT_DASHBOARD_SCREENSHOTS when set (README's are
made so: `make dashboard-screenshots`)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dashboard.links import dashboard_url, sign_dashboard_link
from storage.demo import load_demo
from storage.engine import Sessions
from storage.models import PersonRole
from tests.official import TOOLS, missing_browser_tools, need
from tests.support import serve

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SCRIPT = TOOLS / "browser" / "dashboard.mjs"
CHARTS = 11
LIGHT, DARK = "rgb(245, 245, 245)", "rgb(31, 31, 31)"
# (screenshot name, width, the system's colour scheme, theme in the address)
VIEWS = (
    ("desktop-light", 1280, False, None),
    ("desktop-dark", 1280, True, None),
    ("narrow-light", 320, False, None),
    ("narrow-dark", 320, False, "dark"),
)


@pytest.mark.parametrize("store", ["sqlite"])
async def test_every_chart_draws_in_chromium_light_and_dark_wide_and_narrow(
    engine: AsyncEngine, sessions: Sessions, tmp_path: Path
) -> None:
    need(missing_browser_tools())
    shots = Path(os.environ.get("WAYPOINT_DASHBOARD_SCREENSHOTS") or tmp_path)
    await asyncio.to_thread(shots.mkdir, parents=True, exist_ok=True)
    async with sessions.begin() as session:
        trust = await load_demo(session, today=NOW.date())
    async with sessions() as session:
        lead = await session.scalar(
            select(PersonRole.person_id).where(PersonRole.role == "trust_lead")
        )
    assert lead is not None
    async with serve(engine, sessions, now=NOW) as served:
        secret = served.waypoint.settings.dashboard_key
        assert secret is not None
        token = sign_dashboard_link(secret, person_id=lead, trust_id=trust.id, now=NOW)
        base = str(served.client.make_url("")).rstrip("/")
        pages = [
            {
                "url": dashboard_url(base, token, theme=theme),
                "width": width,
                "dark": dark,
                "out": str(shots / f"{name}.png"),
            }
            for name, width, dark, theme in VIEWS
        ]
        # The app answers on this loop while Chromium runs.
        process = await asyncio.create_subprocess_exec(
            "node",
            str(SCRIPT),
            json.dumps(pages),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, err.decode()
    results = json.loads(out)
    for (name, _width, dark, theme), result in zip(VIEWS, results, strict=True):
        assert result["status"] == 200, name
        assert result["errors"] == [], name
        charts = result["charts"]
        assert len(charts) == CHARTS, name
        for chart in charts:
            assert chart["svg"] and chart["marks"] > 0 and chart["points"] > 0, (name, chart)
        assert result["background"] == (DARK if dark or theme == "dark" else LIGHT), name
        assert result["overflow"] <= 0, name
        assert (await asyncio.to_thread((shots / f"{name}.png").stat)).st_size > 10_000
