"""Categorisation frameworks: a trust's own data, validated, installed from presets or files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Category, Framework

PRESET_DIR = Path(__file__).parent / "presets"
PRESETS = ("five-categories", "four-phases")

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")
FRAMEWORK_FILE_SUFFIXES = JSON_SUFFIXES + YAML_SUFFIXES


class CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=100)
    descriptor: str = Field(min_length=1, max_length=4000)
    evidence: list[str] = Field(default_factory=list)
    support: list[str] = Field(default_factory=list)
    challenge: list[str] = Field(default_factory=list)
    improvement_target: str = Field(default="", max_length=1000)
    monitoring: str = Field(default="", max_length=1000)
    # Schools in this category come first in digests.
    needs_attention: bool = False
    # Schools in this category get a standards review every term (trust leads are
    # reminded before each term ends).
    termly_review: bool = False

    @field_validator("evidence", "support", "challenge")
    @classmethod
    def _no_blank_items(cls, items: list[str]) -> list[str]:
        cleaned = [item.strip() for item in items]
        if any(not item for item in cleaned):
            raise ValueError("items must not be blank")
        return cleaned


class FrameworkSpec(BaseModel):
    """A framework file: categories listed from the strongest position to the weakest."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    categories: list[CategorySpec] = Field(min_length=2, max_length=12)

    # A field validator rather than a model validator, so that the error is reported
    # against "categories" and a framework file's author knows where to look.
    @field_validator("categories")
    @classmethod
    def _unique_categories(cls, categories: list[CategorySpec]) -> list[CategorySpec]:
        problems = []
        keys = _repeated((c.key, c.key) for c in categories)
        if keys:
            problems.append(f"duplicate category key {', '.join(map(repr, keys))}")
        names = _repeated((c.name.casefold(), c.name) for c in categories)
        if names:
            problems.append(f"duplicate category name {', '.join(map(repr, names))}")
        if problems:
            raise ValueError("; ".join(problems))
        return categories


def _repeated(items: Iterable[tuple[str, str]]) -> list[str]:
    """Of (comparison key, value as written) pairs, the values whose key came before."""
    seen: set[str] = set()
    repeated: dict[str, str] = {}
    for compared, written in items:
        if compared in seen:
            repeated.setdefault(compared, written)
        seen.add(compared)
    return list(repeated.values())


class UnknownFramework(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"unknown framework {key!r}; choose one of: {', '.join(PRESETS)}")


class FrameworkFileError(ValueError):
    """A framework file that cannot be used; `problems` names each bad field by its path."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(
            f"{path.name} is not a valid framework file:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(file)"


def _problems(error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors():
        message = detail["msg"]
        # Pydantic prefixes our own ValueErrors; the field path already says enough.
        message = message.removeprefix("Value error, ")
        problems.append(f"{_field_path(detail['loc'])}: {message}")
    return problems


def parse_framework_file(path: Path) -> FrameworkSpec:
    """Read and validate a JSON or YAML framework file.

    Raises FrameworkFileError for a file that is missing, cannot be parsed or does
    not describe a valid framework.
    """
    suffix = path.suffix.lower()
    if suffix not in FRAMEWORK_FILE_SUFFIXES:
        raise FrameworkFileError(
            path,
            [f"(file): framework files must be JSON or YAML ({suffix or 'no'} suffix given)"],
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise FrameworkFileError(path, [f"(file): cannot be read: {error}"]) from error
    data = _load_yaml(path, text) if suffix in YAML_SUFFIXES else _load_json(path, text)
    try:
        return FrameworkSpec.model_validate(data)
    except ValidationError as error:
        raise FrameworkFileError(path, _problems(error)) from error


def _load_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FrameworkFileError(
            path, [f"(file): not JSON: {error.msg} at line {error.lineno}, column {error.colno}"]
        ) from error


def _load_yaml(path: Path, text: str) -> Any:
    # safe_load: a framework file is data; it must never construct Python objects.
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = ""
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise FrameworkFileError(path, [f"(file): not YAML: {problem}{where}"]) from error


def load_preset(key: str) -> FrameworkSpec:
    if key not in PRESETS:
        raise UnknownFramework(key)
    return parse_framework_file(PRESET_DIR / f"{key}.json")


async def install_framework(
    session: AsyncSession, *, trust_id: int, spec: FrameworkSpec
) -> Framework:
    """Make `spec` the trust's framework, replacing its categories.

    A category whose key stays keeps its row (and id), so whatever refers to it
    survives a change of wording; a category whose key is gone is deleted.
    """
    # The categories must be loaded here: replacing an unloaded collection would
    # lazy-load it to find the orphans, which AsyncSession cannot do implicitly.
    # selectinload also fills the collection of a framework already in the session.
    framework = await session.scalar(
        select(Framework)
        .where(Framework.trust_id == trust_id)
        .options(selectinload(Framework.categories))
    )
    if framework is None:
        framework = Framework(trust_id=trust_id, categories=[])
        session.add(framework)
    framework.key = spec.key
    framework.name = spec.name
    framework.description = spec.description
    existing = {category.key: category for category in framework.categories}
    kept: list[Category] = []
    for rank, item in enumerate(spec.categories, start=1):
        category = existing.get(item.key) or Category(key=item.key)
        category.name = item.name
        category.rank = rank
        category.descriptor = item.descriptor
        category.evidence = list(item.evidence)
        category.support = list(item.support)
        category.challenge = list(item.challenge)
        category.improvement_target = item.improvement_target
        category.monitoring = item.monitoring
        category.needs_attention = item.needs_attention
        category.termly_review = item.termly_review
        kept.append(category)
    # Categories left out of `kept` are orphans, deleted at flush (delete-orphan).
    framework.categories = kept
    await session.flush()
    return framework
