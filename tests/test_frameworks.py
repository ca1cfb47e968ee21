"""Categorisation frameworks: the presets, framework files, installing on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.directory import add_trust
from storage.frameworks import (
    PRESET_DIR,
    PRESETS,
    FrameworkFileError,
    FrameworkSpec,
    UnknownFramework,
    install_framework,
    load_preset,
    parse_framework_file,
)
from storage.models import Category, Framework, Trust

Sessions = async_sessionmaker[AsyncSession]

FIVE = ["excellence", "refinement", "reinforcement", "recovery", "repair"]
FOUR = ["sustain", "improve", "repair", "stabilise"]


def category(key: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": name or key.title(), "descriptor": f"A {key} school.", **extra}


def spec_data(*keys: str) -> dict[str, Any]:
    return {"key": "custom", "name": "Custom", "categories": [category(key) for key in keys]}


def write(tmp_path: Path, data: Any, name: str = "framework.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


async def new_trust(sessions: Sessions, tenant_id: str = "tenant-a") -> int:
    async with sessions.begin() as session:
        trust = Trust(tenant_id=tenant_id, name=f"Trust {tenant_id}")
        session.add(trust)
        await session.flush()
        return trust.id


async def stored(sessions: Sessions, trust_id: int) -> list[tuple[int, str, int]]:
    """(id, key, rank) of the trust's categories, read back in a fresh session."""
    async with sessions() as session:
        rows = await session.execute(
            select(Category.id, Category.key, Category.rank)
            .join(Framework, Framework.id == Category.framework_id)
            .where(Framework.trust_id == trust_id)
            .order_by(Category.rank)
        )
        return [(id_, key, rank) for id_, key, rank in rows]


# --- the presets -----------------------------------------------------------------------


def test_five_categories_preset() -> None:
    spec = load_preset("five-categories")
    assert [c.key for c in spec.categories] == FIVE
    assert [c.name for c in spec.categories] == [key.title() for key in FIVE]
    assert {c.key for c in spec.categories if c.needs_attention} == {"recovery", "repair"}
    by_key = {c.key: c for c in spec.categories}
    assert "Refinement" in by_key["reinforcement"].improvement_target
    assert "Reinforcement within one year" in by_key["recovery"].improvement_target
    assert "Recovery within one year" in by_key["repair"].improvement_target
    for key in ("recovery", "repair"):
        assert "end of each term" in by_key[key].monitoring


def test_four_phases_preset_lists_the_strongest_phase_first() -> None:
    spec = load_preset("four-phases")
    assert [c.key for c in spec.categories] == FOUR
    assert {c.key for c in spec.categories if c.needs_attention} == {"repair", "stabilise"}
    assert "strongest" in spec.description


@pytest.mark.parametrize("key", PRESETS)
def test_presets_are_complete_and_concise(key: str) -> None:
    spec = parse_framework_file(PRESET_DIR / f"{key}.json")
    assert spec.key == key
    for item in spec.categories:
        assert item.descriptor and item.improvement_target and item.monitoring
        for items in (item.evidence, item.support, item.challenge):
            assert 3 <= len(items) <= 6, (item.key, items)


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(UnknownFramework, match="five-categories"):
        load_preset("six-categories")


# --- framework files -------------------------------------------------------------------


def test_a_framework_file_is_read(tmp_path: Path) -> None:
    data = spec_data("strong", "weak")
    data["categories"][0]["name"] = "Très fort"
    spec = parse_framework_file(write(tmp_path, data))
    assert [c.name for c in spec.categories] == ["Très fort", "Weak"]


def test_a_bad_field_is_named_by_its_path(tmp_path: Path) -> None:
    data = spec_data("a", "b", "c")
    del data["categories"][2]["name"]
    data["categories"][0]["support"] = ["fine", "  "]
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(write(tmp_path, data))
    assert caught.value.problems == [
        "categories.0.support: items must not be blank",
        "categories.2.name: Field required",
    ]
    assert "categories.2.name: Field required" in str(caught.value)
    assert "framework.json" in str(caught.value)


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    data = spec_data("a", "b")
    data["categories"][1]["colour"] = "red"
    with pytest.raises(FrameworkFileError, match=r"categories\.1\.colour: Extra inputs"):
        parse_framework_file(write(tmp_path, data))


