"""Attendance concerns over HTTP: who raises, who sees, what is stored, what is told."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from storage.attendance.concerns import ConcernDetails, close_concern, raise_concern
from storage.attendance.counts import attendance_counts
from storage.attendance.rules import absence_flags
from storage.engine import Sessions
from storage.models import AttendanceConcern, ConcernEvent, Delivery
from tests.support import (
    ADMIN,
    BOT_ID,
    HEAD,
    OTHER_TENANT,
    SUBJECT_LEAD,
    TEACHER,
    TRUST_LEAD,
    Served,
    add_person,
    card_text,
    cards_in,
    count_rows,
    facts,
    field_error,
    inputs,
    loopback_connector,
    message,
    only_card,
    seed_trust,
    serve,
)

SETTINGS = Settings(_env_file=None)
# A Wednesday in term.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
FORM_ID = "0123456789abcdef0123456789abcdef"
PUPIL = "ZQ4821"
DONE = "Walking bus offered; first-day calling in place"

AL_A = "dddddddd-0000-4000-8000-000000000001"
AL_TRUST = "dddddddd-0000-4000-8000-000000000002"
COACH_A = "dddddddd-0000-4000-8000-000000000003"
SIA_A = "dddddddd-0000-4000-8000-000000000004"
SUBJECT_A = "dddddddd-0000-4000-8000-000000000005"
OTHER_AL = "eeeeeeee-0000-4000-8000-000000000001"


@dataclass
class World(Served):
    """The seeded trust served, with attendance leads (Oakfield's and a trust-wide one)
    and staff of other roles at Oakfield; and another trust with its own lead."""

    other_trust_id: int = 0
    other_school: int = 0

    async def concerns(self) -> list[AttendanceConcern]:
        return await self.stored(AttendanceConcern)

    async def events(self, concern_id: int) -> list[ConcernEvent]:
        return [e for e in await self.stored(ConcernEvent) if e.concern_id == concern_id]


@pytest.fixture
async def world(engine: AsyncEngine, sessions: Sessions) -> AsyncIterator[World]:
    seeded = await seed_trust(sessions)
    other = await seed_trust(sessions, tenant=OTHER_TENANT, name="Other Trust")
    oakfield = seeded.school_ids["100001"]
    async with sessions.begin() as session:
        for aad, name, roles, schools in (
            (AL_A, "Alex Attendance", ["attendance_lead"], [oakfield]),
            (AL_TRUST, "Toni Trustwide", ["attendance_lead"], []),
            (COACH_A, "Cory Coach", ["coach"], [oakfield]),
            (SIA_A, "Sol Adviser", ["sia"], [oakfield]),
            (SUBJECT_A, "Suki Subject", ["subject_lead", "teacher"], [oakfield]),
        ):
            seeded.person_ids[aad] = await add_person(
                session, seeded.trust_id, aad, name, roles, schools
            )
        # In the test's own map of people, though of the other trust: its Entra id
        # is like no one's here.
        seeded.person_ids[OTHER_AL] = await add_person(
            session, other.trust_id, OTHER_AL, "Olu Other", ["attendance_lead"], []
        )
    async with serve(
        engine,
        sessions,
        seeded,
        settings=SETTINGS,
        now=NOW,
        kind=World,
        other_trust_id=other.trust_id,
        other_school=other.school_ids["100001"],
    ) as served:
        yield served


def _raise_data(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "form_id": FORM_ID,
        "school": str(world.schools["100001"]),
        "pupil_ref": PUPIL,
        "year_group": "4",
        "attendance_percent": "88.5",
        "unauthorised_sessions": "6",
        "concern_type": "pattern",
        "vulnerable": "sen_support,disadvantaged",
        "done_so_far": DONE,
        "stage": "monitor",
    }
    data.update(overrides)
    return data


async def _seed_concern(
    world: World,
    *,
    school_id: int | None = None,
    trust_id: int | None = None,
    pupil: str = PUPIL,
    form_id: str | None = None,
    raised_by: str = TEACHER,
    raised_at: datetime = NOW,
    **details: Any,
) -> int:
    values: dict[str, Any] = {
        "school_id": school_id or world.schools["100001"],
        "pupil_ref": pupil,
        "year_group": "4",
        "attendance_percent": Decimal("88.5"),
        "unauthorised_sessions": 6,
        "concern_type": "pattern",
        "vulnerable": ["sen_support"],
        "done_so_far": DONE,
        "stage": "monitor",
    }
    values.update(details)
    async with world.sessions.begin() as session:
        row, _ = await raise_concern(
            session,
            trust_id=trust_id or world.trust_id,
            raised_by=world.people[raised_by] if trust_id is None else world.people[OTHER_AL],
            form_id=form_id
            or f"{len(pupil)}{pupil.lower()}{raised_at:%Y%m%d%H%M%S}".ljust(32, "0"),
            details=ConcernDetails(**values),
            raised_at=raised_at,
            today=raised_at.date(),
        )
        return row.id


# -- thresholds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "unauthorised", "persistent", "severe", "penalty"),
    [
        ("90.0", 0, True, False, False),
        ("90", 0, True, False, False),
        ("89.9", 0, True, False, False),
        ("90.1", 0, False, False, False),
        ("90.01", 0, False, False, False),
        ("89.99", 0, True, False, False),
        ("50.0", 0, True, True, False),
        ("50.1", 0, True, False, False),
        ("49.9", 0, True, True, False),
        ("100", 9, False, False, False),
        ("100", 10, False, False, True),
    ],
)
def test_absence_flags_at_their_edges(
    percent: str, unauthorised: int, persistent: bool, severe: bool, penalty: bool
) -> None:
    flags = absence_flags(Decimal(percent), unauthorised)
    assert (flags.persistent, flags.severe, flags.penalty_notice) == (persistent, severe, penalty)


@pytest.mark.parametrize(
    ("percent", "unauthorised", "persistent", "severe", "penalty"),
    [
        ("90.0", "9", True, False, False),
        ("89.9", "10", True, False, True),
        ("90.1", "10", False, False, True),
        ("50.0", "9", True, True, False),
        ("50.1", "10", True, False, True),
        ("89.95", "0", True, False, False),
    ],
)
async def test_flags_from_the_figures_are_shown_on_the_confirmation_and_stored(
    world: World, percent: str, unauthorised: str, persistent: bool, severe: bool, penalty: bool
) -> None:
    card = await world.press(
        "attendance.save",
        _raise_data(world, attendance_percent=percent, unauthorised_sessions=unauthorised),
        TEACHER,
    )
    assert "Attendance concern raised" in card_text(card)
    flags = facts(card, "flags")
    assert flags["Persistent absence"].startswith("Yes" if persistent else "No")
    assert flags["Severe absence"].startswith("Yes" if severe else "No")
    assert flags["Penalty notice"].startswith("Consider a penalty notice" if penalty else "Not")
    # The figure is shown as typed: 89.95 never reads as 90.0.
    assert facts(card)["Attendance this year"] == f"{Decimal(percent)}%"
    [row] = await world.concerns()
    assert row.attendance_percent == Decimal(percent)
    assert row.unauthorised_sessions_10_weeks == int(unauthorised)
    assert (row.persistent_absence, row.severe_absence, row.consider_penalty_notice) == (
        persistent,
        severe,
        penalty,
    )


# -- raising -----------------------------------------------------------------------


async def test_raise_concern_opens_a_card_that_asks_for_a_reference_not_a_name(
    world: World,
) -> None:
    for typed in ("raise concern", "attendance", "Raise a concern"):
        card = only_card(await world.say(typed, TEACHER))
        fields = inputs(card)
        assert [c["title"] for c in fields["school"]["choices"]] == ["Oakfield Primary"]
        assert fields["school"]["value"] == str(world.schools["100001"])
        assert "never type a name" in card_text(card)
        assert fields["pupil_ref"]["maxLength"] == 20
        assert fields["vulnerable"]["isMultiSelect"] is True
        assert [c["title"] for c in fields["stage"]["choices"]] == [
            "Expect",
            "Monitor",
            "Listen and understand",
            "Facilitate support",
            "Formalise support",
            "Enforce",
        ]
        assert len(fields["concern_type"]["choices"]) == 7
        assert len(fields["vulnerable"]["choices"]) == 7


async def test_a_teacher_raises_a_concern_and_it_is_stored_with_its_chronology(
    world: World,
) -> None:
    reply = await world.submit({"verb": "attendance.save", **_raise_data(world)}, TEACHER)
    card = only_card(reply)
    shown = facts(card)
    assert shown["Pupil"] == PUPIL
    assert shown["Vulnerable groups"] == "Disadvantaged / pupil premium, SEN support"
    # Oakfield's lead has not installed Waypoint: the card says so, not "told".
    assert (
        "Alex Attendance (attendance lead) will get a notice when they open Waypoint. "
        "The notice carries no pupil details." in card_text(card)
    )
    assert "has been told" not in card_text(card)
    # The form has no review field: the card says what the date is and why.
    assert shown["Next review"] == "Today: a new concern is looked at the day it is raised"
    # The teacher raised it but does not follow it: no buttons into the chronology.
    assert "actions" not in card
    [row] = await world.concerns()
    assert (row.trust_id, row.school_id, row.pupil_ref, row.year_group) == (
        world.trust_id,
        world.schools["100001"],
        PUPIL,
        "4",
    )
    assert (row.concern_type, row.vulnerable, row.stage, row.status) == (
        "pattern",
        ["disadvantaged", "sen_support"],
        "monitor",
        "open",
    )
    assert row.done_so_far == DONE
    assert row.raised_by == world.people[TEACHER]
    # Due for review the day it is raised: the attendance lead looks at once.
    assert row.next_review_on == TODAY
    [raised] = await world.events(row.id)
    assert (raised.kind, raised.stage, raised.by_person_id) == (
        "raised",
        "monitor",
        world.people[TEACHER],
    )


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"pupil_ref": "Jennifer"}, "pupil_ref", "looks like a name"),
        ({"pupil_ref": "J.S."}, "pupil_ref", "letters and digits only"),
        ({"pupil_ref": "A" * 8 + "1" * 13}, "pupil_ref", "letters and digits only"),
        ({"pupil_ref": ""}, "pupil_ref", "letters and digits only"),
        ({"attendance_percent": "101"}, "attendance_percent", "from 0 to 100"),
        ({"attendance_percent": "abc"}, "attendance_percent", "from 0 to 100"),
        ({"attendance_percent": "89.955"}, "attendance_percent", "two decimal places"),
        ({"unauthorised_sessions": "101"}, "unauthorised_sessions", "from 0 to 100"),
        ({"unauthorised_sessions": "-1"}, "unauthorised_sessions", "from 0 to 100"),
        ({"year_group": ""}, "year_group", "Choose the year group"),
        ({"concern_type": "truancy"}, "concern_type", "Choose the kind"),
        ({"vulnerable": "eal,wealthy"}, "vulnerable", "Choose from the groups"),
        ({"stage": "punish"}, "stage", "Choose the stage"),
        ({"done_so_far": "x" * 2500}, "done_so_far", "2,000 characters (it is 2500)"),
    ],
)
async def test_invalid_input_comes_back_with_values_kept_and_nothing_stored(
    world: World, change: dict[str, str], field: str, says: str
) -> None:
    data = _raise_data(world, **change)
    card = await world.press("attendance.save", data, TEACHER)
    error = field_error(card, field)
    assert error is not None and says in error, error
    fields = inputs(card)
    for key in ("pupil_ref", "attendance_percent", "unauthorised_sessions", "done_so_far"):
        assert fields[key]["value"] == data[key]
    assert fields["vulnerable"]["value"] == data["vulnerable"]
    assert card["actions"][0]["data"]["form_id"] == FORM_ID
    assert await world.concerns() == []


async def test_a_double_click_or_a_redelivery_raises_one_concern(world: World) -> None:
    data = _raise_data(world)
    first = await world.press("attendance.save", data, TEACHER)
    again = await world.press("attendance.save", data, TEACHER)
    assert "Attendance concern raised" in card_text(first)
    assert "Already raised" in card_text(again)
    # Someone else replaying the form learns nothing about the pupil.
    replay = await world.press("attendance.save", data, AL_A)
    assert isinstance(replay, str) and PUPIL not in replay
    assert len(await world.concerns()) == 1


# -- the notice --------------------------------------------------------------------


async def _installed(world: World, url: str, *aads: str) -> None:
    for aad in aads:
        await world.install_chat(aad, url)


async def test_the_schools_attendance_lead_gets_a_notice_with_no_pupil_data(
    world: World,
) -> None:
    async with loopback_connector() as connector:
        await _installed(world, connector.url, AL_A, AL_TRUST, HEAD, TEACHER)
        await world.press("attendance.save", _raise_data(world), TEACHER)
        await world.waypoint.notifier.drain()
    # Oakfield has its own attendance lead: only they are told.
    [posted] = connector.posted
    assert posted["conversation"] == f"a:{AL_A}"
    everything = json.dumps(posted["activity"])
    assert PUPIL not in everything and PUPIL.lower() not in everything.lower()
    assert DONE not in everything and "Walking bus" not in everything
    assert "Year 4" not in everything and "88.5" not in everything
    [card] = cards_in([posted["activity"]])
    shown = card_text(card)
    assert "New attendance concern" in shown and "Oakfield Primary" in shown
    assert "Wed 18 Nov 2026 at 10:00" in shown
    # The button opens the concern for an authorised viewer only.
    button = card["actions"][0]
    assert button["verb"] == "attendance.open"
    opened = await world.press(button["verb"], button["data"], AL_A)
    assert facts(opened)["Pupil"] == PUPIL
    for outsider in (TEACHER, SUBJECT_LEAD, TRUST_LEAD, ADMIN):
        refused = await world.press(button["verb"], button["data"], outsider)
        assert isinstance(refused, str) and refused.startswith("You don't have access")
        assert PUPIL not in refused


def _install(user: str, url: str, kind: str) -> dict[str, Any]:
    """Teams announcing that `user` installed Waypoint in their own chat."""
    body = message("", user=user, service_url=url, conversation_id=f"a:{user}")
    body.pop("text")
    if kind == "installationUpdate":
        body.update(type=kind, action="add")
    else:
        body.update(type=kind, membersAdded=[{"id": BOT_ID}])
    return body


async def test_a_lead_who_installs_later_gets_the_notice_once(world: World) -> None:
    # On the real clock: the server's own sender expires nothing this test keeps waiting.
    world.at(datetime.now(UTC))
    async with loopback_connector() as connector:
        reply = await world.submit({"verb": "attendance.save", **_raise_data(world)}, TEACHER)
        await world.waypoint.notifier.drain()
        assert connector.posted == []
        for kind in ("installationUpdate", "conversationUpdate"):
            await world.post(_install(AL_A, connector.url, kind))
            await world.waypoint.notifier.drain()
    assert "will get a notice when they open Waypoint" in card_text(only_card(reply))
    notices = [p for p in connector.posted if p["path"].endswith("/activities")]
    assert [p["conversation"] for p in notices] == [f"a:{AL_A}"]
    assert "New attendance concern" in card_text(cards_in([notices[0]["activity"]])[0])


async def test_a_closed_concerns_notice_no_longer_waits(world: World) -> None:
    world.at(datetime.now(UTC))
    async with loopback_connector() as connector:
        await world.submit({"verb": "attendance.save", **_raise_data(world)}, TEACHER)
        [concern] = await world.concerns()
        async with world.sessions.begin() as session:
            row = await session.get(AttendanceConcern, concern.id)
            assert row is not None
            await close_concern(
                session,
                row=row,
                by=world.people[HEAD],
                form_id=FORM_ID,
                outcome="improved",
                note="",
                at=datetime.now(UTC),
            )
        await world.post(_install(AL_A, connector.url, "installationUpdate"))
        await world.waypoint.notifier.drain()
    assert not [p for p in connector.posted if p["path"].endswith("/activities")]
    [delivery] = await world.stored(Delivery)
    assert (delivery.status, delivery.last_error) == ("expired", "concern closed")


async def test_the_confirmation_says_the_installed_lead_gets_it_in_teams(world: World) -> None:
    async with loopback_connector() as connector:
        await _installed(world, connector.url, AL_A)
        reply = await world.submit({"verb": "attendance.save", **_raise_data(world)}, TEACHER)
    assert (
        "Alex Attendance (attendance lead) will get a notice in Teams. "
        "The notice carries no pupil details." in card_text(only_card(reply))
    )


async def test_a_school_without_an_attendance_lead_tells_the_trusts(world: World) -> None:
    async with loopback_connector() as connector:
        await _installed(world, connector.url, AL_A, AL_TRUST)
        await world.press(
            "attendance.save",
            _raise_data(world, school=str(world.schools["100002"])),
            SUBJECT_LEAD,
        )
        await world.waypoint.notifier.drain()
    [posted] = connector.posted
    assert posted["conversation"] == f"a:{AL_TRUST}"
    assert PUPIL not in json.dumps(posted["activity"])


# -- the permission matrix ---------------------------------------------------------

# Who each role is in the matrix: school roles at Oakfield, trust roles at no school.
MATRIX_PEOPLE = {
    "teacher": TEACHER,
    "coach": COACH_A,
    "subject_lead": SUBJECT_A,
    "head": HEAD,
    "attendance_lead": AL_A,
    "trust_attendance_lead": AL_TRUST,
    "sia": SIA_A,
    "trust_lead": TRUST_LEAD,
    "admin": ADMIN,
}
FOLLOWERS = {"head", "attendance_lead", "trust_attendance_lead"}


def _allowed(role: str, action: str, scope: str) -> bool:
    if scope == "other_trust":
        return False
    if role == "trust_attendance_lead":
        return True
    if action == "raise":
        # Any of the school's own staff; trust leads and admins are no school's staff.
        return scope == "own_school" and role not in ("trust_lead", "admin")
    return scope == "own_school" and role in FOLLOWERS


async def _snapshot(world: World) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    rows = await count_rows(world.sessions)
    audit = rows.pop("audit_event")
    concerns = [
        (c.id, c.pupil_ref, c.stage, c.status, c.outcome, c.next_review_on, c.done_so_far)
        for c in await world.concerns()
    ]
    return rows | {"audit": audit}, concerns


@pytest.mark.parametrize("role", list(MATRIX_PEOPLE))
async def test_permission_matrix(world: World, role: str) -> None:
    user = MATRIX_PEOPLE[role]
    targets = {
        "own_school": (
            world.schools["100001"],
            await _seed_concern(world, pupil="OWN1", form_id="a" * 32),
        ),
        "other_school": (
            world.schools["100002"],
            await _seed_concern(
                world,
                school_id=world.schools["100002"],
                pupil="OTH2",
                form_id="b" * 32,
                raised_by=SUBJECT_LEAD,
            ),
        ),
        "other_trust": (
            world.other_school,
            await _seed_concern(
                world,
                school_id=world.other_school,
                trust_id=world.other_trust_id,
                pupil="FAR3",
                form_id="c" * 32,
            ),
        ),
    }
    for n, (scope, (school_id, concern_id)) in enumerate(targets.items()):
        pupil = {"own_school": "OWN1", "other_school": "OTH2", "other_trust": "FAR3"}[scope]
        attempts: dict[str, tuple[str, dict[str, Any]]] = {
            "raise": (
                "attendance.save",
                _raise_data(world, school=str(school_id), form_id=str(1 + n) * 32),
            ),
            "view": ("attendance.open", {"concern_id": concern_id}),
            "update": (
                "attendance.update",
                {
                    "concern_id": concern_id,
                    "form_id": str(4 + n) * 32,
                    "stage": "listen",
                    "action": "Phoned home",
                    "action_on": TODAY.isoformat(),
                    "next_review_on": (TODAY + timedelta(days=7)).isoformat(),
                },
            ),
            "close": (
                "attendance.close",
                {"concern_id": concern_id, "form_id": str(7 + n) * 32, "outcome": "improved"},
            ),
        }
        for action, (verb, data) in attempts.items():
            label = f"{role} {action} {scope}"
            before = await _snapshot(world)
            answer = await world.press(verb, data, user)
            after = await _snapshot(world)
            if not _allowed(role, action, scope):
                assert isinstance(answer, str), label
                assert answer.startswith("You don't have access"), label
                assert pupil not in answer, label
                # Nothing changed but one refusal in the audit trail.
                assert after[1] == before[1], label
                assert after[0] == before[0] | {"audit": before[0]["audit"] + 1}, label
                last = (await world.audit())[-1]
                assert (last.outcome, last.person_id) == ("refused", world.people[user]), label
                assert (
                    last.action
                    == {
                        "raise": "attendance.raise",
                        "view": "attendance.view",
                        "update": "attendance.update",
                        "close": "attendance.close",
                    }[action]
                ), label
                if scope != "other_trust" and action != "raise":
                    assert (last.subject_type, last.subject_id) == (
                        "attendance_concern",
                        concern_id,
                    ), label
                continue
            assert isinstance(answer, dict), label
            shown = card_text(answer)
            concern = {c.id: c for c in await world.concerns()}
            if action == "raise":
                assert "Attendance concern raised" in shown, label
                assert after[0]["attendance_concern"] == before[0]["attendance_concern"] + 1
            elif action == "view":
                assert facts(answer)["Pupil"] == pupil, label
            elif action == "update":
                assert "Concern updated" in shown, label
                assert concern[concern_id].stage == "listen", label
            else:
                assert "Concern closed" in shown, label
                assert concern[concern_id].status == "closed", label
            last = (await world.audit())[-1]
            assert (last.outcome, last.subject_type) == ("ok", "attendance_concern"), label


async def test_another_trusts_attendance_lead_cannot_open_this_trusts_concern(
    world: World,
) -> None:
    concern_id = await _seed_concern(world)
    before = await _snapshot(world)
    answer = await world.press(
        "attendance.open", {"concern_id": concern_id}, OTHER_AL, tenant=OTHER_TENANT
    )
    assert isinstance(answer, str) and answer.startswith("You don't have access")
    after = await _snapshot(world)
    assert after[1] == before[1]
    [event] = [e for e in await world.audit() if e.person_id == world.people[OTHER_AL]]
    # Audited in the asker's own trust, without the other trust's concern id.
    assert (event.trust_id, event.outcome, event.subject_id) == (
        world.other_trust_id,
        "refused",
        None,
    )


# -- following a concern through ---------------------------------------------------


async def _set_review(world: World, concern_id: int, day: date | None) -> None:
    async with world.sessions.begin() as session:
        row = await session.get(AttendanceConcern, concern_id)
        assert row is not None
        row.next_review_on = day


async def test_update_and_close_build_a_dated_chronology(world: World) -> None:
    concern_id = await _seed_concern(world)
    opened = await world.press("attendance.open", {"concern_id": concern_id}, AL_A)
    edit_button = next(a for a in opened["actions"] if a["title"] == "Update")
    form = await world.press(edit_button["verb"], edit_button["data"], AL_A)
    fields = inputs(form)
    assert fields["stage"]["value"] == "monitor"
    assert fields["action_on"]["value"] == "2026-11-18"
    data = dict(form["actions"][0]["data"])
    data.update(
        stage="listen",
        action="Home visit with the education welfare officer",
        action_on="2026-11-17",
        next_review_on="2026-12-02",
    )
    updated = await world.press("attendance.update", data, AL_A)
    assert "Concern updated" in card_text(updated)
    again = await world.press("attendance.update", data, AL_A)
    assert "Already saved" in card_text(again)
    [row] = await world.concerns()
    assert (row.stage, row.next_review_on) == ("listen", date(2026, 12, 2))
    kinds = [(e.kind, e.stage, e.on_date, e.text) for e in await world.events(concern_id)]
    assert kinds == [
        ("raised", "monitor", None, ""),
        ("stage", "listen", None, ""),
        ("action", "listen", date(2026, 11, 17), "Home visit with the education welfare officer"),
        ("review", "listen", date(2026, 12, 2), ""),
    ]
    shown = card_text(updated)
    assert "Stage moved to Listen and understand" in shown
    assert "Action on Tue 17 Nov 2026" in shown
    assert "Home visit with the education welfare officer" in shown
    assert "Next review set for Wed 2 Dec 2026" in shown

    close_button = next(a for a in updated["actions"] if a["title"] == "Close")
    close_form = await world.press(close_button["verb"], close_button["data"], HEAD)
    missing = await world.press(
        "attendance.close", dict(close_form["actions"][0]["data"], note="Back in"), HEAD
    )
    assert field_error(missing, "outcome") == "Choose the outcome."
    assert inputs(missing)["note"]["value"] == "Back in"
    closing = dict(close_form["actions"][0]["data"], outcome="improved", note="Back in daily")
    closed = await world.press("attendance.close", closing, HEAD)
    assert "Concern closed" in card_text(closed)
    assert "Closed Wed 18 Nov 2026: Attendance improved" in card_text(closed)
    assert not any(a["title"] in ("Update", "Close") for a in closed["actions"])
    twice = await world.press("attendance.close", closing, HEAD)
    assert "Already closed" in card_text(twice)
    [row] = await world.concerns()
    assert (row.status, row.outcome, row.closed_at) == ("closed", "improved", NOW)
    # A closed concern takes no more updates.
    late = await world.press(
        "attendance.update", dict(data, form_id="f" * 32, stage="enforce"), AL_A
    )
    assert late == "That concern was closed on Wed 18 Nov 2026; nothing changed."
    actions = [(e.action, e.outcome) for e in await world.audit()]
    assert actions == [
        ("attendance.raise", "ok"),
        ("attendance.view", "ok"),
        ("attendance.edit", "ok"),
        ("attendance.update", "ok"),
        ("attendance.view", "ok"),
        ("attendance.closing", "ok"),
        ("attendance.close", "ok"),
        ("attendance.view", "ok"),
    ]
    assert {e.subject_id for e in await world.audit()} == {concern_id}


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"action_on": "2026-11-19"}, "action_on", "in the future"),
        ({"action_on": "2025-11-01"}, "action_on", "more than a year ago"),
        ({"next_review_on": "2026-11-17"}, "next_review_on", "today or a later date"),
        ({"next_review_on": "2028-01-01"}, "next_review_on", "within a year"),
        ({"next_review_on": "02/12/2026"}, "next_review_on", "like 2026-12-02"),
        ({"stage": "punish"}, "stage", "Choose the stage"),
        ({"action": "", "stage": "monitor", "next_review_on": "2026-11-18"}, "form", "Nothing"),
    ],
)
async def test_an_invalid_update_comes_back_with_values_kept_and_changes_nothing(
    world: World, change: dict[str, str], field: str, says: str
) -> None:
    concern_id = await _seed_concern(world)
    data = {
        "concern_id": concern_id,
        "form_id": FORM_ID,
        "stage": "listen",
        "action": "Phoned home",
        "action_on": "2026-11-18",
        "next_review_on": "2026-11-25",
        **change,
    }
    before = await _snapshot(world)
    card = await world.press("attendance.update", data, AL_A)
    error = field_error(card, field)
    assert error is not None and says in error, error
    assert inputs(card)["action"]["value"] == data["action"]
    assert inputs(card)["next_review_on"]["value"] == data["next_review_on"]
    after = await _snapshot(world)
    assert after == before


async def test_concerns_lists_open_ones_most_overdue_review_first(world: World) -> None:
    plan = [
        ("LATER1", date(2026, 11, 20)),
        ("LATE8", date(2026, 11, 10)),
        ("TODAY", TODAY),
        ("LATE2", date(2026, 11, 16)),
    ]
    ids = {}
    for n, (pupil, review) in enumerate(plan):
        ids[pupil] = await _seed_concern(world, pupil=pupil, form_id=str(n) * 32)
        await _set_review(world, ids[pupil], review)
    closed = await _seed_concern(world, pupil="SHUT", form_id="9" * 32)
    async with world.sessions.begin() as session:
        row = await session.get(AttendanceConcern, closed)
        assert row is not None
        row.status = "closed"
    await _seed_concern(world, pupil="STM1", school_id=world.schools["100002"], form_id="8" * 32)
    card = only_card(await world.say("concerns", HEAD))
    rows = [item for item in card["body"] if item.get("id", "").startswith("concern_")]
    assert [r["id"] for r in rows] == [
        f"concern_{ids[p]}" for p in ("LATE8", "LATE2", "TODAY", "LATER1")
    ]
    shown = card_text(card)
    assert "Open attendance concerns: Oakfield Primary" in shown
    assert "Review overdue by 8 days (Tue 10 Nov 2026)" in shown
    assert "Review due today" in shown
    assert "SHUT" not in shown and "STM1" not in shown
    # Every pupil reference shown is a view, audited by id.
    listed = [e.subject_id or 0 for e in await world.audit() if e.action == "attendance.list"]
    assert sorted(listed) == sorted(ids.values())
    # Each opens its chronology.
    button = rows[0]["columns"][1]["items"][0]["actions"][0]
    opened = await world.press(button["verb"], button["data"], HEAD)
    assert facts(opened)["Pupil"] == "LATE8"
    assert "Chronology" in card_text(opened)
    # A trust-level attendance lead sees both schools, and one by name.
    trust_wide = only_card(await world.say("concerns", AL_TRUST))
    assert "STM1" in card_text(trust_wide) and "LATE8" in card_text(trust_wide)
    one = only_card(await world.say("concerns st marys", AL_TRUST))
    assert "STM1" in card_text(one) and "LATE8" not in card_text(one)


async def test_everyone_else_sees_counts_only(world: World) -> None:
    await _seed_concern(
        world,
        pupil="CNT1",
        form_id="1" * 32,
        attendance_percent=Decimal("45"),
        unauthorised_sessions=12,
        vulnerable=["eal", "looked_after"],
        concern_type="severe",
    )
    await _seed_concern(world, pupil="CNT2", form_id="2" * 32)
    await _seed_concern(
        world, pupil="CNT3", school_id=world.schools["100002"], form_id="3" * 32, stage="enforce"
    )
    teacher = only_card(await world.say("concerns", TEACHER))
    shown = card_text(teacher)
    assert "Attendance concerns: Oakfield Primary" in shown
    assert not any(f"CNT{n}" in json.dumps(teacher) for n in (1, 2, 3))
    assert DONE not in json.dumps(teacher)
    totals = teacher["body"][2]["facts"]
    assert [(f["title"], f["value"]) for f in totals] == [
        ("Open concerns", "2"),
        ("Persistent absence", "2"),
        ("Severe absence", "1"),
        ("Consider a penalty notice", "1"),
    ]
    trust = only_card(await world.say("concerns", TRUST_LEAD))
    by_school = facts(trust)
    assert (by_school["Oakfield Primary"], by_school["St Mary's C of E"]) == ("2", "1")
    [refused] = await world.say("concerns st marys", TEACHER)
    assert refused["text"] == "You don't have access to attendance concerns at St Mary's C of E."
    assert (await world.audit())[-1].outcome == "refused"


async def test_attendance_counts_by_school_type_stage_and_vulnerable_group(
    world: World,
) -> None:
    oak, stm = world.schools["100001"], world.schools["100002"]
    await _seed_concern(world, pupil="A1", form_id="1" * 32, vulnerable=["eal", "ehcp"])
    await _seed_concern(
        world, pupil="A2", form_id="2" * 32, concern_type="lateness", stage="enforce"
    )
    await _seed_concern(world, pupil="B1", form_id="3" * 32, school_id=stm, vulnerable=["eal"])
    shut = await _seed_concern(world, pupil="A3", form_id="4" * 32, vulnerable=["eal"])
    async with world.sessions.begin() as session:
        row = await session.get(AttendanceConcern, shut)
        assert row is not None
        row.status = "closed"
    await _seed_concern(
        world,
        pupil="X1",
        form_id="5" * 32,
        school_id=world.other_school,
        trust_id=world.other_trust_id,
    )
    async with world.sessions() as session:
        whole = await attendance_counts(session, trust_id=world.trust_id)
        oakfield = await attendance_counts(session, trust_id=world.trust_id, school_ids=[oak])
    assert whole.total == 3
    assert [(s.school_name, s.open) for s in whole.by_school] == [
        ("Oakfield Primary", 2),
        ("St Mary's C of E", 1),
    ]
    assert whole.by_type["pattern"] == 2 and whole.by_type["lateness"] == 1
    assert whole.by_stage == {
        "expect": 0,
        "monitor": 2,
        "listen": 0,
        "facilitate": 0,
        "formalise": 0,
        "enforce": 1,
    }
    assert whole.by_vulnerable["eal"] == 2 and whole.by_vulnerable["ehcp"] == 1
    assert whole.by_vulnerable["looked_after"] == 0
    assert oakfield.total == 2 and oakfield.by_vulnerable["eal"] == 1
    assert [s.school_name for s in oakfield.by_school] == ["Oakfield Primary"]


# -- logs --------------------------------------------------------------------------


async def test_a_full_run_logs_no_pupil_reference_and_no_free_text(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typed = {
        "pupil": "QX7305",
        "done": "Grandmother collects on Mondays; walking bus offered",
        "action": "Attendance panel with parent, contract signed",
        "note": "Attendance back above ninety-six percent",
    }
    async with loopback_connector() as connector:
        await _installed(world, connector.url, AL_A)
        raised = await world.submit(
            {
                "verb": "attendance.save",
                **_raise_data(world, pupil_ref=typed["pupil"], done_so_far=typed["done"]),
            },
            TEACHER,
        )
        assert typed["pupil"] in card_text(only_card(raised))
        await world.waypoint.notifier.drain()
        [concern] = await world.concerns()
        await world.say("concerns", AL_A)
        form = await world.press("attendance.edit", {"concern_id": concern.id}, AL_A)
        await world.press(
            "attendance.update",
            dict(
                form["actions"][0]["data"],
                stage="formalise",
                action=typed["action"],
                action_on="2026-11-18",
                next_review_on="2026-11-30",
            ),
            AL_A,
        )
        closing = await world.press("attendance.closing", {"concern_id": concern.id}, AL_A)
        await world.submit(
            dict(closing["actions"][0]["data"], outcome="improved", note=typed["note"]),
            AL_A,
        )
    [concern] = await world.concerns()
    assert concern.status == "closed"
    assert caplog.records, "the run logged nothing at all: the capture is not working"
    logged = "\n".join(
        "\n".join(
            (
                record.getMessage(),
                repr(record.args),
                record.exc_text or "",
                json.dumps(record.__dict__, default=repr),
            )
        )
        for record in caplog.records
    )
    for value in typed.values():
        assert value not in logged
        assert value.lower() not in logged.lower()
    # Fragments too: a truncated or re-encoded value would still be a leak.
    assert "QX7305" not in logged and "walking bus" not in logged.lower()
