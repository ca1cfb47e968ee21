"""`waypoint manifest build`: the Teams app package, from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_manifest_commands(commands: Any) -> None:
    """Add `manifest build` to the `waypoint` parser's subcommands."""
    from manifest.build import DEFAULT_DEVELOPER, DEFAULT_OUT, DEFAULT_WEBSITE

    manifest = commands.add_parser("manifest", help="the Teams app package").add_subparsers(
        dest="manifest_command", required=True, metavar="ACTION"
    )
    build = manifest.add_parser(
        "build", help="write the Teams app package: manifest.json and icons in a flat zip"
    )
    build.add_argument(
        "--app-id", required=True, help="the bot's Microsoft App ID (MicrosoftAppId), a GUID"
    )
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    build.add_argument(
        "--developer", default=DEFAULT_DEVELOPER, help="who publishes the app in your tenant"
    )
    build.add_argument(
        "--website",
        default=DEFAULT_WEBSITE,
        help="https address about the app; its /privacy and /terms pages are linked too",
    )
    build.add_argument(
        "--base-url",
        help="Waypoint's public https address (WAYPOINT_PUBLIC_URL): adds the dashboard's "
        "personal and team tabs and their single sign-on; without it, the bot only",
    )
    build.set_defaults(run=cmd_manifest_build)


def cmd_manifest_build(args: argparse.Namespace) -> int:
    from manifest.build import Developer, ManifestError, build_package

    try:
        out = build_package(
            args.app_id,
            args.out,
            developer=Developer(name=args.developer, website=args.website),
            base_url=args.base_url,
        )
    except ManifestError as error:
        print("waypoint: the Teams app package was not written:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"wrote {out}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    if not args.base_url:
        print("  (no --base-url: the package has no dashboard tabs)")
    return 0