def test_duplicate_category_keys_are_rejected(tmp_path: Path) -> None:
    data = {
        "key": "x",
        "name": "X",
        "categories": [category("a", "One"), category("b", "Two"), category("a", "Three")],
    }
    with pytest.raises(ValidationError):
        FrameworkSpec.model_validate(data)
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(write(tmp_path, data))
    assert caught.value.problems == ["categories: duplicate category key 'a'"]


def test_duplicate_category_names_are_rejected() -> None:
    data = {"key": "x", "name": "X", "categories": [category("a", "Same"), category("b", "same")]}
    with pytest.raises(ValidationError, match="duplicate category name 'same'"):
        FrameworkSpec.model_validate(data)


def test_a_file_that_is_not_json_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "framework.json"
    path.write_text('{"key": "x",\n  oops}', encoding="utf-8")
    with pytest.raises(FrameworkFileError, match=r"not JSON.*line 2"):
        parse_framework_file(path)


YAML_FRAMEWORK = """\
key: custom
name: Custom
categories:
  - key: strong
    name: Strong
    descriptor: A strong school.
    support: [Annual standards meeting]
    improvement_target: Stay strong.
  - key: weak
    name: Weak
    descriptor: A weak school.
    improvement_target: Improve to Strong within 1 year.
"""


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_a_yaml_framework_file_is_read(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"framework{suffix}"
    path.write_text(YAML_FRAMEWORK, encoding="utf-8")
    spec = parse_framework_file(path)
    assert [c.key for c in spec.categories] == ["strong", "weak"]
    assert spec.categories[0].support == ["Annual standards meeting"]


def test_a_bad_field_in_yaml_is_named_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "framework.yaml"
    path.write_text(
        YAML_FRAMEWORK.replace("    name: Weak\n", "").replace("key: strong", "key: Strong!"),
        encoding="utf-8",
    )
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(path)
    assert caught.value.problems[0].startswith("categories.0.key: String should match pattern")
    assert caught.value.problems[1] == "categories.1.name: Field required"


def test_a_file_that_is_not_yaml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "framework.yml"
    path.write_text("key: x\ncategories: [a, b\n", encoding="utf-8")
    with pytest.raises(FrameworkFileError, match=r"not YAML: .* at line 3"):
        parse_framework_file(path)


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "framework.txt"
    path.write_text("key: x\n", encoding="utf-8")
    with pytest.raises(FrameworkFileError, match="must be JSON or YAML"):
        parse_framework_file(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FrameworkFileError, match="cannot be read"):
        parse_framework_file(tmp_path / "missing.json")


# --- installing, on both stores --------------------------------------------------------


async def test_installing_a_preset_stores_its_categories_in_order(sessions: Sessions) -> None:
    trust_id = await new_trust(sessions)
    spec = load_preset("five-categories")
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=spec)

    assert [(key, rank) for _, key, rank in await stored(sessions, trust_id)] == [
        (key, rank) for rank, key in enumerate(FIVE, start=1)
    ]
    async with sessions() as session:
        framework = await session.scalar(select(Framework).where(Framework.trust_id == trust_id))
        assert framework is not None
        assert (framework.key, framework.name) == ("five-categories", "Five categories")
        recovery = await session.scalar(
            select(Category).where(
                Category.framework_id == framework.id, Category.key == "recovery"
            )
        )
        assert recovery is not None
        assert recovery.needs_attention
        # JSON list columns come back as the lists that went in.
        assert recovery.support == spec.categories[3].support


