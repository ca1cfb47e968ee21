"""The home card per role, greetings, guesses and `schools`, on the demo trust, at the
`Turn -> Reply` seam (tests/support.py's `Turns`), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dialogs.turn import Reply
from storage.demo import PEOPLE_CSV, load_demo
from storage.engine import Sessions
from storage.models import AttendanceConcern, CoachingSession, Person, School, SchoolAction
from tests.support import Turns, card_actions, card_text, inputs

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
# Placeholders a suggestion must never show as typed.
PLACEHOLDER = re.compile(r"\[[a-z ]+\]")


def _people() -> dict[str, dict[str, str]]:
    with PEOPLE_CSV.open(encoding="utf-8") as rows:
        return {row["display_name"]: row for row in csv.DictReader(rows)}


PEOPLE = _people()


def aad(name: str) -> str:
    return PEOPLE[name]["aad_object_id"]


def first_with(role: str) -> str:
    """The first demo person holding `role` (anywhere), by their Entra id."""
    for row in PEOPLE.values():
        if role in {item.split("@")[0] for item in row["roles"].split(";")}:
            return row["aad_object_id"]
    raise AssertionError(f"no demo person is a {role}")


async def _person_id(sessions: Sessions, name: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Person.id).where(Person.display_name == name))
    assert found is not None, name
    return found


async def demo(sessions: Sessions) -> Turns:
    """The demo trust, and a little of a term: an overdue action and an open concern at
    Oakfield, a session for one of its teachers."""
    async with sessions.begin() as session:
        # The demo term ends on the day the turns run (TODAY), not on the wall clock.
        trust = await load_demo(session, today=TODAY)
        oakfield = await session.scalar(select(School).where(School.urn == "118645"))
        assert oakfield is not None
        session.add(
            SchoolAction(
                trust_id=trust.id,
                school_id=oakfield.id,
                description="Phonics audit in Year 1",
                due_on=TODAY - timedelta(days=10),
            )
        )
        session.add(
            AttendanceConcern(
                trust_id=trust.id,
                school_id=oakfield.id,
                pupil_ref="AB1234",
                year_group="Y4",
                attendance_percent=88,
                unauthorised_sessions_10_weeks=6,
                concern_type="persistent",
                stage="monitor",
                form_id="home-test-concern",
            )
        )
    priya = await _person_id(sessions, "Priya Shah")
    hannah = await _person_id(sessions, "Hannah Greene")
    async with sessions.begin() as session:
        school_id = await session.scalar(select(School.id).where(School.urn == "118645"))
        session.add(
            CoachingSession(
                trust_id=trust.id,
                school_id=school_id,
                coach_id=priya,
                coachee_id=hannah,
                held_on=TODAY - timedelta(days=40),
                status="held",
                action_step="Cold call before hands up",
                form_id="home-test-session",
            )
        )
    return Turns(sessions, now=NOW, tenant=trust.tenant_id)


def jobs(reply: Reply) -> list[tuple[str, str]]:
    """The home card's jobs: (title, what needs doing now), and its buttons run commands."""
    assert reply.card is not None, reply.text
    rows: list[tuple[str, str]] = []
    for item in reply.card["body"]:
        if item.get("type") == "Container" and "selectAction" in item:
            column = item["items"][0]["columns"][0]["items"]
            rows.append((column[0]["text"], column[1]["text"]))
    return rows


ROLES = (
    "trust_lead",
    "sia",
    "head",
    "coach",
    "teacher",
    "subject_lead",
    "attendance_lead",
    "governor",
    "admin",
)


