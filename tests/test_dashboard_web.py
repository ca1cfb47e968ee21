"""The dashboard page and its data over HTTP: who may open it (a signed link, their
roles and schools), what its tables say, the headers that keep it private and let
only Teams frame it, the chat command and digest button that open it, and that no
pupil or coaching note ever reaches it."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from html import unescape
from io import BytesIO
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dashboard.links import sign_dashboard_link
from bot.settings import Settings, StartupRefused
from storage.demo import load_demo
from storage.engine import Sessions
from storage.frameworks import install_framework, load_preset
from storage.models import (
    AttendanceConcern,
    Category,
    CoachingSession,
    Person,
    PersonRole,
    School,
    SchoolAction,
    SchoolCategorisation,
)
from tests.dashboard_pages import path_of, read_page, rows_by_first_cell
from tests.support import (
    HEAD,
    TRUST_LEAD,
    Served,
    add_person,
    cards_in,
    find,
    seed_trust,
    serve,
)

pytestmark = pytest.mark.storage

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
GOVERNOR = "aaaaaaaa-0000-4000-8000-000000000011"
ADMIN = "aaaaaaaa-0000-4000-8000-000000000012"
OTHER_TENANT = "bbbbbbbb-0000-4000-8000-000000000000"


async def _trust(sessions: Sessions) -> Any:
    """Oakfield (North Hub; Recovery; two open actions, one overdue) and St Mary's (no
    hub; Refinement; one open action), with a head and a governor at Oakfield and a
    trust lead."""
    seeded = await seed_trust(sessions)
    trust_id = seeded.trust_id
    oakfield, st_marys = seeded.school_ids["100001"], seeded.school_ids["100002"]
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=load_preset("five-categories"))
        await session.flush()
        for school_id, name in ((oakfield, "Recovery"), (st_marys, "Refinement")):
            category = await session.scalar(select(Category).where(Category.name == name))
            assert category is not None
            session.add(
                SchoolCategorisation(
                    trust_id=trust_id,
                    school_id=school_id,
                    category_id=category.id,
                    category_name=name,
                    decided_on=date(2026, 7, 9),
                    recorded_at=datetime(2026, 7, 9, 12, tzinfo=UTC),
                )
            )
        for school_id, due_on in (
            (oakfield, date(2026, 11, 1)),
            (oakfield, date(2027, 2, 1)),
            (st_marys, date(2027, 3, 1)),
        ):
            session.add(
                SchoolAction(
                    trust_id=trust_id, school_id=school_id, description="Plan", due_on=due_on
                )
            )
        oakfield_school = await session.get(School, oakfield)
        assert oakfield_school is not None
        oakfield_school.hub = "North Hub"
        seeded.person_ids[GOVERNOR] = await add_person(
            session, trust_id, GOVERNOR, "Gill Governor", ["governor"], [oakfield]
        )
    return seeded


def _link(served: Served, user: str, *, now: datetime = NOW, trust_id: int | None = None) -> str:
    secret = served.waypoint.settings.dashboard_key
    assert secret is not None
    return sign_dashboard_link(
        secret, person_id=served.people[user], trust_id=trust_id or served.trust_id, now=now
    )


async def _get(served: Served, path: str, **query: Any) -> tuple[int, str, Any]:
    """Status, the body as read (HTML entities resolved), headers."""
    response = await served.client.get(path, params={k: str(v) for k, v in query.items()})
    return response.status, unescape(await response.text()), response.headers


async def test_without_a_valid_link_the_page_and_its_data_answer_401(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    async with serve(engine, sessions, seeded, now=NOW) as served:
        good = _link(served, TRUST_LEAD)
        tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
        # Another person's id in the payload, with the first person's signature.
        signature = good.split(".")[1]
        forged = _link(served, HEAD).split(".")[0] + "." + signature
        other_secret = sign_dashboard_link(
            b"another-waypoint-secret-0123456789abcdef",
            person_id=served.people[TRUST_LEAD],
            trust_id=served.trust_id,
            now=NOW,
        )
        for query in (
            {},
            {"link": ""},
            {"link": tampered},
            {"link": forged},
            {"link": other_secret},
            {"link": "not a token"},
        ):
            status, html, headers = await _get(served, "/dashboard", **query)
            assert status == 401, query
            assert "This dashboard link doesn't work" in html
            assert "frame-ancestors" in headers["Content-Security-Policy"]
            status, body, _ = await _get(served, "/dashboard/data.json", **query)
            assert status == 401
            assert "doesn't work" in body
        # Fifteen minutes on, the good link has expired.
        assert (await _get(served, "/dashboard", link=good))[0] == 200
        served.at(NOW + timedelta(minutes=15))
        assert (await _get(served, "/dashboard", link=good))[0] == 401
        assert (await _get(served, "/dashboard/data.json", link=good))[0] == 401


async def test_a_link_for_another_trust_or_someone_since_removed_is_refused(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    async with serve(engine, sessions, seeded, now=NOW) as served:
        # This trust's trust lead, as if of the other trust: not a person there.
        crossed = _link(served, TRUST_LEAD, trust_id=other.trust_id)
        status, html, _ = await _get(served, "/dashboard", link=crossed)
        assert status == 403
        assert "Waypoint doesn't know you any more" in html
        assert "Other Trust" not in html and "Test Trust" not in html

        link = _link(served, HEAD)
        async with sessions.begin() as session:
            person = await session.get(Person, served.people[HEAD])
            assert person is not None
            for role in list(
                await session.scalars(select(PersonRole).where(PersonRole.person_id == person.id))
            ):
                await session.delete(role)
            await session.delete(person)
        status, html, _ = await _get(served, "/dashboard", link=link)
        assert status == 403
        assert "Waypoint doesn't know you any more" in html


async def test_a_head_sees_their_school_and_is_refused_another(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    oakfield, st_marys = seeded.school_ids["100001"], seeded.school_ids["100002"]
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, HEAD)
        status, html, _ = await _get(served, "/dashboard", link=link)
        assert status == 200
        page = read_page(html)
        schools = rows_by_first_cell(page.tables["table-actions-schools"])
        assert list(schools) == ["Oakfield Primary"]

        status, html, _ = await _get(served, "/dashboard", link=link, school=st_marys)
        assert status == 403
        assert "Not one of your schools" in html
        status, _, _ = await _get(served, "/dashboard/data.json", link=link, school=st_marys)
        assert status == 403
        assert (await _get(served, "/dashboard", link=link, school=oakfield))[0] == 200

        views = [e for e in await served.audit() if e.action.startswith("dashboard.")]
        assert [(e.action, e.outcome, e.school_id) for e in views] == [
            ("dashboard.view", "ok", None),
            ("dashboard.view", "refused", st_marys),
            ("dashboard.data", "refused", st_marys),
            ("dashboard.view", "ok", oakfield),
        ]
        assert {e.person_id for e in views} == {served.people[HEAD]}


async def test_a_governor_sees_no_attendance_coaching_or_qa(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, GOVERNOR)
        status, html, _ = await _get(served, "/dashboard", link=link)
        assert status == 200
        assert read_page(html).sections == ["categories", "actions", "visits"]
        # One school: nothing to filter.
        assert 'name="hub"' not in html
        assert "Attendance" not in html and "Coaching coverage" not in html
        response = await served.client.get("/dashboard/data.json", params={"link": link})
        data = await response.json()
        assert data["attendance"] is None and data["coaching"] is None and data["qa"] is None
        assert [s["name"] for s in data["schools"]] == ["Oakfield Primary"]


async def test_the_trust_leads_tables_show_the_trusts_numbers(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    oakfield = seeded.school_ids["100001"]
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, TRUST_LEAD)
        status, html, headers = await _get(served, "/dashboard", link=link)
        assert status == 200
        page = read_page(html)
        assert page.sections == ["categories", "coaching", "qa", "actions", "attendance", "visits"]
        categories = rows_by_first_cell(page.tables["table-categories-now"])
        assert categories["Recovery"] == ["1", "Oakfield Primary"]
        assert categories["Refinement"] == ["1", "St Mary's C of E"]
        assert categories["Excellence"] == ["0", "—"]
        actions = rows_by_first_cell(page.tables["table-actions-schools"])
        assert actions["Oakfield Primary"][:2] == ["2", "1"]
        assert actions["St Mary's C of E"][:2] == ["1", "0"]
        # Every chart has its table, with a caption, and a school's name opens its view.
        for chart in (
            "categories-now",
            "coaching-schools",
            "qa-submitted",
            "actions-schools",
            "attendance-severe",
            "visits-schools",
        ):
            assert f'id="plot-{chart}"' in html and f'id="table-{chart}"' in html
        assert html.count("<caption>") == html.count("<table")
        assert f"school={oakfield}" in html and f"link={link}" in html
        # Teams' theme names choose the page's; anything else leaves it to the system.
        for asked, shown in (
            ("dark", "dark"),
            ("contrast", "dark"),
            ("default", "light"),
            ('x"><script>', "auto"),
        ):
            themed = (await _get(served, "/dashboard", link=link, theme=asked))[1]
            assert f'<html lang="en-GB" data-theme="{shown}">' in themed
        # No script runs inline (the CSP would refuse it anyway).
        assert page.inline_scripts == []

        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert "frame-ancestors 'self' https://teams.microsoft.com" in csp
        assert "https://*.cloud.microsoft" in csp
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"

        response = await served.client.get("/dashboard/data.json", params={"link": link})
        assert response.headers["Cache-Control"] == "no-store"
        data = await response.json()
        by_school = {row["school_id"]: row for row in data["actions"]["by_school"]}
        assert (by_school[oakfield]["open"], by_school[oakfield]["overdue"]) == (2, 1)

        script = await served.client.get("/dashboard/static/plotly.min.js")
        assert script.status == 200
        assert "max-age=31536000" in script.headers["Cache-Control"]
        assert "javascript" in script.headers["Content-Type"]
        assert (await served.client.get("/dashboard/static/..%2Fweb.py")).status == 404


async def test_the_hub_filter_narrows_every_table_and_keeps_the_link(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, TRUST_LEAD)
        status, html, _ = await _get(served, "/dashboard", link=link)
        assert '<option value="">All hubs</option>' in html and "<option>North Hub</option>" in html
        status, html, _ = await _get(served, "/dashboard", link=link, hub="North Hub")
        assert status == 200
        assert "<option selected>North Hub</option>" in html
        assert f'<input type="hidden" name="link" value="{link}">' in html
        page = read_page(html)
        assert list(rows_by_first_cell(page.tables["table-actions-schools"])) == [
            "Oakfield Primary"
        ]
        assert rows_by_first_cell(page.tables["table-categories-now"])["Refinement"] == ["0", "—"]


async def test_the_link_is_never_logged(
    engine: AsyncEngine, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = await _trust(sessions)
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, HEAD)
        caplog.set_level(logging.DEBUG)
        await _get(served, "/dashboard", link=link)
        await _get(served, "/dashboard", link=link, school=seeded.school_ids["100002"])
        await _get(served, "/dashboard/data.json", link=link[:-2])
    # The test server keeps aiohttp's access log, which `waypoint serve` turns off
    # (bot/shutdown.py runs the app with access_log=None): every other line counts.
    logged = [r for r in caplog.records if r.name != "aiohttp.access"]
    assert all(link[:40] not in r.getMessage() for r in logged)


async def test_dashboard_in_chat_and_the_digest_button_open_the_page(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    async with serve(engine, sessions, seeded, now=NOW) as served:
        (card,) = cards_in(await served.say("dashboard", HEAD))
        (button,) = find(card, type="Action.OpenUrl")
        assert button["title"] == "Open dashboard"
        status, html, _ = await _get(served, path_of(button["url"]))
        assert status == 200
        assert "Oakfield Primary" in html and "for Hana Head" in html

        (digest, *_) = cards_in(await served.say("digest", TRUST_LEAD))
        (open_dashboard,) = find(digest, id="open_dashboard")
        assert open_dashboard["data"] == {"verb": "run", "command": "dashboard"}
        (card,) = cards_in(await served.submit(open_dashboard["data"], TRUST_LEAD))
        (button,) = find(card, type="Action.OpenUrl")
        status, html, _ = await _get(served, path_of(button["url"]))
        assert status == 200
        assert "St Mary's C of E" in html and "for Tess Lead" in html


async def test_no_pupil_or_coaching_note_reaches_the_page_or_its_data(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    async with sessions.begin() as session:
        trust = await load_demo(session, today=NOW.date())
    async with sessions() as session:
        secrets = {
            text
            for text in [
                *await session.scalars(select(AttendanceConcern.pupil_ref)),
                *await session.scalars(select(CoachingSession.notes)),
                *await session.scalars(select(CoachingSession.action_step)),
            ]
            if text and len(text) >= 4
        }
        lead = await session.scalar(
            select(PersonRole.person_id).where(PersonRole.role == "trust_lead")
        )
        school_ids = list(await session.scalars(select(AttendanceConcern.school_id).distinct()))
    assert secrets and lead is not None and school_ids
    async with serve(engine, sessions, now=NOW) as served:
        secret = served.waypoint.settings.dashboard_key
        assert secret is not None
        link = sign_dashboard_link(secret, person_id=lead, trust_id=trust.id, now=NOW)
        bodies = []
        for path in ("/dashboard", "/dashboard/data.json"):
            for school in (None, *school_ids):
                query = {"link": link} | ({"school": str(school)} if school else {})
                response = await served.client.get(path, params=query)
                assert response.status == 200
                bodies.append(await response.text())
    assert "Open attendance concerns" in bodies[0]
    leaked = {text for text in secrets for body in bodies if text in body}
    assert leaked == set()


def test_a_short_dashboard_secret_is_refused_and_production_without_one_has_no_dashboard() -> None:
    with pytest.raises(StartupRefused, match="WAYPOINT_DASHBOARD_SECRET"):
        Settings(_env_file=None, WAYPOINT_DASHBOARD_SECRET="short").check_startup()
    production = Settings(_env_file=None, MicrosoftAppId="x", MicrosoftAppPassword="y")
    assert production.dashboard_key is None and production.dashboard_base_url is None
    configured = Settings(
        _env_file=None,
        MicrosoftAppId="x",
        MicrosoftAppPassword="y",
        WAYPOINT_DASHBOARD_SECRET="s" * 40,
        WAYPOINT_PUBLIC_URL="https://waypoint.example.org/",
    )
    assert configured.dashboard_key == b"s" * 40
    assert configured.dashboard_base_url == "https://waypoint.example.org"
    # Development: one random secret for the process, links to the loopback address.
    development = Settings(_env_file=None)
    assert development.dashboard_key is not None and len(development.dashboard_key) == 32
    assert development.dashboard_base_url == "http://127.0.0.1:3978"


async def test_with_the_dashboard_off_the_page_is_404_and_chat_says_so(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    settings = Settings(_env_file=None, MicrosoftAppId="x", MicrosoftAppPassword="y")
    async with serve(engine, sessions, seeded, settings=settings, now=NOW) as served:
        status, html, _ = await _get(served, "/dashboard", link="anything")
        assert status == 404
        assert "The dashboard is off" in html


async def test_trust_leads_download_the_trusts_workbook_and_others_cannot(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    async with serve(engine, sessions, seeded, now=NOW) as served:
        lead, head = _link(served, TRUST_LEAD), _link(served, HEAD)
        assert "Download for Power BI (XLSX)" in (await _get(served, "/dashboard", link=lead))[1]
        assert "Download for Power BI" not in (await _get(served, "/dashboard", link=head))[1]

        assert (await _get(served, "/dashboard/export.xlsx"))[0] == 401
        status, html, _ = await _get(served, "/dashboard/export.xlsx", link=head)
        assert status == 403 and "for trust leads" in html
        response = await served.client.get("/dashboard/export.xlsx", params={"link": lead})
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert "attachment" in response.headers["Content-Disposition"]
        workbook = openpyxl.load_workbook(BytesIO(await response.read()), read_only=True)
        cells = {v for row in workbook["dim_schools"].iter_rows(values_only=True) for v in row}
        assert {"Oakfield Primary", "St Mary's C of E"} <= cells
        exports = [e for e in await served.audit() if e.action == "export"]
        assert [(e.person_id, e.outcome) for e in exports] == [(served.people[TRUST_LEAD], "ok")]


async def test_an_admin_neither_sees_nor_takes_the_download(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    """Admins load data; the trust's download is for trust leads, and a refused one is
    on the audit trail."""
    seeded = await _trust(sessions)
    async with sessions.begin() as session:
        seeded.person_ids[ADMIN] = await add_person(
            session, seeded.trust_id, ADMIN, "Ada Admin", ["admin"]
        )
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, ADMIN)
        status, html, _ = await _get(served, "/dashboard", link=link)
        assert status == 200 and "Download for Power BI" not in html
        status, html, headers = await _get(served, "/dashboard/export.xlsx", link=link)
        assert status == 403 and "for trust leads" in html
        assert headers["Cache-Control"] == "no-store"
        refused = [e for e in await served.audit() if "export" in e.action]
        assert [(e.action, e.outcome, e.person_id) for e in refused] == [
            ("dashboard.export", "refused", served.people[ADMIN])
        ]


async def test_a_school_that_is_not_a_plain_number_is_refused_not_an_error(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, TRUST_LEAD)
        # "²".isdigit() is true, and int() refuses it; 19 digits pass no 64-bit id.
        for school in ("²", "١", "1e3", "-1", "9" * 19):
            for path in ("/dashboard", "/dashboard/data.json"):
                status, body, headers = await _get(served, path, link=link, school=school)
                assert status == 403, (path, school)
                assert "Not one of your schools" in body
                assert headers["Cache-Control"] == "no-store"
                assert "frame-ancestors" in headers["Content-Security-Policy"]


async def test_a_probe_for_another_trusts_school_names_no_school_on_the_trail(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await _trust(sessions)
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    foreign = other.school_ids["100001"]
    async with serve(engine, sessions, seeded, now=NOW) as served:
        link = _link(served, HEAD)
        for school in (foreign, 999999):
            assert (await _get(served, "/dashboard", link=link, school=school))[0] == 403
        views = [e for e in await served.audit() if e.action.startswith("dashboard.")]
        assert [(e.outcome, e.school_id) for e in views] == [("refused", None), ("refused", None)]
