"""A visit programme per academic year, on SQLite and PostgreSQL: visits are numbered
from 1 each September, the trust's entitlement per phase and planned focus per visit
(defaults, or loaded from a file with `waypoint visits programme set`), and the note
of visit's form prefilled with the next number and its planned focus."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import main as waypoint
from storage.csv_rows import ImportRejected
from storage.engine import Sessions
from storage.models import Visit, VisitEntitlement, VisitPlan
from storage.visit_programme import (
    default_entitlement,
    entitlement,
    planned_focus,
    set_visit_programme,
    visit_programme,
)
from tests.improvement import SIA, add_actions, seed_improvement
from tests.support import (
    TENANT,
    Seeded,
    Turns,
    card_text,
    field_error,
    find,
    in_store,
    seed_trust,
)

# A trust's programme as seed 002 plans it: six primary visits, four secondary ones
# (the first and last secondary visits agreed with each school, so no planned focus).
PROGRAMME = """phase,visit,focus
Primary,1,"Safeguarding, attendance, SIP priorities"
primary,2,National data release; early reading
primary,3,Behaviour and reading at KS2
primary,4,Inclusion strategy
primary,5,Curriculum development and personal development
primary,6,Priorities for the coming year
secondary,1,
secondary,2,Disadvantaged pupils
secondary,3,Assessment data shaping provision
secondary,4,
"""
VISIT_1 = "Safeguarding, attendance, SIP priorities"


async def _load(sessions: Sessions, trust_id: int, csv_text: str = PROGRAMME) -> str:
    async with sessions.begin() as session:
        report = await set_visit_programme(session, trust_id=trust_id, csv_text=csv_text)
    return str(report)


async def _stored(sessions: Sessions) -> list[tuple[Any, ...]]:
    """Every programme row, ids included: a re-import must not even renumber them."""
    async with sessions() as session:
        entitled = await session.execute(
            select(
                VisitEntitlement.id,
                VisitEntitlement.trust_id,
                VisitEntitlement.phase,
                VisitEntitlement.visits,
            ).order_by(VisitEntitlement.id)
        )
        plans = await session.execute(
            select(VisitPlan.id, VisitPlan.phase, VisitPlan.number, VisitPlan.focus).order_by(
                VisitPlan.id
            )
        )
        return [*entitled, *plans]


# -- the programme ------------------------------------------------------------------


def test_default_entitlement_is_four_for_a_secondary_and_six_for_any_other_phase() -> None:
    assert default_entitlement("secondary") == 4
    assert {
        phase: default_entitlement(phase)
        for phase in ("primary", "nursery", "all-through", "special", "16 plus")
    } == dict.fromkeys(("primary", "nursery", "all-through", "special", "16 plus"), 6)


async def test_a_trust_that_loaded_nothing_has_the_defaults(sessions: Sessions) -> None:
    seeded = await seed_trust(sessions)
    async with sessions() as session:
        programme = {p.phase: p for p in await visit_programme(session, trust_id=seeded.trust_id)}
        primary = await entitlement(session, trust_id=seeded.trust_id, phase="primary")
        focus = await planned_focus(session, trust_id=seeded.trust_id, phase="primary", number=1)
    assert (programme["secondary"].visits, programme["primary"].visits, primary) == (4, 6, 6)
    assert not any(p.loaded or p.focus for p in programme.values())
    assert focus is None


async def test_a_programme_file_sets_each_phase_and_loading_it_again_changes_nothing(
    sessions: Sessions,
) -> None:
    seeded = await seed_trust(sessions)
    other = await seed_trust(sessions, tenant="33333333-3333-4333-8333-333333333333")
    assert await _load(sessions, seeded.trust_id) == "primary 6 visits, secondary 4 visits"
    first = await _stored(sessions)
    again = await _load(sessions, seeded.trust_id)
    assert again == "primary 6 visits (unchanged), secondary 4 visits (unchanged)"
    assert await _stored(sessions) == first
    async with sessions() as session:
        programme = {p.phase: p for p in await visit_programme(session, trust_id=seeded.trust_id)}
        theirs = await planned_focus(session, trust_id=other.trust_id, phase="primary", number=1)
    assert programme["primary"].focus[1] == VISIT_1
    assert programme["primary"].loaded and programme["secondary"].loaded
    assert sorted(programme["secondary"].focus) == [2, 3]
    # Phases the file leaves out keep the defaults; another trust is untouched.
    assert (programme["special"].visits, programme["special"].loaded) == (6, False)
    assert theirs is None


async def test_a_phase_loaded_again_replaces_only_that_phase(sessions: Sessions) -> None:
    seeded = await seed_trust(sessions)
    await _load(sessions, seeded.trust_id)
    report = await _load(
        sessions,
        seeded.trust_id,
        "phase,visit,focus\nsecondary,1,Behaviour\nsecondary,2,Disadvantaged pupils\n",
    )
    assert report == "secondary 2 visits"
    async with sessions() as session:
        programme = {p.phase: p for p in await visit_programme(session, trust_id=seeded.trust_id)}
    assert (programme["secondary"].visits, programme["secondary"].focus) == (
        2,
        {1: "Behaviour", 2: "Disadvantaged pupils"},
    )
    # Visit 3's planned focus went with the entitlement; the primaries' stayed.
    assert programme["primary"].visits == 6 and programme["primary"].focus[1] == VISIT_1


@pytest.mark.parametrize(
    ("csv_text", "problems"),
    [
        (
            "phase,visit,focus\nprimary,1,A\nprimery,2,B\nprimary,two,C\nprimary,1,D\n",
            [
                "line 3: phase: 'primery' is not a phase",
                "line 4: visit: 'two' is not a visit number (1 to 99)",
                "line 5: visit 1 of primary is already on line 2",
            ],
        ),
        (
            "phase,visit,focus\nsecondary,1,A\nsecondary,3,C\n",
            ["line 3: secondary lists visits up to 3 but not visit 2"],
        ),
        ("phase,visit\nprimary,1\n", ["line 1: missing column 'focus'"]),
        (f"phase,visit,focus\nprimary,1,{'x' * 501}\n", ["line 2: focus is longer than 500"]),
    ],
)
async def test_a_bad_line_is_reported_by_number_and_nothing_is_written(
    sessions: Sessions, csv_text: str, problems: list[str]
) -> None:
    seeded = await seed_trust(sessions)
    await _load(sessions, seeded.trust_id)
    before = await _stored(sessions)
    with pytest.raises(ImportRejected) as rejected:
        await _load(sessions, seeded.trust_id, csv_text)
    said = str(rejected.value)
    for problem in problems:
        assert problem in said, said
    assert len(rejected.value.errors) == len(problems)
    assert await _stored(sessions) == before


def test_the_programme_is_set_and_shown_from_the_command_line(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_store(store_env, seed_trust)
    file = tmp_path / "programme.csv"
    file.write_text(PROGRAMME, encoding="utf-8")
    set_it = ["visits", "programme", "set", str(file), "--tenant-id", TENANT]
    assert waypoint(set_it) == 0
    assert capsys.readouterr().out == (
        "visit programme set for 'Test Trust': primary 6 visits, secondary 4 visits\n"
    )
    assert waypoint(set_it) == 0
    assert "primary 6 visits (unchanged), secondary 4 visits (unchanged)" in (
        capsys.readouterr().out
    )

    # One bad line: named by its number, and nothing changes.
    file.write_text(PROGRAMME.replace("primary,3,", "primary,3a,"), encoding="utf-8")
    assert waypoint(set_it) == 1
    err = capsys.readouterr().err
    assert f"{file}: nothing changed" in err
    assert "line 4: visit: '3a' is not a visit number (1 to 99)" in err

    assert waypoint(["visits", "programme", "show", "--tenant-id", TENANT]) == 0
    shown = capsys.readouterr().out
    assert "primary: 6 visits a year (loaded)" in shown
    assert f"  visit 1: {VISIT_1}" in shown
    assert "  visit 3: Behaviour and reading at KS2" in shown
    assert "secondary: 4 visits a year (loaded)" in shown
    assert "  visit 4: no planned focus" in shown
    assert "special: 6 visits a year (default)" in shown


def test_an_unknown_tenant_is_refused(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "programme.csv"
    file.write_text(PROGRAMME, encoding="utf-8")
    assert waypoint(["visits", "programme", "set", str(file), "--tenant-id", TENANT]) == 1
    assert f"no trust with tenant id {TENANT}" in capsys.readouterr().err


# -- the note of visit's form, prefilled ---------------------------------------------


async def _a_year_of_visits(sessions: Sessions) -> Seeded:
    """Oakfield Primary's six visits of 2025-26, numbered 1 to 6, and the programme."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await _load(sessions, seeded.trust_id)
    for number in range(1, 7):
        await add_actions(
            sessions, seeded, "100001", [f"Step {number}"], due_on=date(2026, 7, 1), number=number
        )
    return seeded


