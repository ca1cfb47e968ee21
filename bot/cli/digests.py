"""The weekly digests, for when an external scheduler sends them rather than the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.cli.command import Call, Commands, command, sending


def add_commands(commands: Commands) -> None:
    digest = commands.add_parser("digest", help="weekly digests").add_subparsers(
        dest="digest_command", required=True, metavar="ACTION"
    )
    run = digest.add_parser(
        "run", help="compose and send this week's digests when due (an external scheduler)"
    )
    run.add_argument("--tenant-id", required=True)
    run.add_argument("--now", action="store_true", help="compose now, due or not")
    run.set_defaults(run=digest_run)


@command
def digest_run(call: Call) -> str:
    from bot.scheduled.digests import compose_week
    from bot.scheduler import digest_due

    async def run() -> str:
        async with sending(call.settings) as (sessions, notifier):
            async with sessions() as session:
                trust = await call.trust(session)
            now = datetime.now(UTC)
            if not call.args.now and not digest_due(trust, now):
                return "not due yet: the digest goes out at the trust's weekly slot (or use --now)"
            composed = await compose_week(sessions, trust_id=trust.id, now=now)
            # Send as well, so an external scheduler needs no running server.
            await notifier.drain()
            return str(composed)

    return asyncio.run(run())