@pytest.mark.parametrize("role", ROLES)
async def test_every_roles_help_is_a_home_card_of_at_most_six_jobs_with_live_counts(
    sessions: Sessions, role: str
) -> None:
    turns = await demo(sessions)
    reply = await turns.message("help", first_with(role))
    rows = jobs(reply)
    assert 1 <= len(rows) <= 6, rows
    # What needs doing now, counted from the store ("No open concerns" is a count too).
    assert any(re.search(r"\d|^No ", status) for _, status in rows), rows
    shown = card_text(reply.card or {})
    assert "All commands" in shown and PLACEHOLDER.search(shown) is None
    actor = await turns.actor(first_with(role))
    if actor.trust_wide or len(actor.school_ids) != 1:
        # Nobody without a school of their own is told of "your school" or "our" one.
        assert re.search(r"\b(our|your school)\b", shown, re.IGNORECASE) is None, shown


async def test_the_head_sees_overdue_actions_and_concerns_counted(sessions: Sessions) -> None:
    turns = await demo(sessions)
    rows = dict(jobs(await turns.message("help", aad("Marcus Bell"))))
    assert list(rows)[:2] == ["Our actions", "Our category"]
    assert re.fullmatch(r"[1-9]\d* actions? overdue", rows["Our actions"]), rows
    assert rows["Our category"] == "Oakfield Primary: Recovery"
    assert re.fullmatch(r"[1-9]\d* open concerns?", rows["Attendance concerns"]), rows
    assert re.fullmatch(r"\d+ teachers? due a session", rows["Coaching coverage"]), rows


async def test_the_attendance_lead_sees_open_concerns_counted(sessions: Sessions) -> None:
    turns = await demo(sessions)
    rows = dict(jobs(await turns.message("hi", aad("Kerry Walsh"))))
    assert re.fullmatch(r"[1-9]\d* open concerns?", rows["Attendance concerns"]), rows


async def test_the_coach_sees_teachers_due_a_session(sessions: Sessions) -> None:
    turns = await demo(sessions)
    rows = dict(jobs(await turns.message("help", aad("Priya Shah"))))
    assert list(rows)[:2] == ["Log coaching", "My coaching"]
    assert re.fullmatch(r"[1-9]\d* teachers? due a session", rows["Log coaching"]), rows
    # Hannah's last session with Priya was 40 days ago: due again.
    assert re.fullmatch(r"[1-9]\d* teachers? you coach due again", rows["My coaching"]), rows


async def test_all_commands_lists_the_rest_but_not_help_itself(sessions: Sessions) -> None:
    turns = await demo(sessions)
    home = await turns.message("help", first_with("trust_lead"))
    buttons = card_actions(home.card or {})
    [(_, data)] = [a for a in buttons if a[1].get("command") == "commands"]
    listed = await turns.command(str(data["command"]), first_with("trust_lead"))
    assert listed.card is not None
    keys = {d.get("command") for _, d in card_actions(listed.card)}
    assert "help" in keys  # the way home, as a button at the foot
    rows = [d["command"] for _, d in card_actions({"body": listed.card["body"]}) if "command" in d]
    assert "help" not in rows and "commands" not in rows
    assert {"digest", "schools", "categorise", "review"} <= set(rows)
    assert PLACEHOLDER.search(card_text(listed.card)) is None


@pytest.mark.parametrize("typed", ["hi", "hello", "thanks!", "thank you", "cheers"])
async def test_greetings_and_thanks_get_the_home_card(sessions: Sessions, typed: str) -> None:
    turns = await demo(sessions)
    reply = await turns.message(typed, aad("Marcus Bell"))
    assert reply.text is None
    title = (reply.card or {})["body"][0]["text"]
    assert title in ("Hello, Marcus!", "You're welcome, Marcus."), title
    assert len(jobs(reply)) >= 3


async def test_an_unrelated_sentence_gets_the_home_card_not_a_guess(sessions: Sessions) -> None:
    turns = await demo(sessions)
    reply = await turns.message("the weather is lovely today", aad("Marcus Bell"))
    assert reply.text == "I didn't catch that. Here is what I can do for you."
    assert jobs(reply)