def _input(card: dict[str, Any], name: str) -> Any:
    return find(card, id=name)[0].get("value")


async def test_the_first_visit_of_a_new_academic_year_is_visit_1_with_its_planned_focus(
    sessions: Sessions,
) -> None:
    await _a_year_of_visits(sessions)
    # 2 September 2026: the first school week of 2026-27.
    turns = Turns(sessions, now=datetime(2026, 9, 2, 9, tzinfo=UTC))
    form = (await turns.say("visit", SIA)).card
    assert form is not None
    assert _input(form, "number") == 1
    assert _input(form, "focus") == VISIT_1
    assert "0 of 6 visits recorded in 2026-27." in card_text(form)

    saved = await turns.submit(form, SIA, next_steps="Review the SIP")
    assert saved.card is not None and "Note of visit saved" in card_text(saved.card)
    async with sessions() as session:
        newest = await session.scalar(select(Visit).order_by(Visit.id.desc()).limit(1))
    assert newest is not None
    assert (newest.number, newest.academic_year, newest.focus) == (1, "2026-27", VISIT_1)

    # The next card: visit 2 and its planned focus. The adviser changes both.
    form = (await turns.say("visit", SIA)).card
    assert form is not None
    assert (_input(form, "number"), _input(form, "focus")) == (
        2,
        "National data release; early reading",
    )
    assert "1 of 6 visits recorded in 2026-27." in card_text(form)
    await turns.submit(form, SIA, number="3", focus="Attendance of disadvantaged pupils")
    async with sessions() as session:
        latest = await session.scalar(select(Visit).order_by(Visit.id.desc()).limit(1))
    assert latest is not None
    assert (latest.number, latest.focus) == (3, "Attendance of disadvantaged pupils")


