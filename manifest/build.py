"""Build Waypoint's Teams app package: manifest.json, color.png and outline.png in a flat zip.

The manifest comes from `manifest.template.json`; its bot `commandLists` (the menu
Teams shows above the compose box, and the only way to find commands on mobile) are
generated from Waypoint's own command registry, so they stay in step with the dialogs.
"""

from __future__ import annotations

import json
import re
import struct
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dialogs.registry import Command, Registry

HERE = Path(__file__).parent
TEMPLATE = HERE / "manifest.template.json"
ICONS = {"color.png": (192, 192), "outline.png": (32, 32)}
DEFAULT_OUT = Path("build/waypoint-teams-app.zip")
DEFAULT_DEVELOPER = "Waypoint"
DEFAULT_WEBSITE = "https://waypoint.example/"
ACCENT_COLOR = "#16697A"

SCOPES = ("personal", "team", "groupChat")
# Teams shows at most 10 commands per scope (the schema allows 12; clients cut at 10).
MAX_COMMANDS = 10
MAX_TITLE = 32
MAX_DESCRIPTION = 128
# Most useful first: the everyday jobs. Commands not named here (new dialogs) come
# next, in the order they were registered, then LAST, which go first when a list is full.
FIRST = (
    "help",
    "log_coaching",
    "my_coaching",
    "actions",
    "raise_concern",
    "category",
    "qa",
    "qa_status",
    "attendance_concerns",
    "visit",
    "coaching_coverage",
)
LAST = ("categorise", "whoami")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types with an alpha channel: greyscale + alpha, RGBA.
_ALPHA_TYPES = {4, 6}


class ManifestError(ValueError):
    """The package cannot be built; `problems` says why, one reason a line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Developer:
    name: str = DEFAULT_DEVELOPER
    website: str = DEFAULT_WEBSITE

    @property
    def privacy_url(self) -> str:
        return self.website.rstrip("/") + "/privacy"

    @property
    def terms_url(self) -> str:
        return self.website.rstrip("/") + "/terms"


def ranked_commands(registry: Registry) -> list[Command]:
    commands = {command.key: command for command in registry.commands()}
    first = [commands[key] for key in FIRST if key in commands]
    last = [commands[key] for key in LAST if key in commands]
    middle = [c for c in commands.values() if c.key not in FIRST and c.key not in LAST]
    return first + middle + last


def command_title(command: Command) -> str:
    """What Teams puts in the compose box: the longest phrase the example starts with.

    "category oakfield" offers "category"; "coaching coverage [school]" offers
    "coaching coverage"; a command whose example is no phrase offers its first phrase.
    """
    example = " ".join(command.example.casefold().split())
    starts = [p for p in command.phrases if example == p or example.startswith(p + " ")]
    return max(starts, key=len) if starts else command.phrases[0]


def command_entry(command: Command) -> dict[str, str]:
    title = command_title(command)
    description = command.summary.rstrip(".")
    if command.example.casefold() != title:
        description += f". Example: {command.example}"
    return {"title": title, "description": description}


def offered_in(scope: str, command: Command) -> bool:
    """Whether the scope's menu offers `command`.

    In a team channel or group chat everyone reads the answer: a private command
    typed there is answered in the person's own chat, so the menu offers only
    commands whose answers hold nothing private (its registration says which).
    """
    return scope == "personal" or not command.private


def command_lists(registry: Registry) -> list[dict[str, Any]]:
    ranked = ranked_commands(registry)
    lists = []
    for scope in SCOPES:
        offered = [c for c in ranked if offered_in(scope, c)]
        lists.append(
            {
                "scopes": [scope],
                "commands": [command_entry(c) for c in offered[:MAX_COMMANDS]],
            }
        )
    return lists


def _command_problems(lists: list[dict[str, Any]]) -> list[str]:
    problems = []
    for entry in lists:
        for command in entry["commands"]:
            if len(command["title"]) > MAX_TITLE:
                problems.append(
                    f"command {command['title']!r}: title is {len(command['title'])} "
                    f"characters; Teams allows {MAX_TITLE}"
                )
            if len(command["description"]) > MAX_DESCRIPTION:
                problems.append(
                    f"command {command['title']!r}: description is "
                    f"{len(command['description'])} characters; Teams allows {MAX_DESCRIPTION} "
                    "(shorten the command's summary)"
                )
    return sorted(set(problems))


def app_version() -> str:
    """Waypoint's version (Teams asks for a new one whenever the manifest changes)."""
    try:
        return metadata.version("waypoint")
    except metadata.PackageNotFoundError:
        # Run from a checkout without `pip install`: the version is pyproject's.
        with (HERE.parent / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])


