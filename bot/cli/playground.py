"""`waypoint playground-config --role ROLE`: the Microsoft 365 Agents Playground's
configuration for talking to the demo trust as its demo user in that role.

`make playground ROLE=head` writes it to `.m365agentsplayground.yml` at the repository
root (where the Playground looks for it; the file is not kept in git) and starts the
Playground from there. The tenant id is the demo trust's and every user a person in
storage/demo/people.csv, so Waypoint sees the current user as that demo person.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bot.cli.command import Call, CommandFailed, Commands, command
from storage.demo import DEMO_TENANT_ID, DEMO_USERS, PEOPLE_CSV
from storage.models import Role

CONFIG_FILE = ".m365agentsplayground.yml"
DEFAULT_ROLE = Role.head
# The Playground's schema wants exactly five other users.
OTHER_USERS = 5
PACKAGE = "@microsoft/m365agentsplayground"
# The Playground version tools/package.json pins (`make tools` installs it there).
TOOLS_PACKAGE_JSON = Path(__file__).resolve().parents[2] / "tools" / "package.json"


def pinned_version() -> str | None:
    try:
        pins = json.loads(TOOLS_PACKAGE_JSON.read_text(encoding="utf-8"))["devDependencies"]
    except (OSError, ValueError, KeyError):
        return None
    version = pins.get(PACKAGE)
    return version if isinstance(version, str) else None


def start_command() -> list[str]:
    """What `make playground` runs from the repository root (with tools/node_modules'
    copy when `make tools` installed it, else npx), as README.md shows it."""
    version = pinned_version()
    return [
        f"TEAMSAPPTESTER_BROWSER=none npx {PACKAGE}{'@' + version if version else ''} \\",
        "  -c msteams -e http://127.0.0.1:3978/api/messages --disable-telemetry",
    ]


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser(
        "playground-config",
        help="the Agents Playground's configuration for a demo user (make playground)",
    )
    parser.add_argument(
        "--role",
        default=DEFAULT_ROLE.value,
        choices=[role.value for role in DEMO_USERS],
        help=f"whose conversation it is (default {DEFAULT_ROLE.value})",
    )
    parser.add_argument(
        "--output", help=f"where to write it (default: print it; make: {CONFIG_FILE})"
    )
    parser.set_defaults(run=playground_config_command)


@command
def playground_config_command(call: Call) -> str | None:
    text = playground_config(Role(call.args.role))
    if not call.args.output:
        return text.rstrip("\n")
    output, role = call.args.output, Role(call.args.role)
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandFailed(f"cannot write {output}: {error.strerror or error}") from error
    return f"wrote {output}: the Playground talks to Waypoint as {DEMO_USERS[role]} ({role})"


def demo_people() -> dict[str, dict[str, str]]:
    """storage/demo/people.csv's rows by display name."""
    with PEOPLE_CSV.open(encoding="utf-8", newline="") as file:
        return {row["display_name"]: row for row in csv.DictReader(file)}


def playground_config(role: Role) -> str:
    """The configuration, as YAML with a comment that says who is who."""
    people = demo_people()
    current = DEMO_USERS[role]
    others = [(r, name) for r, name in DEMO_USERS.items() if r != role][:OTHER_USERS]
    lines = [
        "# Microsoft 365 Agents Playground configuration for the Waypoint demo trust.",
        f"# Written by `make playground ROLE={role.value}` (waypoint playground-config); not kept",
        "# in git. With Waypoint running (`make run`), `make playground ROLE=…` writes this",
        "# file for that role, then starts the Playground here, at the repository root:",
        *(f"#   {line}" for line in start_command()),
        "# Open the address it prints and type `help`. Roles and their demo users:",
        *(
            f"#   {r.value:<16} {name}{'   <- current user' if r == role else ''}"
            for r, name in DEMO_USERS.items()
        ),
        "# The tenant id is the demo trust's and every aadObjectId a person in",
        "# storage/demo/people.csv. The Playground needs exactly five `users`.",
        'version: "0.1.1"',
        f"tenantId: {DEMO_TENANT_ID}",
        "bot:",
        "  id: 00000000-0000-0000-0000-00000000b075",
        "  name: Waypoint",
        f"# role: {role.value}",
        "currentUser:",
        *_user(people[current], "  "),
        "users:",
    ]
    for other_role, name in others:
        lines += [f"  # role: {other_role.value}", *_user(people[name], "    ", first="  - ")]
    lines += [
        "personalChat:",
        "  id: personal-chat-waypoint-demo",
        "groupChat:",
        "  id: group-chat-waypoint-demo",
        "  name: Oakfield improvement group",
        "team:",
        "  id: team-waypoint-demo",
        "  name: Waypoint Demo Trust",
        "  aadGroupId: 6b3c1d2e-0000-4000-8000-0000000000a1",
        "  channels:",
        "    - id: channel-waypoint-demo-standards",
        "      name: Standards",
    ]
    return "\n".join(lines) + "\n"


def _user(row: dict[str, str], indent: str, *, first: str | None = None) -> list[str]:
    given, _, surname = row["display_name"].partition(" ")
    fields = {
        "id": "user-id-" + row["email"].split("@")[0].replace(".", "-"),
        "name": row["display_name"],
        "userPrincipleName": row["email"],
        "aadObjectId": row["aad_object_id"],
        "givenName": given,
        "surname": surname,
        "email": row["email"],
    }
    # JSON strings are YAML double-quoted scalars: any name is written safely.
    lines = [
        f"{indent}{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()
    ]
    if first is not None:
        lines[0] = first + lines[0].lstrip()
    return lines
