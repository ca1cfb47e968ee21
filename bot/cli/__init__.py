"""The `waypoint` command line: serve, migrate, load data.

Each module here adds the commands of one job, each command's arguments beside its
handler; bot/cli/command.py holds what they all share.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.cli import (
    coaching,
    digests,
    exports,
    imports,
    playground,
    records,
    reviews,
    server,
    terms,
    trusts,
    visits,
)
from bot.cli.command import CommandFailed
from manifest.cli import add_manifest_commands

__all__ = ["CommandFailed", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waypoint", description="Waypoint: school improvement in Microsoft Teams"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # `waypoint --help` lists the commands in the order they are added here.
    server.add_commands(commands)
    add_manifest_commands(commands)
    for module in (
        trusts,
        imports,
        terms,
        visits,
        digests,
        reviews,
        coaching,
        records,
        exports,
        playground,
    ):
        module.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code