async def test_a_number_taken_this_year_comes_back_under_the_field(sessions: Sessions) -> None:
    await _a_year_of_visits(sessions)
    turns = Turns(sessions, now=datetime(2026, 9, 2, 9, tzinfo=UTC))
    form = (await turns.say("visit", SIA)).card
    assert form is not None
    await turns.submit(form, SIA)
    # Visit 1 of 2025-26 is no obstacle; visit 1 of 2026-27 now is.
    again = (await turns.say("visit", SIA)).card
    assert again is not None
    answer = (await turns.submit(again, SIA, number="1")).card
    assert answer is not None
    assert field_error(answer, "number") == (
        "Visit 1 of 2026-27 is recorded already; give the next number."
    )
    assert _input(answer, "focus") == "National data release; early reading"
    async with sessions() as session:
        years = (await session.execute(select(Visit.academic_year, Visit.number))).all()
    assert sorted(years) == [("2025-26", n) for n in range(1, 7)] + [("2026-27", 1)]


async def test_beyond_the_entitlement_no_focus_is_planned(sessions: Sessions) -> None:
    await _a_year_of_visits(sessions)
    # 31 August 2026 is still 2025-26: a seventh visit has no planned focus.
    turns = Turns(sessions, now=datetime(2026, 8, 31, 9, tzinfo=UTC))
    form = (await turns.say("visit", SIA)).card
    assert form is not None
    assert (_input(form, "number"), _input(form, "focus")) == (7, "")
    assert "6 of 6 visits recorded in 2025-26." in card_text(form)
