"""The `waypoint` command line against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main as waypoint
from storage.engine import Sessions
from storage.models import Person, School, Trust
from tests.support import in_store

TENANT = "33333333-3333-4333-8333-333333333333"


def _count(url: str, model: type[School] | type[Person] | type[Trust]) -> int:
    async def count(sessions: Sessions) -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return in_store(url, count)


def test_add_a_trust_then_import_schools_and_people(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        waypoint(
            [
                "trust",
                "add",
                "--tenant-id",
                TENANT,
                "--name",
                "North Trust",
                "--framework",
                "four-phases",
            ]
        )
        == 0
    )
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "urn,name,phase,hub\n123456,St Mary's Primary,primary,North\n"
        "123457,Brontë Academy,secondary,\n",
        encoding="utf-8",
    )
    assert waypoint(["import", "schools", str(schools), "--tenant-id", TENANT]) == 0
    people = tmp_path / "people.csv"
    people.write_text(
        "aad_object_id,email,display_name,roles,schools,subjects\n"
        "0b5e8a2c-1d3f-4a6b-9c8d-7e6f5a4b3c2d,zoe@north.example,Zoë Brontë,head,123457,\n",
        encoding="utf-8",
    )
    assert waypoint(["import", "people", str(people), "--tenant-id", TENANT]) == 0
    out = capsys.readouterr().out
    assert "added trust 'North Trust'" in out
    assert "schools: 2 created, 0 updated, 0 unchanged" in out
    assert "people: 1 created, 0 updated, 0 unchanged" in out
    # The same file again changes nothing.
    assert waypoint(["import", "schools", str(schools), "--tenant-id", TENANT]) == 0
    assert "schools: 0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert _count(store_env, School) == 2


def test_an_import_with_one_bad_row_names_it_and_writes_nothing(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        waypoint(
            [
                "trust",
                "add",
                "--tenant-id",
                TENANT,
                "--name",
                "North Trust",
                "--framework",
                "five-categories",
            ]
        )
        == 0
    )
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "urn,name,phase,hub\n123456,Oakfield Primary,primary,\n"
        "12x,Bad School,primary,\n123458,Riverside,secondary,\n",
        encoding="utf-8",
    )
    assert waypoint(["import", "schools", str(schools), "--tenant-id", TENANT]) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "line 3:" in err and "line 2:" not in err and "line 4:" not in err
    assert _count(store_env, School) == 0


def test_import_for_an_unknown_trust_or_missing_file_says_so(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schools = tmp_path / "schools.csv"
    schools.write_text("urn,name,phase,hub\n", encoding="utf-8")
    assert waypoint(["import", "schools", str(schools), "--tenant-id", TENANT]) == 1
    assert f"no trust with tenant id {TENANT}" in capsys.readouterr().err
    assert waypoint(["import", "schools", str(tmp_path / "nope.csv"), "--tenant-id", TENANT]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_adding_a_trust_twice_is_refused(
    store_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["trust", "add", "--tenant-id", TENANT, "--name", "T", "--framework", "four-phases"]
    assert waypoint(args) == 0
    assert waypoint(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert _count(store_env, Trust) == 1


def test_demo_loads_once_and_says_so_after(
    store_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert waypoint(["demo", "--if-empty"]) == 0
    assert "loaded the demo trust 'Waypoint Demo Trust'" in capsys.readouterr().out
    assert waypoint(["demo", "--if-empty"]) == 0
    assert "demo not loaded" in capsys.readouterr().out
    assert waypoint(["demo"]) == 1
    assert "loaded already" in capsys.readouterr().err
    assert _count(store_env, School) == 6


def test_coaching_strands_are_set_from_a_file_and_retired_ones_kept(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.models import CoachingStrand

    assert (
        waypoint(
            [
                "trust",
                "add",
                "--tenant-id",
                TENANT,
                "--name",
                "North Trust",
                "--framework",
                "four-phases",
            ]
        )
        == 0
    )
    strands = tmp_path / "strands.txt"
    strands.write_text("# our optimal learning strands\nRetrieval practice\n\nOracy\n", "utf-8")
    assert waypoint(["strands", "set", str(strands), "--tenant-id", TENANT]) == 0
    out = capsys.readouterr().out
    assert "coaching strands: 2 in use" in out
    assert "Modelling" in out  # one of the defaults a new trust starts with, now retired

    async def names(sessions: Sessions) -> list[tuple[str, bool]]:
        async with sessions() as session:
            rows = await session.scalars(
                select(CoachingStrand).order_by(
                    CoachingStrand.active.desc(), CoachingStrand.position
                )
            )
            return [(s.name, s.active) for s in rows]

    # The whole list: the two in use, in the file's order, and every default the trust
    # started with still there, retired (past sessions keep their focus).
    assert in_store(store_env, names) == [
        ("Retrieval practice", True),
        ("Oracy", True),
        ("Explicit vocabulary instruction", False),
        ("Modelling", False),
        ("Checking for understanding", False),
        ("Metacognition", False),
    ]

    duplicate = tmp_path / "dup.txt"
    duplicate.write_text("Oracy\noracy\n", "utf-8")
    assert waypoint(["strands", "set", str(duplicate), "--tenant-id", TENANT]) == 1
    assert "listed twice" in capsys.readouterr().err
