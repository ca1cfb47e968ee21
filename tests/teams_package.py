"""What Teams checks when an app package is uploaded, as a list of readable reasons.

Independent of manifest/build.py: it reads the zip as Teams would, validates
manifest.json against Microsoft's schema for its manifestVersion, and decodes the
icons with Pillow.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from tests.official import schema_problems, teams_manifest_validator

COLOR_SIZE = (192, 192)
OUTLINE_SIZE = (32, 32)
MAX_COMMANDS_SHOWN = 10


def package_problems(package: Path | bytes) -> list[str]:
    source = io.BytesIO(package) if isinstance(package, bytes) else package
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        return ["the package is not a zip file"]
    with archive:
        names = archive.namelist()
        problems = [f"{name}: not at the zip's root" for name in names if "/" in name]
        if "manifest.json" not in names:
            return [*problems, "manifest.json: missing from the zip's root"]
        try:
            manifest = json.loads(archive.read("manifest.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return [*problems, f"manifest.json: not JSON: {error}"]
        problems += manifest_problems(manifest)
        icons = manifest.get("icons") if isinstance(manifest.get("icons"), dict) else {}
        for kind, check in (("color", color_icon_problems), ("outline", outline_icon_problems)):
            name = icons.get(kind)
            if not isinstance(name, str):
                continue
            if name not in names:
                problems.append(f"{name}: the manifest's {kind} icon is missing from the zip")
                continue
            problems += [f"{name}: {p}" for p in check(archive.read(name))]
    return problems


def manifest_problems(manifest: Any) -> list[str]:
    if not isinstance(manifest, dict):
        return ["manifest.json: not a JSON object"]
    version = manifest.get("manifestVersion")
    if not isinstance(version, str):
        return ["manifest.json: manifestVersion is missing"]
    validator = teams_manifest_validator(version)
    problems = [f"manifest.json: {p}" for p in schema_problems(validator, manifest)]
    # Beyond the schema (which allows 12): Teams clients show 10 commands per scope,
    # and mobile clients offer only what a scope's list names.
    for bot in manifest.get("bots") or []:
        listed: set[str] = set()
        for entry in bot.get("commandLists") or []:
            listed.update(entry.get("scopes") or [])
            count = len(entry.get("commands") or [])
            if count > MAX_COMMANDS_SHOWN:
                problems.append(
                    f"manifest.json: bot commands for {entry.get('scopes')}: {count}; "
                    f"Teams shows {MAX_COMMANDS_SHOWN}"
                )
        for scope in bot.get("scopes") or []:
            if scope not in listed:
                problems.append(f"manifest.json: the bot has no command list for scope {scope}")
    return problems


def _image(data: bytes) -> Image.Image | str:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        return f"not an image: {error}"
    if image.format != "PNG":
        return f"a {image.format} image; Teams needs PNG"
    return image


def color_icon_problems(data: bytes) -> list[str]:
    image = _image(data)
    if isinstance(image, str):
        return [image]
    problems = []
    if image.size != COLOR_SIZE:
        problems.append(_size_problem(image.size, COLOR_SIZE))
    colours = image.convert("RGBA").getcolors(maxcolors=1 << 16)
    if colours is not None and len(colours) < 2:
        problems.append("a single flat colour; Teams shows the app's symbol here")
    return problems


def outline_icon_problems(data: bytes) -> list[str]:
    image = _image(data)
    if isinstance(image, str):
        return [image]
    problems = []
    if image.size != OUTLINE_SIZE:
        problems.append(_size_problem(image.size, OUTLINE_SIZE))
    if "A" not in image.getbands() and "transparency" not in image.info:
        return [*problems, "has no transparency; Teams needs white on transparent"]
    pixels = rgba_pixels(image)
    visible = [p for p in pixels if p[3] > 0]
    if not visible:
        problems.append("fully transparent; nothing would show")
    if any(p[:3] != (255, 255, 255) for p in visible):
        problems.append("has pixels that are not white; Teams needs white on transparent")
    transparent = sum(1 for p in pixels if p[3] == 0)
    if transparent < len(pixels) // 4:
        problems.append("its background is not transparent")
    return problems


def rgba_pixels(image: Image.Image) -> list[tuple[int, int, int, int]]:
    data = image.convert("RGBA").tobytes()
    return [(data[i], data[i + 1], data[i + 2], data[i + 3]) for i in range(0, len(data), 4)]


def _size_problem(size: tuple[int, int], wanted: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]} pixels; Teams needs {wanted[0]}x{wanted[1]}"
