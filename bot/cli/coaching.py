"""Coaching: the trust's focus strands, which coaches pick from for each session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, Commands, command
from storage.models import Trust


def add_commands(commands: Commands) -> None:
    strands = commands.add_parser("strands", help="coaching focus strands").add_subparsers(
        dest="strands_command", required=True, metavar="ACTION"
    )
    replace = strands.add_parser("set", help="the trust's strands, one a line, from FILE")
    replace.add_argument("file")
    replace.add_argument("--tenant-id", required=True)
    replace.set_defaults(run=strands_set)


@command
def strands_set(call: Call) -> str:
    from storage.strands import read_strands_file, set_strands

    names = call.read(read_strands_file)

    async def work(session: AsyncSession, trust: Trust) -> str:
        retired = await set_strands(session, trust_id=trust.id, names=names)
        note = f"; retired (kept on past sessions): {', '.join(retired)}" if retired else ""
        return f"coaching strands: {len(names)} in use{note}"

    # set_strands says what is wrong with the list (empty, a name twice) as a ValueError.
    return call.in_trust(
        work, refusing={ValueError: lambda error: f"{call.file}: nothing changed: {error}"}
    )