async def test_a_confident_near_miss_is_suggested_without_a_placeholder(
    sessions: Sessions,
) -> None:
    turns = await demo(sessions)
    reply = await turns.message("what do you do", aad("Marcus Bell"))
    assert reply.card is None and reply.text is not None
    assert reply.text.startswith("I didn't catch that. Did you mean “help”?")
    assert PLACEHOLDER.search(reply.text) is None


@pytest.mark.parametrize("typed", ["what's overdue?", "what is overdue", "whats overdue"])
async def test_whats_overdue_lists_the_actions(sessions: Sessions, typed: str) -> None:
    turns = await demo(sessions)
    shown = card_text((await turns.message(typed, aad("Marcus Bell"))).card or {})
    assert "Phonics audit in Year 1" in shown


@pytest.mark.parametrize("typed", ["list schools", "which schools need attention?"])
async def test_list_schools_for_a_trust_lead_names_every_school(
    sessions: Sessions, typed: str
) -> None:
    turns = await demo(sessions)
    reply = await turns.message(typed, aad("Helen Ashworth"))
    assert reply.card is not None
    shown = card_text(reply.card)
    assert "Waypoint Demo Trust: 6 schools" in shown
    # Oakfield needs the most attention: first, with the trust digest's reasons.
    names = [
        item["items"][0]["columns"][0]["items"]
        for item in reply.card["body"]
        if item.get("type") == "Container"
    ]
    assert names[0][0]["text"] == "Oakfield Primary"
    assert names[0][1]["text"].startswith("Recovery category · 3 overdue actions · coaching")
    assert "3 schools need attention" in shown
    assert len(names) == 6
    # Each school's button opens its category.
    verbs = {verb for verb, _ in card_actions(reply.card)}
    assert verbs == {"category.show"}
    _, data = card_actions(reply.card)[0]
    category = await turns.verb("category.show", data, aad("Helen Ashworth"))
    assert "Oakfield Primary" in card_text(category.card or {})


async def test_schools_for_an_adviser_are_theirs_and_for_a_head_their_own(
    sessions: Sessions,
) -> None:
    turns = await demo(sessions)
    adviser = card_text((await turns.message("list schools", aad("Nadia Okafor"))).card or {})
    assert "Your 3 schools" in adviser
    assert "Kingsbridge" not in adviser and "Oakfield Primary" in adviser
    head = card_text((await turns.message("my schools", aad("Marcus Bell"))).card or {})
    assert "Your school" in head and "Oakfield Primary" in head and "Brontë" not in head
    governor = card_text((await turns.message("schools", aad("Ruth Adebayo"))).card or {})
    assert "Oakfield Primary" in governor and "concern" not in governor


async def test_log_coaching_for_a_name_chooses_that_teacher(sessions: Sessions) -> None:
    turns = await demo(sessions)
    liam = await _person_id(sessions, "Liam Doherty")
    form = (await turns.message("log coaching for liam", aad("Priya Shah"))).card or {}
    assert inputs(form)["coachee"]["value"] == str(liam)
    assert "couldn't find" not in card_text(form)


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("log coaching for nobody", "I couldn't find a teacher called “nobody”"),
        ("log coaching for", None),
    ],
)
async def test_log_coaching_for_an_unknown_name_opens_the_form_unchosen(
    sessions: Sessions, typed: str, line: str | None
) -> None:
    turns = await demo(sessions)
    form = (await turns.message(typed, aad("Priya Shah"))).card or {}
    assert inputs(form)["coachee"].get("value") in ("", None)
    if line:
        assert line in card_text(form)


async def test_in_a_shared_room_the_home_card_shows_the_jobs_without_counts(
    sessions: Sessions,
) -> None:
    turns = await demo(sessions)
    turn = await turns.turn(aad("Marcus Bell"))
    turn.shared_room = True
    command = turns.registry.get_command("help")
    assert command is not None
    rows = jobs(await command.handler(turn))
    assert [title for title, _ in rows][:2] == ["Our actions", "Our category"]
    # Each job says what it is for; nothing counted from the school's records.
    assert not any(re.search(r"\d|overdue$", status) for _, status in rows), rows
