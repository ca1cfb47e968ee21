"""The aiohttp application: /api/messages, /healthz and the dashboard (bot/dashboard/),
wired to one store.

/metrics is not here: `waypoint serve` answers it on a port of its own (bot/metrics.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import ConversationState
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapter import WaypointAdapter
from bot.connector import Connector, TokenProvider
from bot.dashboard.links import SignedLinks
from bot.dashboard.tab import add_tab_routes
from bot.dashboard.web import DashboardConfig, add_dashboard_routes
from bot.edge import handle_messages
from bot.metrics import Metrics
from bot.offloop import BlockingWorker
from bot.proactive import OutboxNotifier
from bot.scheduler import run_scheduler
from bot.sender import OutboxSender
from bot.settings import Settings
from bot.shutdown import Lifecycle, refusal
from bot.state import SqlStorage
from bot.turns import WaypointBot
from dialogs.catalogue import build_registry
from storage.engine import Sessions, create_engine, session_factory

log = logging.getLogger("waypoint.app")


@dataclass
class Waypoint:
    """Everything one serving process holds."""

    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    adapter: WaypointAdapter
    bot: WaypointBot
    connector: Connector
    worker: BlockingWorker
    notifier: OutboxNotifier
    metrics: Metrics
    # The digest tick; tests that drive composition themselves turn it off.
    scheduler: bool = True

    async def close(self) -> None:
        # Nothing more is sent: what is due waits in the outbox for the next sender.
        await self.connector.close()
        self.worker.stop()
        await self.engine.dispose()


def build_waypoint(settings: Settings, engine: AsyncEngine | None = None) -> Waypoint:
    engine = engine or create_engine(settings.database_url)
    sessions = session_factory(engine)
    worker = BlockingWorker("waypoint-auth")
    connector = Connector(TokenProvider(settings, worker))
    metrics = Metrics()
    adapter = WaypointAdapter(settings, connector, worker, metrics)
    notifier = OutboxNotifier(sessions, OutboxSender(sessions, connector, metrics=metrics))
    bot = WaypointBot(
        sessions=sessions,
        registry=build_registry(),
        conversation_state=ConversationState(SqlStorage(sessions)),
        notifier=notifier,
        dashboard_links=SignedLinks(settings.dashboard_key, settings.dashboard_base_url),
    )
    adapter.on_turn_error = bot.on_error
    return Waypoint(
        settings=settings,
        engine=engine,
        sessions=sessions,
        adapter=adapter,
        bot=bot,
        connector=connector,
        worker=worker,
        notifier=notifier,
        metrics=metrics,
        scheduler=settings.digest_scheduler,
    )


WAYPOINT_KEY = web.AppKey("waypoint", Waypoint)
LIFECYCLE_KEY = web.AppKey("lifecycle", Lifecycle)


def create_app(waypoint: Waypoint) -> web.Application:
    """The app; StartupRefused for settings Waypoint must not serve with (whoever
    builds it, not only `waypoint serve`)."""
    waypoint.settings.check_startup()
    # The edge reads bodies itself with its own limit; this is only a backstop.
    app = web.Application(client_max_size=waypoint.settings.max_body_bytes + 1024)
    app[WAYPOINT_KEY] = waypoint
    lifecycle = app[LIFECYCLE_KEY] = Lifecycle()

    async def messages(request: web.Request) -> web.Response:
        if lifecycle.shutting_down:
            return refusal()
        with lifecycle.turn():
            return await handle_messages(request, waypoint.adapter, waypoint.bot.on_turn)

    async def healthz(request: web.Request) -> web.Response:
        if lifecycle.shutting_down:
            return web.json_response({"status": "shutting down"}, status=503)
        try:
            async with waypoint.engine.connect() as conn:
                await conn.execute(text("select 1"))
        except Exception as error:
            waypoint.metrics.store_error("healthz", error)
            log.warning("health check: store down (%s)", type(error).__name__)
            return web.json_response({"status": "degraded", "store": "down"}, status=503)
        return web.json_response({"status": "ok", "store": "up"})

    stop, background = lifecycle.stop, lifecycle.background

    async def on_startup(_app: web.Application) -> None:
        background.append(asyncio.create_task(waypoint.notifier.run(stop)))
        if waypoint.scheduler:
            background.append(
                asyncio.create_task(
                    run_scheduler(
                        waypoint.sessions,
                        stop,
                        wake_sender=waypoint.notifier.wake,
                        every=waypoint.settings.scheduler_every,
                    )
                )
            )

    async def on_shutdown(_app: web.Application) -> None:
        # Done already after SIGTERM (bot/shutdown.py); not when a test's server stops.
        await lifecycle.stop_background()

    async def on_cleanup(_app: web.Application) -> None:
        await waypoint.close()

    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    add_dashboard_routes(
        app,
        DashboardConfig(
            sessions=waypoint.sessions,
            secret=waypoint.settings.dashboard_key,
            # The bot's clock, which tests set, read at each request.
            clock=lambda: waypoint.bot.clock(),
        ),
    )
    # The dashboard's Teams tab and its single sign-on (bot/dashboard/tab.py).
    add_tab_routes(app, waypoint.settings, waypoint.sessions, lambda: waypoint.bot.clock())
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app
