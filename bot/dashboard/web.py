"""The dashboard's routes on Waypoint's own aiohttp app.

  GET /dashboard?link=TOKEN[&school=ID&hub=…&phase=…&theme=dark]  the page
  GET /dashboard/data.json?link=TOKEN[&…]                          the same data as JSON
  GET /dashboard/static/NAME                                       its script, styles, plotly.js

The signed link names a person of a trust (bot/dashboard/links.py); the person is read
again with the directory code chat uses, so their roles and schools now scope every
number, and someone Waypoint no longer knows sees nothing. Each view is audited.

The link's token is in the address, so no response lets it travel on: no referrer, no
caching, and nothing logs a request's query (`waypoint serve` runs without an access
log, and nothing here logs the address).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import plotly
from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.dashboard.csp import content_security_policy
from bot.dashboard.links import BadLink, LinkClaims, verify_dashboard_link
from bot.dashboard.view import sections
from storage.audit import record_event
from storage.dashboard import Dashboard, OutOfScope, dashboard_data, dashboard_scope
from storage.directory import Actor, actor_by_person
from storage.engine import Sessions
from storage.export import WORKBOOK_NAME, export_workbook, record_export
from storage.models import Role
from storage.schools import school_in_trust

log = logging.getLogger("waypoint.dashboard")

# plotly.js adds its stylesheet as an empty <style> element filled through the CSSOM
# (allowed by CSP): the hash is that of the empty text, so no inline style runs.
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
# The one policy of every dashboard page (bot/dashboard/csp.py: only Teams may frame
# it), with what plotly's charts need besides.
CONTENT_SECURITY_POLICY = content_security_policy(
    default_src="'self'",
    style_src=f"'self' {EMPTY_STYLE}",
    img_src="'self' data:",
    object_src="'none'",
)
PRIVATE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
# Static files never change within a release: browsers keep them a year.
STATIC_CACHE = "public, max-age=31536000, immutable"
STATIC_DIR = Path(str(files("bot.dashboard").joinpath("static")))
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATIC_FILES = {
    "plotly.min.js": PLOTLY_JS,
    "dashboard.js": STATIC_DIR / "dashboard.js",
    "dashboard.css": STATIC_DIR / "dashboard.css",
}
# plotly.js injects the map library's stylesheet as an inline <style> (which the CSP
# refuses, with a console error) unless an element with its id is already on the
# page. The dashboard draws no maps: the page carries an empty element with that id.
PLOTLY_INLINE_STYLE_IDS = tuple(
    sorted(set(re.findall(r'getElementById\("([0-9a-f]{64})"\)', PLOTLY_JS.read_text())))
)
# `theme=` as a person types it, or as Teams names its themes (the tab passes them).
THEMES = {"light": "light", "dark": "dark", "default": "light", "contrast": "dark"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A school's id as an address names it: ASCII digits, within a 64-bit integer.
SCHOOL_ID = re.compile(r"[0-9]{1,18}")
# Longest hub or phase filter read from an address.
FILTER_LIMIT = 100

_templates = Environment(
    loader=PackageLoader("bot.dashboard", "templates"),
    autoescape=select_autoescape(("html", "j2")),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclasses.dataclass(frozen=True)
class DashboardConfig:
    """What the routes need from the serving process."""

    sessions: Sessions
    # None: the dashboard is off (credentials without WAYPOINT_DASHBOARD_SECRET).
    secret: bytes | None
    clock: Callable[[], datetime]


@dataclasses.dataclass(frozen=True)
class Asked:
    """What a request asks for, on whose link (not yet checked against the store)."""

    claims: LinkClaims
    token: str
    school_id: int | None
    hub: str | None
    phase: str | None
    theme: str | None


class Refused(Exception):
    def __init__(self, status: int, title: str, text: str) -> None:
        super().__init__(title)
        self.status, self.title, self.text = status, title, text


NO_LINK = Refused(
    401,
    "This dashboard link doesn't work",
    "Links to the dashboard work for 15 minutes and only for the person they were made "
    "for. Type dashboard in your chat with Waypoint for a fresh one.",
)
UNKNOWN = Refused(
    403,
    "Waypoint doesn't know you any more",
    "This link was made for someone Waypoint no longer has on its list. Ask your "
    "school's office or your trust's IT team to have you added with your roles and schools.",
)
OUT_OF_SCOPE = Refused(
    403,
    "Not one of your schools",
    "The dashboard shows the schools your roles reach, and this is not one of them.",
)
FOR_TRUST_LEADS = Refused(
    403, "For trust leads", "The trust's download for Power BI is for trust leads."
)
OFF = Refused(
    404,
    "The dashboard is off",
    "This Waypoint has no dashboard secret set (WAYPOINT_DASHBOARD_SECRET).",
)


def add_dashboard_routes(app: web.Application, config: DashboardConfig) -> None:
    async def page(request: web.Request) -> web.Response:
        try:
            asked = _asked(request, config)
            actor, dashboard = await _dashboard(config, asked, action="dashboard.view")
        except Refused as refused:
            return _refusal_page(refused)
        return _private(
            web.Response(
                text=_render_page(dashboard, asked, actor),
                content_type="text/html",
            )
        )

    async def data(request: web.Request) -> web.Response:
        try:
            asked = _asked(request, config)
            _actor, dashboard = await _dashboard(config, asked, action="dashboard.data")
        except Refused as refused:
            return _private(
                web.json_response(
                    {"error": refused.title, "detail": refused.text}, status=refused.status
                )
            )
        return _private(
            web.json_response(
                dataclasses.asdict(dashboard), dumps=lambda body: json.dumps(body, default=_iso)
            )
        )

    async def static(request: web.Request) -> web.StreamResponse:
        path = STATIC_FILES.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        response = web.FileResponse(path, headers={"Cache-Control": STATIC_CACHE})
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def workbook(request: web.Request) -> web.Response:
        """The trust's star schema as one XLSX (docs/EXPORT.md), for trust leads."""
        try:
            actor = await _person(config, _asked(request, config))
        except Refused as refused:
            return _refusal_page(refused)
        if not _downloads(actor):
            async with config.sessions.begin() as session:
                await record_event(
                    session,
                    trust_id=actor.trust_id,
                    person_id=actor.person_id,
                    action="dashboard.export",
                    outcome="refused",
                )
            return _refusal_page(FOR_TRUST_LEADS)
        async with config.sessions.begin() as session:
            body = await export_workbook(session, trust_id=actor.trust_id)
            await record_export(session, trust_id=actor.trust_id, person_id=actor.person_id)
        return _private(
            web.Response(
                body=body,
                content_type=XLSX,
                headers={"Content-Disposition": f'attachment; filename="{WORKBOOK_NAME}"'},
            )
        )

    app.router.add_get("/dashboard", page)
    app.router.add_get("/dashboard/data.json", data)
    app.router.add_get("/dashboard/static/{name}", static)
    app.router.add_get("/dashboard/export.xlsx", workbook)


