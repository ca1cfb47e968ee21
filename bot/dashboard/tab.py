"""The dashboard in Teams: the tab's pages and the SSO exchange, on Waypoint's app.

GET /dashboard/tab        the tab's content page (static: teams-js, then tab.js)
GET /dashboard/configure  the team tab's configuration page (the trust or a school)
GET /dashboard/teams/…    those pages' scripts and style, teams-js among them
POST /dashboard/sso       a Teams SSO token (Bearer) -> {"url": signed dashboard URL}
GET /dashboard/sso/schools  a Teams SSO token (Bearer) -> the schools the person reaches

teams-js is served by Waypoint, never from a CDN (the CSP allows scripts from
Waypoint only): `make install` runs `npm ci` in bot/dashboard/teams/, whose
package-lock.json pins @microsoft/teams-js, and its UMD build is served from there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dashboard.csp import page_headers
from bot.dashboard.links import dashboard_url, sign_dashboard_link
from bot.dashboard.sso import (
    KeysUnavailable,
    NotKnown,
    SsoRefused,
    bearer_token,
    person_for,
    sso_user,
)
from bot.dashboard.sso_keys import SigningKeys
from bot.settings import Settings
from storage.directory import Actor, schools_of
from storage.engine import Sessions

log = logging.getLogger("waypoint.dashboard.tab")

TEAMS_DIR = Path(__file__).parent / "teams"
TEAMS_JS = TEAMS_DIR / "node_modules/@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js"
# Every file the pages load, by the name they load it by; nothing else is served.
ASSETS: dict[str, tuple[Path, str]] = {
    "teams-js.min.js": (TEAMS_JS, "application/javascript"),
    "tab.js": (TEAMS_DIR / "tab.js", "application/javascript"),
    "configure.js": (TEAMS_DIR / "configure.js", "application/javascript"),
    "tab.css": (TEAMS_DIR / "tab.css", "text/css"),
}
PAGES = {"tab": TEAMS_DIR / "tab.html", "configure": TEAMS_DIR / "configure.html"}
# teams-js checks the host that frames the page against Microsoft's list of Teams
# origins, which it reads from this address (data, never script); refused, it falls
# back to the list it was built with, so a Teams host newer than the library would
# fail. The tab's pages may fetch that one file and nothing else outside Waypoint.
TEAMS_VALID_ORIGINS = "https://res.cdn.office.net/teams-js/validDomains/json/validDomains.json"
TAB_HEADERS = page_headers(connect_src=f"'self' {TEAMS_VALID_ORIGINS}")

NO_TOKEN = "Waypoint needs your Teams sign-in to open the dashboard."
BAD_TOKEN = "Waypoint could not check your Teams sign-in. Close the tab and open it again."
KEYS_DOWN = "Waypoint cannot check Teams sign-ins just now. Try again in a few minutes."
DASHBOARD_OFF = (
    "The dashboard is not switched on for this Waypoint. Ask your Waypoint administrator."
)


def _problem(status: int, error: str, message: str) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return web.json_response({"error": error, "message": message}, status=status, headers=headers)


class TabRoutes:
    def __init__(
        self,
        settings: Settings,
        sessions: Sessions,
        keys: SigningKeys,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.keys = keys
        self.clock = clock

    async def _person(self, request: web.Request) -> Actor | web.Response:
        """The signed-in person of a Bearer request, or the answer refusing them."""
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            return _problem(401, "no_token", NO_TOKEN)
        try:
            user = await sso_user(token, keys=self.keys, audiences=self.settings.sso_audiences)
        except SsoRefused as refused:
            log.info("dashboard sign-in refused: %s", refused)
            return _problem(401, "invalid_token", BAD_TOKEN)
        except KeysUnavailable as error:
            log.warning("dashboard sign-in: Entra ID's keys unavailable: %s", error)
            return _problem(503, "keys_unavailable", KEYS_DOWN)
        session: AsyncSession
        async with self.sessions() as session:
            person = await person_for(session, user)
        if isinstance(person, NotKnown):
            return _problem(403, "unknown_person", person.message)
        return person

    async def exchange(self, request: web.Request) -> web.Response:
        """POST /dashboard/sso: the person's signed dashboard URL."""
        key = self.settings.dashboard_key
        if key is None:
            return _problem(503, "dashboard_off", DASHBOARD_OFF)
        person = await self._person(request)
        if isinstance(person, web.Response):
            return person
        school_id = await _school_asked(request)
        now: datetime = self.clock()
        link = sign_dashboard_link(
            key, person_id=person.person_id, trust_id=person.trust_id, now=now
        )
        # No known address: a relative URL, which the tab resolves against its own.
        base = self.settings.dashboard_base_url or ""
        url = dashboard_url(base, link, school_id=school_id)
        return web.json_response({"url": url}, headers={"Cache-Control": "no-store"})

    async def schools(self, request: web.Request) -> web.Response:
        """GET /dashboard/sso/schools: the schools the configuring person reaches."""
        person = await self._person(request)
        if isinstance(person, web.Response):
            return person
        async with self.sessions() as session:
            reached = await schools_of(session, person)
        return web.json_response(
            {
                "trust": person.trust_name,
                "schools": [{"id": school.id, "name": school.name} for school in reached],
            },
            headers={"Cache-Control": "no-store"},
        )

    async def page(self, request: web.Request) -> web.StreamResponse:
        path = PAGES[request.match_info["page"]]
        return web.FileResponse(
            path, headers={**TAB_HEADERS, "Content-Type": "text/html; charset=utf-8"}
        )

    async def asset(self, request: web.Request) -> web.StreamResponse:
        found = ASSETS.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        path, content_type = found
        if not path.is_file():
            # teams-js not installed (no Node when `make install` ran): the pages
            # then say the library did not load and point to the chat.
            log.warning("dashboard tab: %s is missing; run make install", path)
            raise web.HTTPNotFound()
        return web.FileResponse(
            path, headers={**TAB_HEADERS, "Content-Type": f"{content_type}; charset=utf-8"}
        )


async def _school_asked(request: web.Request) -> int | None:
    """The school a team tab was configured for ({"school": id}); None for the trust.
    Whether the person reaches it is the dashboard page's check (403 if not)."""
    try:
        body = json.loads(await request.text() or "{}")
    except ValueError:
        return None
    school = body.get("school") if isinstance(body, dict) else None
    return school if isinstance(school, int) and not isinstance(school, bool) else None


def add_tab_routes(
    app: web.Application, settings: Settings, sessions: Sessions, clock: Callable[[], datetime]
) -> None:
    """The tab's pages and SSO exchange, keys read from settings.sso_jwks_url."""
    routes = TabRoutes(settings, sessions, SigningKeys(settings.sso_jwks_url), clock)
    app.router.add_post("/dashboard/sso", routes.exchange)
    app.router.add_get("/dashboard/sso/schools", routes.schools)
    app.router.add_get("/dashboard/{page:tab|configure}", routes.page)
    app.router.add_get("/dashboard/teams/{name}", routes.asset)
