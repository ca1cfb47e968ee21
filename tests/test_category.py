"""`category [school]` and `categorise` over HTTP, the register in storage, and
`waypoint framework set`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main as waypoint
from bot.settings import Settings
from storage.categories import (
    FrameworkInUse,
    categorisation_history,
    current_categorisations,
    improvement_target_date,
    record_categorisation,
    replace_framework,
    school_category,
)
from storage.engine import Sessions
from storage.frameworks import FrameworkSpec, load_preset
from storage.models import AuditEvent, Category, SchoolCategorisation
from tests.improvement import OTHER_HEAD, SIA, seed_improvement
from tests.support import (
    HEAD,
    OTHER_TENANT,
    SUBJECT_LEAD,
    TEACHER,
    TENANT,
    TRUST_LEAD,
    Seeded,
    add_school,
    card_text,
    cards_in,
    field_error,
    find,
    in_store,
    loopback_connector,
    message,
    only_card,
    seed_trust,
    serve,
    stored_rows,
    submit_data,
    texts,
)

SETTINGS = Settings(_env_file=None)


async def categorise(
    sessions: Sessions, seeded: Seeded, urn: str, key: str, decided_on: date, form_id: str
) -> None:
    async with sessions.begin() as session:
        await record_categorisation(
            session,
            trust_id=seeded.trust_id,
            school_id=seeded.school_ids[urn],
            category_key=key,
            decided_on=decided_on,
            attendees="Head, chair, DE",
            rationale="Agreed",
            recorded_by=None,
            form_id=form_id,
        )


# --- the improvement target's date ---------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("Improve to Refinement within 12 to 18 months.", date(2027, 3, 10)),
        ("Improve to Refinement within 12–18 months", date(2027, 3, 10)),
        ("Improve to Refinement within 1 year – 18 months", date(2027, 3, 10)),
        ("Improve to Reinforcement within one year.", date(2026, 9, 10)),
        ("Improve to Recovery within 1 year", date(2026, 9, 10)),
        ("Review within eighteen months", date(2027, 3, 10)),
        ("Move to Excellence.", None),
        ("", None),
    ],
)
def test_improvement_target_date(target: str, expected: date | None) -> None:
    assert improvement_target_date(target, date(2025, 9, 10)) == expected


def test_a_target_date_at_a_month_end_stays_in_its_month() -> None:
    assert improvement_target_date("within 1 year", date(2024, 2, 29)) == date(2025, 2, 28)


# --- categorise, then read back, over HTTP ---------------------------------------------


def _form_values(card: dict[str, Any], **inputs: str) -> dict[str, Any]:
    return {**submit_data(card), **inputs}


async def test_categorise_then_read_back_with_history_and_the_head_is_told(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    oakfield = seeded.school_ids["100001"]
    async with (
        loopback_connector() as connector,
        serve(engine, sessions, settings=SETTINGS) as world,
    ):
        # The head has Waypoint installed: the notice has somewhere to go.
        install = message("", user=HEAD, service_url=connector.url)
        install.pop("text")
        install.update(type="installationUpdate", action="add")
        assert (await world.post(install)).status in (200, 201)
        await world.waypoint.notifier.drain()
        connector.posted.clear()

        form = only_card(await world.say("categorise oakfeld", TRUST_LEAD))
        assert "Record a categorisation" in card_text(form)
        [school_input] = find(form, id="school_id")
        assert school_input["value"] == str(oakfield)
        assert [c["value"] for c in find(form, id="category")[0]["choices"]] == [
            "excellence",
            "refinement",
            "reinforcement",
            "recovery",
            "repair",
        ]
        first = _form_values(
            form,
            school_id=str(oakfield),
            category="reinforcement",
            decided_on="2025-07-10",
            attendees="Hana Head, Chair of Governors, Director of Education",
            rationale="Secure leadership; reading not yet good enough.",
        )
        confirmed = only_card(await world.submit(first, TRUST_LEAD))
        shown = card_text(confirmed)
        assert "Categorisation recorded" in shown
        assert "Reinforcement" in shown and "10 July 2025" in shown
        assert "First categorised as Reinforcement on 10 July 2025" in shown
        # "within 12 to 18 months" from 10 July 2025.
        assert "10 January 2027" in shown
        # A double click stores once and notifies once.
        again = only_card(await world.submit(first, TRUST_LEAD))
        assert "Reinforcement" in card_text(again)

        form = only_card(await world.say("categorise", TRUST_LEAD))
        second = _form_values(
            form,
            school_id=str(oakfield),
            category="recovery",
            decided_on="2026-07-09",
            attendees="Hana Head, Director of Education",
            rationale="Outcomes fell; attendance low.",
        )
        only_card(await world.submit(second, TRUST_LEAD))
        await world.waypoint.notifier.drain()

        # The head reads it back: category, since when, what it brings, the last change.
        card = only_card(await world.say("what's our category", HEAD))
        shown = card_text(card)
        assert "Oakfield Primary" in shown and "Recovery" in shown
        assert "9 July 2026" in shown
        assert "Reinforcement → Recovery on 9 July 2026" in shown
        assert "Support it brings" in shown and "Challenge it brings" in shown
        assert "Improve to Reinforcement within one year." in shown
        assert "9 July 2027" in shown
        assert "end of each term" in shown
        assert len(json.dumps(card)) < 28_000

    notices = [p["activity"] for p in connector.posted]
    assert len(notices) == 2, "one notice per categorisation, none for the double click"
    latest = card_text(cards_in(notices)[-1])
    assert "Oakfield Primary's category has been updated" in latest
    assert "Reinforcement → Recovery" in latest
    assert "Support it brings" in latest and "Improve to Reinforcement" in latest

    async with sessions() as session:
        history = await categorisation_history(
            session, trust_id=seeded.trust_id, school_id=oakfield
        )
    assert [(c.category_name, c.decided_on) for c in history] == [
        ("Recovery", date(2026, 7, 9)),
        ("Reinforcement", date(2025, 7, 10)),
    ]
    assert history[0].attendees == "Hana Head, Director of Education"
    assert history[0].recorded_by == seeded.person_ids[TRUST_LEAD]


async def test_an_invalid_categorisation_comes_back_with_values_and_errors(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    before = await stored_rows(sessions)
    async with serve(engine, sessions, settings=SETTINGS) as world:
        form = only_card(await world.say("categorise", TRUST_LEAD))
        values = _form_values(
            form,
            school_id=str(seeded.school_ids["100002"]),
            category="",
            decided_on="2999-01-01",
            attendees="Mo Head",
            rationale="  ",
        )
        again = only_card(await world.submit(values, TRUST_LEAD))
    for field, message_text in (
        ("category", "Choose a category."),
        ("decided_on", "can't be in the future"),
        ("rationale", "Give the reasons"),
    ):
        error = field_error(again, field)
        assert error is not None and message_text in error, field
    assert find(again, id="attendees")[0]["value"] == "Mo Head"
    assert find(again, id="school_id")[0]["value"] == str(seeded.school_ids["100002"])
    assert submit_data(again)["form_id"] == submit_data(form)["form_id"]
    assert await stored_rows(sessions) == before


async def test_only_trust_leads_categorise(engine: AsyncEngine, sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    async with serve(engine, sessions, settings=SETTINGS) as world:
        refused = await world.say("categorise", HEAD)
        forged = await world.submit(
            {
                "verb": "categorise.save",
                "form_id": "f" * 32,
                "school_id": str(seeded.school_ids["100001"]),
                "category": "excellence",
                "decided_on": "2025-07-01",
                "attendees": "me",
                "rationale": "me",
            },
            HEAD,
        )
    assert "You don't have access to Categorise" in texts(refused)
    assert "You don't have access" in texts(forged)
    async with sessions() as session:
        assert (await session.scalars(select(SchoolCategorisation))).all() == []


# --- who sees which category -----------------------------------------------------------


async def test_a_teacher_reads_their_own_category_and_is_refused_another(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await categorise(sessions, seeded, "100001", "refinement", date(2025, 7, 1), "a" * 32)
    await categorise(sessions, seeded, "100002", "repair", date(2025, 7, 2), "b" * 32)
    async with serve(engine, sessions, settings=SETTINGS) as world:
        own = card_text(only_card(await world.say("category", TEACHER)))
        by_name = card_text(only_card(await world.say("category oakfield", TEACHER)))
        before = await stored_rows(sessions)
        other = await world.say("category st marys", TEACHER)
        after = await stored_rows(sessions)
    assert "Oakfield Primary" in own and "Refinement" in own and "1 July 2025" in own
    assert "Refinement" in by_name
    assert texts(other) == "You don't have access to St Mary's C of E's category."
    assert cards_in(other) == []
    assert after == {**before, "audit_event": before["audit_event"] + 1}
    async with sessions() as session:
        event = await session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None
    assert (event.action, event.outcome, event.school_id, event.person_id) == (
        "category.view",
        "refused",
        seeded.school_ids["100002"],
        seeded.person_ids[TEACHER],
    )


async def test_trust_leads_see_any_school_and_a_school_without_a_category_says_so(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await categorise(sessions, seeded, "100002", "repair", date(2025, 7, 2), "b" * 32)
    async with serve(engine, sessions, settings=SETTINGS) as world:
        repair = card_text(only_card(await world.say("category st mary", TRUST_LEAD)))
        none_yet = card_text(only_card(await world.say("category oakfield", TRUST_LEAD)))
        choose = only_card(await world.say("category", TRUST_LEAD))
        chosen = only_card(
            await world.submit(
                {**submit_data(choose), "school_id": str(seeded.school_ids["100002"])},
                TRUST_LEAD,
            )
        )
        head_of_st_marys = card_text(only_card(await world.say("category", OTHER_HEAD)))
        adviser_own = card_text(only_card(await world.say("category", SIA)))
        adviser_other = await world.say("category st marys", SIA)
    assert "St Mary's C of E" in repair and "Repair" in repair
    assert "Improve to Recovery within one year." in repair
    assert "Oakfield Primary has no category yet" in none_yet
    assert {c["title"] for c in find(choose, id="school_id")[0]["choices"]} == {
        "Oakfield Primary",
        "St Mary's C of E",
    }
    assert "Repair" in card_text(chosen)
    assert "Repair" in head_of_st_marys
    # An adviser sees the schools they advise, and only those.
    assert "Oakfield Primary has no category yet" in adviser_own
    assert texts(adviser_other) == "You don't have access to St Mary's C of E's category."


async def test_school_names_are_matched_forgivingly_within_the_trust(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await categorise(sessions, seeded, "100001", "excellence", date(2025, 7, 1), "a" * 32)
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    await add_school(sessions, other.trust_id, "200001", "Brookside Academy")
    async with serve(engine, sessions, settings=SETTINGS) as world:
        typo = card_text(only_card(await world.say("category oakfeld", TRUST_LEAD)))
        partial = card_text(only_card(await world.say("category oak", TRUST_LEAD)))
        elsewhere = await world.say("category brookside", TRUST_LEAD)
        await add_school(sessions, seeded.trust_id, "100003", "Oakfield Junior")
        ambiguous = only_card(await world.say("category oakfeld", TRUST_LEAD))
    assert "Excellence" in typo and "Oakfield Primary" in typo
    assert "Excellence" in partial
    assert "I couldn't find a school called “brookside” in Test Trust" in texts(elsewhere)
    assert "Which school do you mean?" in card_text(ambiguous)
    assert [c["title"] for c in find(ambiguous, id="school_id")[0]["choices"]] == [
        "Oakfield Junior",
        "Oakfield Primary",
    ]
    assert submit_data(ambiguous)["verb"] == "category.show"


async def test_a_school_without_a_category_says_so_plainly(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await seed_improvement(sessions, await seed_trust(sessions))
    async with serve(engine, sessions, settings=SETTINGS) as world:
        # The subject lead's only school is St Mary's, which has no category yet.
        shown = card_text(only_card(await world.say("category", SUBJECT_LEAD)))
    assert "St Mary's C of E has no category yet" in shown
    assert "No category has been recorded for this school" in shown


# --- the register in storage -----------------------------------------------------------


async def test_the_current_category_is_the_latest_decision(sessions: Sessions) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    # Recorded out of order: the meeting date decides, then the order of recording.
    await categorise(sessions, seeded, "100001", "recovery", date(2026, 7, 1), "c" * 32)
    await categorise(sessions, seeded, "100001", "repair", date(2025, 7, 1), "d" * 32)
    await categorise(sessions, seeded, "100001", "reinforcement", date(2026, 7, 1), "e" * 32)
    async with sessions() as session:
        standing = await school_category(
            session, trust_id=seeded.trust_id, school_id=seeded.school_ids["100001"]
        )
        current = await current_categorisations(session, trust_id=seeded.trust_id)
    assert standing is not None
    assert standing.current.category_name == "Reinforcement"
    assert standing.previous is not None and standing.previous.category_name == "Recovery"
    assert standing.category is not None and standing.category.key == "reinforcement"
    assert {k: v.category_name for k, v in current.items()} == {
        seeded.school_ids["100001"]: "Reinforcement"
    }


async def test_replacing_the_framework_keeps_history_but_not_silently_a_current_category(
    sessions: Sessions,
) -> None:
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    await categorise(sessions, seeded, "100001", "recovery", date(2025, 7, 1), "c" * 32)
    await categorise(sessions, seeded, "100001", "refinement", date(2026, 7, 1), "d" * 32)
    await categorise(sessions, seeded, "100002", "repair", date(2026, 7, 1), "e" * 32)
    four = load_preset("four-phases")  # keeps "repair", drops "refinement"
    with pytest.raises(FrameworkInUse) as refused:
        async with sessions.begin() as session:
            await replace_framework(session, trust_id=seeded.trust_id, spec=four)
    assert refused.value.schools == {"Oakfield Primary": ["Refinement"]}
    assert "Oakfield Primary (now in Refinement)" in str(refused.value)

    # A framework that keeps both current keys but drops "recovery", found only in history.
    kept = FrameworkSpec.model_validate(
        {
            "key": "three",
            "name": "Three",
            "categories": [
                {"key": "refinement", "name": "Good", "descriptor": "Good."},
                {"key": "new", "name": "Middling", "descriptor": "Middling."},
                {"key": "repair", "name": "Repair", "descriptor": "Weak."},
            ],
        }
    )
    async with sessions.begin() as session:
        await replace_framework(session, trust_id=seeded.trust_id, spec=kept)
    async with sessions() as session:
        history = await categorisation_history(
            session, trust_id=seeded.trust_id, school_id=seeded.school_ids["100001"]
        )
        standing = await school_category(
            session, trust_id=seeded.trust_id, school_id=seeded.school_ids["100001"]
        )
        keys = set(await session.scalars(select(Category.key)))
    assert keys == {"refinement", "new", "repair"}
    assert [(c.category_name, c.category_id is None) for c in history] == [
        ("Refinement", False),
        ("Recovery", True),
    ]
    # The kept key is the same category, now worded as the trust's new framework has it.
    assert standing is not None and standing.category is not None
    assert standing.category.name == "Good"


# --- waypoint framework set ------------------------------------------------------------


FRAMEWORK_YAML = """\
key: three-stages
name: Three stages
categories:
  - key: thriving
    name: Thriving
    descriptor: Strong and sharing.
  - key: developing
    name: Developing
    descriptor: Improving.
    improvement_target: Improve to Thriving within 2 years.
  - key: repair
    name: Repair
    descriptor: Needs intensive support.