def tab_domain(base_url: str) -> str:
    """The host of Waypoint's public https address, where Teams loads the tabs."""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise ManifestError(
            [
                f"base url {base_url!r} is not an https address without a path "
                "(Waypoint's public address, e.g. https://waypoint.example.org)"
            ]
        )
    if parts.query or parts.fragment or parts.username:
        raise ManifestError([f"base url {base_url!r} has more than a scheme and a host"])
    return parts.netloc.lower()


def dashboard_tabs(base_url: str, app_id: str) -> dict[str, Any]:
    """The dashboard in Teams: a personal tab, a team and group chat tab configured
    for the trust or one school, and the single sign-on (webApplicationInfo) their
    pages use. The application ID URI is `api://<domain>/<app id>`, as the app
    registration exposes it (README, "Dashboard in Teams (SSO)")."""
    domain = tab_domain(base_url)
    base = f"https://{domain}"
    return {
        "staticTabs": [
            # The bot's chat stays the first tab of the personal app.
            {"entityId": "conversations", "scopes": ["personal"]},
            {
                "entityId": "dashboard",
                "name": "Dashboard",
                "contentUrl": f"{base}/dashboard/tab",
                "websiteUrl": f"{base}/dashboard/tab",
                "scopes": ["personal"],
            },
        ],
        "configurableTabs": [
            {
                "configurationUrl": f"{base}/dashboard/configure",
                "canUpdateConfiguration": True,
                "scopes": ["team", "groupChat"],
            }
        ],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{domain}/{app_id}"},
        "validDomains": [domain],
    }


def render_manifest(
    app_id: str,
    *,
    registry: Registry | None = None,
    developer: Developer | None = None,
    version: str | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """The manifest for the bot registered as `app_id` (its Microsoft App ID), with
    the dashboard tabs when Waypoint's public https address (`base_url`) is given.

    The same GUID names the Teams app and its bot, as for any single-bot app.
    """
    if not _GUID.match(app_id):
        raise ManifestError([f"app id {app_id!r} is not a GUID (the bot's Microsoft App ID)"])
    tabs = dashboard_tabs(base_url, app_id.lower()) if base_url else {}
    if registry is None:
        from dialogs.catalogue import build_registry

        registry = build_registry()
    developer = developer or Developer()
    lists = command_lists(registry)
    problems = _command_problems(lists)
    if problems:
        raise ManifestError(problems)
    values: dict[str, Any] = {
        "APP_ID": app_id.lower(),
        "VERSION": version or app_version(),
        "DEVELOPER_NAME": developer.name,
        "WEBSITE_URL": developer.website,
        "PRIVACY_URL": developer.privacy_url,
        "TERMS_URL": developer.terms_url,
        "ACCENT_COLOR": ACCENT_COLOR,
        "COMMAND_LISTS": lists,
    }
    manifest: dict[str, Any] = _fill(json.loads(TEMPLATE.read_text(encoding="utf-8")), values)
    if not tabs:
        return manifest
    # The tabs go after the bot, as Microsoft's samples order a manifest.
    ordered: dict[str, Any] = {}
    for key, value in manifest.items():
        ordered[key] = tabs.pop(key, value)
        if key == "bots":
            ordered.update({k: v for k, v in tabs.items() if k not in manifest})
    return ordered


def _fill(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, str):
        whole = _PLACEHOLDER.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda found: str(values[found.group(1)]), node)
    return node


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type from a PNG's header chunk."""
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, colour_type


def icon_problems(name: str, data: bytes) -> list[str]:
    """Why Teams would refuse this icon, in words; empty when it is fine."""
    want_width, want_height = ICONS[name]
    try:
        width, height, colour_type = png_size(data)
    except ValueError as error:
        return [f"{name}: {error}"]
    problems = []
    if (width, height) != (want_width, want_height):
        problems.append(f"{name}: {width}x{height} pixels; Teams needs {want_width}x{want_height}")
    if name == "outline.png" and colour_type not in _ALPHA_TYPES:
        problems.append(f"{name}: has no transparency; Teams needs white on transparent")
    return problems


def build_package(
    app_id: str,
    out: Path = DEFAULT_OUT,
    *,
    registry: Registry | None = None,
    developer: Developer | None = None,
    icons_dir: Path = HERE,
    base_url: str | None = None,
) -> Path:
    """Write the app package; raise ManifestError (with every reason) when it can't be."""
    manifest = render_manifest(app_id, registry=registry, developer=developer, base_url=base_url)
    icons: dict[str, bytes] = {}
    problems: list[str] = []
    for name in ICONS:
        path = icons_dir / name
        try:
            icons[name] = path.read_bytes()
        except OSError as error:
            problems.append(f"{name}: cannot be read: {error.strerror or error}")
            continue
        problems += icon_problems(name, icons[name])
    if problems:
        raise ManifestError(problems)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {"manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode()}
    files.update(icons)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name, data in files.items():
            # A fixed date: the same inputs give the same zip, byte for byte.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, data)
    return out