async def test_add_trust_installs_the_chosen_preset(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        trust = await add_trust(session, tenant_id="t", name="T", framework_key="four-phases")
    assert [key for _, key, _ in await stored(sessions, trust.id)] == FOUR


async def test_replacing_keeps_the_ids_of_kept_keys_and_deletes_the_rest(
    sessions: Sessions,
) -> None:
    trust_id = await new_trust(sessions)
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=load_preset("five-categories"))
    before = {key: id_ for id_, key, _ in await stored(sessions, trust_id)}

    replacement = FrameworkSpec.model_validate(spec_data("emerging", "refinement", "excellence"))
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=replacement)

    after = await stored(sessions, trust_id)
    assert [(key, rank) for _, key, rank in after] == [
        ("emerging", 1),
        ("refinement", 2),
        ("excellence", 3),
    ]
    ids = {key: id_ for id_, key, _ in after}
    assert ids["excellence"] == before["excellence"]
    assert ids["refinement"] == before["refinement"]
    assert ids["emerging"] not in before.values()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Category)) == 3
        assert await session.scalar(select(func.count()).select_from(Framework)) == 1
        framework = await session.scalar(select(Framework))
        assert framework is not None and framework.key == "custom"


async def test_switching_presets_keeps_the_category_both_share(sessions: Sessions) -> None:
    trust_id = await new_trust(sessions)
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=load_preset("five-categories"))
    repair_before = {key: id_ for id_, key, _ in await stored(sessions, trust_id)}["repair"]
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=load_preset("four-phases"))
    after = await stored(sessions, trust_id)
    assert [key for _, key, _ in after] == FOUR
    assert (repair_before, "repair", 3) in after


async def test_replacing_a_framework_already_in_the_session(sessions: Sessions) -> None:
    """No implicit lazy load, whatever the session already holds (async cannot do one)."""
    trust_id = await new_trust(sessions)
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=load_preset("five-categories"))
        # Same session, collection loaded: the replacement works on it directly.
        await install_framework(session, trust_id=trust_id, spec=load_preset("four-phases"))
    async with sessions.begin() as session:
        # Framework loaded without its categories, then everything expired.
        assert await session.scalar(select(Framework)) is not None
        session.expire_all()
        framework = await install_framework(
            session, trust_id=trust_id, spec=load_preset("five-categories")
        )
        assert [c.key for c in framework.categories] == FIVE
    assert [key for _, key, _ in await stored(sessions, trust_id)] == FIVE


async def test_frameworks_of_two_trusts_are_separate(sessions: Sessions) -> None:
    first, second = await new_trust(sessions, "a"), await new_trust(sessions, "b")
    async with sessions.begin() as session:
        await install_framework(session, trust_id=first, spec=load_preset("five-categories"))
        await install_framework(session, trust_id=second, spec=load_preset("four-phases"))
    async with sessions.begin() as session:
        await install_framework(
            session, trust_id=second, spec=FrameworkSpec.model_validate(spec_data("x", "y"))
        )
    assert [key for _, key, _ in await stored(sessions, first)] == FIVE
    assert [key for _, key, _ in await stored(sessions, second)] == ["x", "y"]


# --- a termly standards review ---------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "termly"),
    [("five-categories", {"recovery", "repair"}), ("four-phases", {"repair", "stabilise"})],
)
def test_the_presets_lower_categories_bring_a_review_every_term(key: str, termly: set[str]) -> None:
    assert {c.key for c in load_preset(key).categories if c.termly_review} == termly


async def test_a_trusts_own_file_says_which_categories_bring_a_termly_review(
    sessions: Sessions, tmp_path: Path
) -> None:
    path = tmp_path / "framework.yaml"
    path.write_text(
        YAML_FRAMEWORK.replace(
            "    improvement_target: Improve to Strong within 1 year.\n",
            "    improvement_target: Improve to Strong within 1 year.\n    termly_review: true\n",
        ),
        encoding="utf-8",
    )
    trust_id = await new_trust(sessions)
    async with sessions.begin() as session:
        await install_framework(session, trust_id=trust_id, spec=parse_framework_file(path))
    async with sessions() as session:
        rows = await session.execute(
            select(Category.key, Category.termly_review).order_by(Category.rank)
        )
        assert [(key, flag) for key, flag in rows] == [("strong", False), ("weak", True)]
    path.write_text(YAML_FRAMEWORK + "    termly_review: sometimes\n", encoding="utf-8")
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(path)
    assert caught.value.problems == [
        "categories.1.termly_review: Input should be a valid boolean, unable to interpret input"
    ]