"""


def test_framework_set_from_yaml_then_refusals(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed(sessions: Sessions) -> Seeded:
        seeded = await seed_improvement(sessions, await seed_trust(sessions))
        await categorise(sessions, seeded, "100001", "recovery", date(2025, 7, 1), "c" * 32)
        return seeded

    in_store(store_env, seed)
    path = tmp_path / "three.yaml"
    path.write_text(FRAMEWORK_YAML, encoding="utf-8")

    # Oakfield is in Recovery now, which the file leaves out.
    assert waypoint(["framework", "set", str(path), "--tenant-id", TENANT]) == 1
    error = capsys.readouterr().err
    assert "three.yaml: nothing changed" in error
    assert "Oakfield Primary (now in Recovery)" in error

    path.write_text(FRAMEWORK_YAML + "  - key: recovery\n    name: Recovery\n    descriptor: X.\n")
    assert waypoint(["framework", "set", str(path), "--tenant-id", TENANT]) == 0
    assert "framework 'Three stages' set for trust 'Test Trust'" in capsys.readouterr().out

    async def keys(sessions: Sessions) -> list[str]:
        async with sessions() as session:
            return list(await session.scalars(select(Category.key).order_by(Category.rank)))

    assert in_store(store_env, keys) == ["thriving", "developing", "repair", "recovery"]

    assert waypoint(["framework", "set", str(path), "--tenant-id", "nobody"]) == 1
    assert "no trust with tenant id nobody" in capsys.readouterr().err


def test_framework_set_rejects_a_bad_field_naming_it(
    store_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed(sessions: Sessions) -> None:
        await seed_improvement(sessions, await seed_trust(sessions))

    in_store(store_env, seed)
    bad = tmp_path / "bad.yaml"
    bad.write_text(FRAMEWORK_YAML.replace("    name: Developing\n", ""), encoding="utf-8")
    assert waypoint(["framework", "set", str(bad), "--tenant-id", TENANT]) == 1
    error = capsys.readouterr().err
    assert "bad.yaml is not a valid framework file" in error
    assert "categories.1.name: Field required" in error
    assert "nothing changed" in error

    bad_json = tmp_path / "bad.json"
    bad_json.write_text(
        json.dumps({"key": "x", "name": "X", "categories": [{"key": "a"}], "colour": "red"}),
        encoding="utf-8",
    )
    assert waypoint(["framework", "set", str(bad_json), "--tenant-id", TENANT]) == 1
    error = capsys.readouterr().err
    assert "colour: Extra inputs are not permitted" in error
    assert "categories.0.name: Field required" in error

    async def keys(sessions: Sessions) -> list[str]:
        async with sessions() as session:
            return list(await session.scalars(select(Category.key).order_by(Category.rank)))

    assert in_store(store_env, keys) == [
        "excellence",
        "refinement",
        "reinforcement",
        "recovery",
        "repair",
    ]


async def test_saving_a_categorisation_replaces_its_form_with_the_confirmation(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    """Save is an Action.Execute: the invoke's answer is the card Teams draws in place
    of the form, so the filled form does not stay live above the confirmation."""
    seeded = await seed_improvement(sessions, await seed_trust(sessions))
    oakfield = seeded.school_ids["100001"]
    async with serve(engine, sessions, settings=SETTINGS) as world:
        form = only_card(await world.say("categorise oakfeld", TRUST_LEAD))
        [save] = [a for a in form["actions"] if a["title"] == "Save"]
        assert save["type"] == "Action.Execute" and save["verb"] == "categorise.save"
        values = _form_values(
            form,
            school_id=str(oakfield),
            category="reinforcement",
            decided_on="2025-07-10",
            attendees="Hana Head, Director of Education",
            rationale="Secure leadership; reading not yet good enough.",
        )
        replaced = await world.press("categorise.save", values, TRUST_LEAD)
    shown = card_text(replaced)
    assert "Categorisation recorded" in shown and "Reinforcement" in shown
    assert not find(replaced, id="rationale")  # the confirmation, not the form again
