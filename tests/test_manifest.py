"""The Teams app package: Microsoft's schema, icons Teams accepts, commands in step."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.settings import Settings
from dialogs.catalogue import build_registry
from dialogs.matcher import Matched
from dialogs.turn import Reply, Turn
from manifest import icons
from manifest.build import (
    MAX_COMMANDS,
    ManifestError,
    build_package,
    command_lists,
    command_title,
    ranked_commands,
    render_manifest,
)
from tests.official import schema_validator
from tests.teams_package import package_problems, rgba_pixels

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


async def _answer(turn: Turn) -> Reply:
    return Reply(text="")


def _build(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "waypoint.zip"
    assert main(["manifest", "build", "--app-id", APP_ID, "--out", str(out), *extra]) == 0
    return out


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _png(
    size: tuple[int, int], mode: str = "RGBA", colour: tuple[int, ...] = (0, 0, 0, 0)
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _package_files(tmp_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(_build(tmp_path)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_cli_writes_a_flat_zip_that_passes_microsofts_schema(tmp_path: Path) -> None:
    package = _build(tmp_path)
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert package_problems(package) == []
    assert manifest["id"] == APP_ID
    assert float(manifest["manifestVersion"]) >= 1.24
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert sorted(s for entry in bot["commandLists"] for s in entry["scopes"]) == sorted(
        bot["scopes"]
    )


def test_the_package_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = build_package(APP_ID, tmp_path / "one.zip").read_bytes()
    second = build_package(APP_ID, tmp_path / "two.zip").read_bytes()
    assert first == second


def test_developer_and_website_are_the_trusts_own(tmp_path: Path) -> None:
    package = _build(tmp_path, "--developer", "Oak Trust", "--website", "https://oak.example.org")
    with zipfile.ZipFile(package) as archive:
        developer = json.loads(archive.read("manifest.json"))["developer"]
    assert developer == {
        "name": "Oak Trust",
        "websiteUrl": "https://oak.example.org",
        "privacyUrl": "https://oak.example.org/privacy",
        "termsOfUseUrl": "https://oak.example.org/terms",
    }
    assert package_problems(package) == []


def test_the_dashboard_tabs_and_their_sign_on_pass_microsofts_schema(tmp_path: Path) -> None:
    package = _build(tmp_path, "--base-url", "https://waypoint.oak.example.org")
    assert package_problems(package) == []
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    conversations, dashboard = manifest["staticTabs"]
    assert conversations == {"entityId": "conversations", "scopes": ["personal"]}
    assert dashboard == {
        "entityId": "dashboard",
        "name": "Dashboard",
        "contentUrl": "https://waypoint.oak.example.org/dashboard/tab",
        "websiteUrl": "https://waypoint.oak.example.org/dashboard/tab",
        "scopes": ["personal"],
    }
    (team_tab,) = manifest["configurableTabs"]
    assert team_tab == {
        "configurationUrl": "https://waypoint.oak.example.org/dashboard/configure",
        "canUpdateConfiguration": True,
        "scopes": ["team", "groupChat"],
    }
    # The resource is the application ID URI the app registration exposes, and what
    # Waypoint accepts as a token's audience (bot/settings.py sso_audiences).
    assert manifest["webApplicationInfo"] == {
        "id": APP_ID,
        "resource": f"api://waypoint.oak.example.org/{APP_ID}",
    }
    assert Settings(
        _env_file=None, app_id=APP_ID, public_url="https://waypoint.oak.example.org"
    ).sso_audiences == {APP_ID, manifest["webApplicationInfo"]["resource"]}
    assert manifest["validDomains"] == ["waypoint.oak.example.org"]


def test_without_a_base_url_the_package_is_the_bot_alone(tmp_path: Path) -> None:
    with zipfile.ZipFile(_build(tmp_path)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert not {"staticTabs", "configurableTabs", "webApplicationInfo"} & set(manifest)


@pytest.mark.parametrize(
    "base_url",
    ["http://waypoint.example.org", "https://waypoint.example.org/bot", "waypoint.example.org"],
)
def test_a_base_url_teams_cannot_load_tabs_from_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], base_url: str
) -> None:
    out = tmp_path / "waypoint.zip"
    args = ["manifest", "build", "--app-id", APP_ID, "--out", str(out), "--base-url", base_url]
    assert main(args) == 1
    assert "is not an https address without a path" in capsys.readouterr().err
    assert not out.exists()


def test_a_bad_app_id_is_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "waypoint.zip"
    assert main(["manifest", "build", "--app-id", "my-bot", "--out", str(out)]) == 1
    assert "app id 'my-bot' is not a GUID" in capsys.readouterr().err
    assert not out.exists()


# -- commands ----------------------------------------------------------------------


def test_command_lists_come_from_the_registry_most_useful_first() -> None:
    registry = build_registry()
    lists = {entry["scopes"][0]: entry["commands"] for entry in command_lists(registry)}
    ranked = ranked_commands(registry)
    assert [c["title"] for c in lists["personal"]][:4] == [
        "help",
        "log coaching",
        "my coaching",
        "my actions",
    ]
    assert [c["title"] for c in lists["personal"]] == [
        command_title(c) for c in ranked[:MAX_COMMANDS]
    ]
    for scope in ("team", "groupChat"):
        assert [c["title"] for c in lists[scope]] == [
            command_title(c) for c in ranked if not c.private
        ][:MAX_COMMANDS]
    # Typing a menu entry runs that command: the manifest and the dialogs agree.
    by_title = {command_title(c): c for c in ranked}
    for entries in lists.values():
        for entry in entries:
            match = registry.match(entry["title"])
            assert isinstance(match, Matched), entry
            assert match.command is by_title[entry["title"]]
            assert entry["description"].startswith(match.command.summary.rstrip("."))


def test_private_commands_stay_out_of_channels_and_group_chats() -> None:
    lists = {e["scopes"][0]: e["commands"] for e in command_lists(build_registry())}
    for scope in ("team", "groupChat"):
        titles = {c["title"] for c in lists[scope]}
        # Only the answers without private data: help (the home card, without counts in
        # a room), the list of commands, a school's category, coverage counts.
        assert titles == {"help", "all commands", "category", "coaching coverage"}, scope
    assert {"log coaching", "my coaching", "submit qa", "concerns", "my actions"} <= {
        c["title"] for c in lists["personal"]
    }


def test_a_new_private_command_is_offered_in_personal_chat_only() -> None:
    registry = build_registry()
    registry.command(
        "pupil_lookup",
        title="Pupil lookup",
        summary="A pupil's record",
        phrases=("pupil",),
        private=True,
    )(_answer)
    registry.command(
        "term_dates",
        title="Term dates",
        summary="This year's terms",
        phrases=("terms",),
        private=False,
    )(_answer)
    listed = {e["scopes"][0]: {c["title"] for c in e["commands"]} for e in command_lists(registry)}
    for scope in ("team", "groupChat"):
        assert "terms" in listed[scope] and "pupil" not in listed[scope]


# -- icons -------------------------------------------------------------------------


def test_committed_icons_are_what_the_generator_draws() -> None:
    for name, pixels in (
        ("color.png", icons.color_pixels()),
        ("outline.png", icons.outline_pixels()),
    ):
        with Image.open(Path(icons.__file__).parent / name) as image:
            assert image.mode == "RGBA"
            drawn = [tuple(p) for row in pixels for p in row]
            assert rgba_pixels(image) == drawn, f"{name}: run python -m manifest.icons"


def test_icons_are_the_sizes_and_colours_teams_needs(tmp_path: Path) -> None:
    files = _package_files(tmp_path)
    with Image.open(io.BytesIO(files["color.png"])) as color:
        assert color.size == (192, 192)
    with Image.open(io.BytesIO(files["outline.png"])) as outline:
        assert outline.size == (32, 32)
        alphas = [a for *_, a in rgba_pixels(outline)]
        assert alphas[0] == 0 and max(alphas) == 255


# -- broken packages fail, and say why ---------------------------------------------


def test_a_manifest_without_a_required_field_fails_with_its_name(tmp_path: Path) -> None:
    files = _package_files(tmp_path)
    manifest = json.loads(files["manifest.json"])
    del manifest["developer"]
    manifest["bots"][0]["botId"] = "not-a-guid"
    files["manifest.json"] = json.dumps(manifest).encode()
    problems = package_problems(_zip(files))
    assert "manifest.json: (top level): 'developer' is a required property" in problems
    assert any(
        p.startswith("manifest.json: bots[0].botId: 'not-a-guid' does not match") for p in problems
    )


def test_icons_of_the_wrong_size_or_without_transparency_fail(tmp_path: Path) -> None:
    files = _package_files(tmp_path)
    files["color.png"] = _png((100, 100), "RGB", (22, 105, 122))
    files["outline.png"] = _png((32, 32), "RGB", (255, 255, 255))
    assert package_problems(_zip(files)) == [
        "color.png: 100x100 pixels; Teams needs 192x192",
        "color.png: a single flat colour; Teams shows the app's symbol here",
        "outline.png: has no transparency; Teams needs white on transparent",
    ]
    files["outline.png"] = _png((48, 48), "RGBA", (255, 0, 0, 255))
    assert package_problems(_zip(files)) == [
        "color.png: 100x100 pixels; Teams needs 192x192",
        "color.png: a single flat colour; Teams shows the app's symbol here",
        "outline.png: 48x48 pixels; Teams needs 32x32",
        "outline.png: has pixels that are not white; Teams needs white on transparent",
        "outline.png: its background is not transparent",
    ]


def test_a_package_with_folders_or_missing_icons_fails(tmp_path: Path) -> None:
    files = _package_files(tmp_path)
    nested = {f"waypoint/{name}": data for name, data in files.items()}
    assert "manifest.json: missing from the zip's root" in package_problems(_zip(nested))
    del files["outline.png"]
    assert package_problems(_zip(files)) == [
        "outline.png: the manifest's outline icon is missing from the zip"
    ]


def test_the_builder_refuses_a_bad_icon_with_every_reason(tmp_path: Path) -> None:
    icons_dir = tmp_path / "icons"
    icons_dir.mkdir()
    (icons_dir / "color.png").write_bytes(_png((64, 64), "RGB", (1, 2, 3)))
    (icons_dir / "outline.png").write_bytes(_png((32, 32), "RGB", (255, 255, 255)))
    with pytest.raises(ManifestError) as caught:
        build_package(APP_ID, tmp_path / "out.zip", icons_dir=icons_dir)
    assert caught.value.problems == [
        "color.png: 64x64 pixels; Teams needs 192x192",
        "outline.png: has no transparency; Teams needs white on transparent",
    ]
    assert not (tmp_path / "out.zip").exists()


def test_the_manifest_template_fills_every_placeholder() -> None:
    text = json.dumps(render_manifest(str(uuid.uuid4())))
    assert "${{" not in text


def test_patterns_written_for_javascript_are_honoured() -> None:
    # The Teams schema's `\p{L}` patterns: Python's re cannot compile them.
    validator = schema_validator(
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "properties": {"name": {"pattern": "^[\\p{L}][\\p{L}0-9._]*$"}},
        }
    )
    assert validator.is_valid({"name": "Größe_1"})
    assert not validator.is_valid({"name": "1Größe"})