def _downloads(actor: Actor) -> bool:
    """The trust's whole data is for trust leads (issue 17): an admin, who loads data,
    does not take it away."""
    return Role.trust_lead in actor.trust_roles


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _private(response: web.Response) -> web.Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


def _refusal_page(refused: Refused) -> web.Response:
    html = _templates.get_template("refused.html.j2").render(title=refused.title, text=refused.text)
    return _private(web.Response(text=html, content_type="text/html", status=refused.status))


def _query_text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    return value[:FILTER_LIMIT] or None


def _asked(request: web.Request, config: DashboardConfig) -> Asked:
    """Who the link is for (not yet checked against the store) and what they asked."""
    if config.secret is None:
        raise OFF
    token = request.query.get("link", "")
    try:
        claims = verify_dashboard_link(config.secret, token, now=config.clock())
    except BadLink:
        raise NO_LINK from None
    school = request.query.get("school", "").strip()
    # ASCII digits only: str.isdigit() passes "²", which int() refuses.
    if school and not SCHOOL_ID.fullmatch(school):
        raise OUT_OF_SCOPE
    theme = request.query.get("theme")
    return Asked(
        claims=claims,
        token=token,
        school_id=int(school) if school else None,
        hub=_query_text(request, "hub"),
        phase=_query_text(request, "phase"),
        theme=THEMES.get(theme or ""),
    )


async def _person(config: DashboardConfig, asked: Asked) -> Actor:
    """The link's person as Waypoint knows them now, with their roles and schools."""
    async with config.sessions() as session:
        actor = await actor_by_person(
            session, trust_id=asked.claims.trust_id, person_id=asked.claims.person_id
        )
    if actor is None:
        raise UNKNOWN
    return actor


async def _dashboard(
    config: DashboardConfig, asked: Asked, *, action: str
) -> tuple[Actor, Dashboard]:
    actor = await _person(config, asked)
    today = config.clock().astimezone(ZoneInfo(actor.time_zone)).date()
    async with config.sessions.begin() as session:
        try:
            scope = dashboard_scope(
                actor, school_id=asked.school_id, hub=asked.hub, phase=asked.phase
            )
            dashboard = await dashboard_data(session, scope=scope, today=today)
        except OutOfScope:
            outcome = "refused"
            # The trail shows which school was probed, if it is one of this trust's
            # (no other trust's school is named, nor an id that is no school).
            probed = (
                await school_in_trust(session, trust_id=actor.trust_id, school_id=asked.school_id)
                if asked.school_id is not None
                else None
            )
            school_id = probed.id if probed is not None else None
        else:
            outcome = "ok"
            school_id = asked.school_id
        await record_event(
            session,
            trust_id=actor.trust_id,
            person_id=actor.person_id,
            action=action,
            outcome=outcome,
            school_id=school_id,
        )
    if outcome != "ok":
        log.info("dashboard: a school outside the person's reach was asked for")
        raise OUT_OF_SCOPE
    return actor, dashboard


def _address(asked: Asked, **changes: Any) -> str:
    query: dict[str, Any] = {
        "link": asked.token,
        "school": asked.school_id,
        "hub": asked.hub,
        "phase": asked.phase,
        "theme": asked.theme,
    }
    query.update(changes)
    return "/dashboard?" + urlencode({k: v for k, v in query.items() if v is not None})


def _render_page(dashboard: Dashboard, asked: Asked, actor: Actor) -> str:
    one_school = dashboard.schools[0] if asked.school_id is not None and dashboard.schools else None
    return _templates.get_template("page.html.j2").render(
        dashboard=dashboard,
        asked=asked,
        person=actor.display_name,
        plotly_style_ids=PLOTLY_INLINE_STYLE_IDS,
        theme=asked.theme or "auto",
        one_school=one_school,
        sections=sections(
            dashboard, lambda school_id: _address(asked, school=school_id, hub=None, phase=None)
        ),
        trust_view=_address(asked, school=None),
        export_url=(
            "/dashboard/export.xlsx?" + urlencode({"link": asked.token})
            if _downloads(actor)
            else None
        ),
    )
