"""Set a trust up: add it, then replace its categorisation framework."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.command import Call, Commands, command
from storage.frameworks import PRESETS, UnknownFramework
from storage.models import Trust


def add_commands(commands: Commands) -> None:
    trust = commands.add_parser("trust", help="trusts").add_subparsers(
        dest="trust_command", required=True, metavar="ACTION"
    )
    add = trust.add_parser("add", help="add a trust (one Microsoft Entra tenant)")
    add.add_argument("--tenant-id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--framework", required=True, choices=PRESETS)
    add.set_defaults(run=trust_add)

    framework = commands.add_parser(
        "framework", help="the trust's categorisation framework"
    ).add_subparsers(dest="framework_command", required=True, metavar="ACTION")
    replace = framework.add_parser(
        "set", help="replace the trust's framework from a YAML or JSON file"
    )
    replace.add_argument("file")
    replace.add_argument("--tenant-id", required=True)
    replace.set_defaults(run=framework_set)


@command
def trust_add(call: Call) -> str:
    from storage.directory import TrustExists, add_trust

    args = call.args

    async def work(session: AsyncSession) -> str:
        trust = await add_trust(
            session, tenant_id=args.tenant_id, name=args.name, framework_key=args.framework
        )
        return f"added trust {trust.name!r} (tenant {trust.tenant_id}, framework {args.framework})"

    return call.in_store(work, refusing={TrustExists: str, UnknownFramework: str})


@command
def framework_set(call: Call) -> str:
    from storage.categories import FrameworkInUse, replace_framework
    from storage.frameworks import FrameworkFileError, parse_framework_file

    spec = call.read(
        parse_framework_file,
        refusing={FrameworkFileError: lambda error: f"{error}\nnothing changed"},
    )

    async def work(session: AsyncSession, trust: Trust) -> str:
        await replace_framework(session, trust_id=trust.id, spec=spec)
        names = ", ".join(item.name for item in spec.categories)
        return f"framework {spec.name!r} set for trust {trust.name!r}: {names}"

    return call.in_trust(
        work,
        refusing={FrameworkInUse: lambda error: f"{call.file.name}: nothing changed: {error}"},
    )
