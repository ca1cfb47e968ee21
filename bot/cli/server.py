"""Run Waypoint: serve the bot, create or migrate its store, load the demo trust."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, CommandFailed, Commands, command, iso_date
from bot.logs import configure_logging
from bot.settings import StartupRefused


def add_commands(commands: Commands) -> None:
    serve_parser = commands.add_parser("serve", help="serve the bot on /api/messages")
    serve_parser.add_argument("--host", help="address to listen on (default WAYPOINT_HOST)")
    serve_parser.add_argument("--port", type=int, help="port (default WAYPOINT_PORT)")
    serve_parser.set_defaults(run=serve)

    db = commands.add_parser("db", help="the store").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="create or migrate the store").set_defaults(run=db_upgrade)

    demo_parser = commands.add_parser("demo", help="load the demo trust")
    demo_parser.add_argument(
        "--if-empty", action="store_true", help="only when the store has no trust"
    )
    demo_parser.add_argument(
        "--today",
        type=iso_date,
        help="the day its term of history leads up to (default: the trust's today)",
    )
    demo_parser.set_defaults(run=demo)


@command
def serve(call: Call) -> None:
    from bot.app import LIFECYCLE_KEY, build_waypoint, create_app
    from bot.shutdown import serve_until_signalled

    settings = call.settings
    if call.args.host:
        settings.host = call.args.host
    if call.args.port:
        settings.port = call.args.port
    try:
        settings.check_startup()
    except StartupRefused as refusal:
        raise CommandFailed(str(refusal), exit_code=2) from refusal
    configure_logging(settings.log_format, settings.log_level)
    mode = (
        "development mode: anonymous, loopback only"
        if settings.anonymous
        else f"app id {settings.app_id}"
    )
    logging.getLogger("waypoint").info(
        "Waypoint listening on http://%s:%d/api/messages (%s)", settings.host, settings.port, mode
    )
    app = create_app(build_waypoint(settings))
    # Until SIGTERM; then no turn is cut and no outbox claim is held (bot/shutdown.py).
    asyncio.run(
        serve_until_signalled(app, app[LIFECYCLE_KEY], host=settings.host, port=settings.port)
    )


@command
def db_upgrade(call: Call) -> str:
    from storage.migrate import upgrade_sync

    upgrade_sync(call.settings.database_url)
    return "store is up to date"


@command
def demo(call: Call) -> str:
    from storage.demo import DEMO_TENANT_ID, load_demo, store_is_empty
    from storage.directory import TrustExists

    async def work(session: AsyncSession) -> str:
        if call.args.if_empty and not await store_is_empty(session):
            return "the store already holds a trust; demo not loaded"
        trust = await load_demo(session, today=call.args.today)
        return (
            f"loaded the demo trust {trust.name!r} (tenant {DEMO_TENANT_ID}) with a term of history"
        )

    return call.in_store(
        work, refusing={TrustExists: lambda error: f"{error}: the demo trust is loaded already"}
    )
