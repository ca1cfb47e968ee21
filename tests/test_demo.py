"""The demo trust and the Agents Playground configuration that points at it."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main as waypoint
from bot.cli.playground import playground_config
from storage.demo import (
    DEMO_TENANT_ID,
    DEMO_TRUST_NAME,
    DEMO_USERS,
    PEOPLE_CSV,
    load_demo,
    store_is_empty,
)
from storage.digests import trust_position
from storage.directory import TrustExists, actor_for, add_trust, trust_by_tenant
from storage.engine import Sessions
from storage.models import (
    Base,
    Category,
    Framework,
    Person,
    PersonRole,
    PersonSubject,
    Role,
    School,
    Trust,
    UTCDateTime,
)
from tests.support import Turns, card_text

ROOT = Path(__file__).resolve().parent.parent
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def loaded(sessions: Sessions) -> Trust:
    async with sessions.begin() as session:
        return await load_demo(session)


async def counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__name__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Trust, Framework, Category, School, Person, PersonRole)
        }


# --- the demo trust, on both stores ----------------------------------------------------


async def test_the_demo_trust_has_six_schools_in_two_hubs(sessions: Sessions) -> None:
    trust = await loaded(sessions)
    async with sessions() as session:
        assert (trust.tenant_id, trust.name) == (DEMO_TENANT_ID, DEMO_TRUST_NAME)
        framework = await session.scalar(select(Framework).where(Framework.trust_id == trust.id))
        assert framework is not None and framework.key == "five-categories"
        schools = list(await session.scalars(select(School).where(School.trust_id == trust.id)))
    assert len(schools) == 6
    names = {school.name for school in schools}
    # Apostrophes and letters beyond ASCII come back exactly as written.
    assert {"St Mary's C of E Primary", "Brontë Academy", "Ysgol Gymraeg Llwyncelyn"} <= names
    assert {school.phase for school in schools} == {"primary", "secondary"}
    assert len({school.hub for school in schools}) == 2
    assert all(re.fullmatch(r"[0-9]{6}", school.urn) for school in schools)


async def test_the_demo_trust_has_people_in_every_role(sessions: Sessions) -> None:
    trust = await loaded(sessions)
    async with sessions() as session:
        people = list(await session.scalars(select(Person).where(Person.trust_id == trust.id)))
        schools = {
            school.id: school.name
            for school in await session.scalars(select(School).where(School.trust_id == trust.id))
        }
        subjects = set(await session.scalars(select(PersonSubject.subject)))

    with PEOPLE_CSV.open(encoding="utf-8") as file:
        assert len(people) == sum(1 for _ in csv.DictReader(file))
    assert 35 <= len(people) <= 45
    roles_of = {p.display_name: {Role(r.role) for r in p.roles} for p in people}
    assert set().union(*roles_of.values()) == set(Role)

    by_school: defaultdict[str, Counter[Role]] = defaultdict(Counter)
    sia_schools = []
    for person in people:
        roles = roles_of[person.display_name]
        for link in person.roles:
            if link.school_id is not None:
                by_school[schools[link.school_id]][Role(link.role)] += 1
        if Role.sia in roles:
            sia_schools.append(len({link.school_id for link in person.roles}))
        if roles & {Role.trust_lead, Role.admin}:
            # Trust-wide by role, not by a list of schools.
            assert all(link.school_id is None for link in person.roles)
    for name in schools.values():
        assert by_school[name][Role.head] == 1, name
        assert 3 <= by_school[name][Role.teacher] <= 5, name
    assert sia_schools == [3, 3]
    assert {"English", "Mathematics", "Science", "History", "Geography", "Art"} <= subjects

    assert {"Catherine O'Neill", "Seán O'Brien", "Zoë Fairbairn", "Søren Lund"} <= set(roles_of)
    assert "Aoife Ní Bhriain" in roles_of
    for person in people:
        assert person.email.endswith("@demo.waypoint.example")
        assert GUID.fullmatch(person.aad_object_id)


async def test_loading_the_demo_twice_is_refused_and_changes_nothing(
    sessions: Sessions,
) -> None:
    async with sessions() as session:
        assert await store_is_empty(session)
    await loaded(sessions)
    before = await counts(sessions)
    async with sessions.begin() as session:
        assert not await store_is_empty(session)
        with pytest.raises(TrustExists):
            await load_demo(session)
    assert await counts(sessions) == before


async def test_any_trust_makes_the_store_non_empty(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await add_trust(session, tenant_id="another", name="Another", framework_key="four-phases")
    async with sessions() as session:
        assert not await store_is_empty(session)
    # The demo has a tenant of its own, so it can still sit beside another trust.
    await loaded(sessions)
    assert (await counts(sessions))["Trust"] == 2


# --- the Agents Playground configuration (make playground ROLE=…) ----------------------


def claimed_roles(text: str) -> dict[str, str]:
    """The role the `# role:` comment above each user claims, by the user's id."""
    found = re.findall(
        r'#\s*role:\s*(\w+)\s*\n\s*(?:currentUser:\s*\n\s*)?-?\s*id:\s*"?([^"\s]+)', text
    )
    return {user_id: role for role, user_id in found}


def test_every_role_has_a_demo_user() -> None:
    # Every role a person has a conversation in (the admin works at the command line).
    assert set(DEMO_USERS) == set(Role) - {Role.admin}
    assert len(set(DEMO_USERS.values())) == len(DEMO_USERS)


@pytest.mark.parametrize("role", list(DEMO_USERS), ids=str)
def test_the_playground_config_has_the_shape_the_playground_requires(role: Role) -> None:
    text = playground_config(role)
    config = yaml.safe_load(text)
    assert set(config) == {
        "version",
        "tenantId",
        "bot",
        "currentUser",
        "users",
        "personalChat",
        "groupChat",
        "team",
    }
    assert config["version"] == "0.1.1"
    assert config["tenantId"] == DEMO_TENANT_ID
    assert config["currentUser"]["name"] == DEMO_USERS[role]
    # The playground refuses any other number of users (its schema's min and max).
    assert len(config["users"]) == 5
    everyone = [config["currentUser"], *config["users"]]
    fields = {"id", "name", "userPrincipleName", "aadObjectId", "givenName", "surname", "email"}
    assert all(set(user) == fields for user in everyone)
    assert len({user["id"] for user in everyone}) == 6
    assert len({user["aadObjectId"] for user in everyone}) == 6
    assert len(config["team"]["channels"]) <= 1
    chat_ids = [config["personalChat"]["id"], config["groupChat"]["id"], config["team"]["id"]]
    assert len(set(chat_ids + [c["id"] for c in config["team"]["channels"]])) == 4
    roles = claimed_roles(text)
    assert set(roles) == {user["id"] for user in everyone}
    assert roles[config["currentUser"]["id"]] == role
    # The comment says who the current user is.
    assert f"{role.value:<16} {DEMO_USERS[role]}   <- current user" in text


async def test_every_playground_user_is_a_demo_person_with_the_claimed_role(
    sessions: Sessions,
) -> None:
    await loaded(sessions)
    async with sessions() as session:
        trust = await trust_by_tenant(session, DEMO_TENANT_ID)
        assert trust is not None
        for role in DEMO_USERS:
            text = playground_config(role)
            config = yaml.safe_load(text)
            roles = claimed_roles(text)
            for user in [config["currentUser"], *config["users"]]:
                actor = await actor_for(session, trust=trust, aad_object_id=user["aadObjectId"])
                assert actor is not None, user["name"]
                assert actor.display_name == user["name"]
                assert Role(roles[user["id"]]) in actor.roles, user["name"]
                person = await session.get(Person, actor.person_id)
                assert person is not None and person.email == user["email"]


def test_the_config_comment_the_readme_and_the_makefile_start_the_same_playground() -> None:
    comment = [
        line.removeprefix("#").strip()
        for line in playground_config(Role.head).splitlines()
        if line.startswith("#   ") and ("npx" in line or "-c msteams" in line)
    ]
    version = json.loads((ROOT / "tools" / "package.json").read_text("utf-8"))["devDependencies"][
        "@microsoft/m365agentsplayground"
    ]
    assert comment == [
        f"TEAMSAPPTESTER_BROWSER=none npx @microsoft/m365agentsplayground@{version} \\",
        "-c msteams -e http://127.0.0.1:3978/api/messages --disable-telemetry",
    ]
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Try it in the Microsoft 365 Agents Playground")[1].split("\n## ")[0]
    assert "make playground ROLE=" in section
    assert all(line in section for line in comment)
    for role in DEMO_USERS:
        assert f"ROLE={role.value}" in section, role
        assert DEMO_USERS[role] in section, role
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "-c msteams -e http://127.0.0.1:3978/api/messages --disable-telemetry" in makefile
    assert "TEAMSAPPTESTER_BROWSER=none" in makefile
    assert "--output .m365agentsplayground.yml" in makefile
    # Written per role, never kept in git.
    assert ".m365agentsplayground.yml" in (ROOT / ".gitignore").read_text("utf-8")


def test_playground_config_writes_the_file_for_the_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / ".m365agentsplayground.yml"
    written = waypoint(["playground-config", "--role", "attendance_lead", "--output", str(target)])
    assert written == 0
    assert "as Kerry Walsh (attendance_lead)" in capsys.readouterr().out
    assert yaml.safe_load(target.read_text("utf-8"))["currentUser"]["name"] == "Kerry Walsh"
    with pytest.raises(SystemExit):
        waypoint(["playground-config", "--role", "admin"])


async def test_every_demo_school_has_a_category_to_show(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from storage.categories import current_categorisations

    async with sessions.begin() as session:
        trust = await load_demo(session)
    async with sessions() as session:
        current = await current_categorisations(session, trust_id=trust.id)
        names = {
            school.name: current[school.id].category_name
            for school in await session.scalars(select(School).where(School.trust_id == trust.id))
        }
    assert names["Oakfield Primary"] == "Recovery"
    assert names["Brontë Academy"] == "Excellence"
    assert len(names) == 6


# --- the term of history: what each demo user sees ---------------------------------------

# A Wednesday in the last weeks of the autumn term, with the QA window open.
TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
PEOPLE = {role: name for role, name in DEMO_USERS.items()}


async def demo_turns(sessions: Sessions, today: date = TODAY) -> Turns:
    async with sessions.begin() as session:
        await load_demo(session, today=today)
    return Turns(sessions, now=NOW, tenant=DEMO_TENANT_ID)


def aad(role: Role) -> str:
    with PEOPLE_CSV.open(encoding="utf-8") as file:
        ids = {row["display_name"]: row["aad_object_id"] for row in csv.DictReader(file)}
    return ids[DEMO_USERS[role]]


async def seen(turns: Turns, key: str, role: Role, args: str = "") -> str:
    reply = await turns.command(key, aad(role), args)
    return "\n".join(filter(None, [reply.text, card_text(reply.card) if reply.card else ""]))


async def test_the_head_sees_overdue_rated_and_done_actions_and_every_view(
    sessions: Sessions,
) -> None:
    turns = await demo_turns(sessions)
    actions = await seen(turns, "actions", Role.head)
    assert "Your open actions" in actions
    assert "Overdue: was due 21 October 2026" in actions
    # RAG history across two visits, the latest last.
    assert "RAG: amber (21 Oct, Nadia Okafor) → red (18 Nov, Nadia Okafor)" in actions
    assert "Done, awaiting the adviser's rating" in actions
    assert "Due 23 December 2026" in actions
    qa = await seen(turns, "qa_status", Role.head)
    assert "0 of 1 subject submitted" in qa and "Mathematics: Zoë Fairbairn" in qa
    coverage = await seen(turns, "coaching_coverage", Role.head)
    assert (
        "Oakfield Primary\n4 teachers · 0.5 sessions per teacher · 33% cancelled\n0%\n25%"
        in coverage
    )
    visits = await seen(turns, "visits", Role.head)
    assert "3 of 6 visits this year (2026-27)" in visits
    assert "Visit 3 · Wed 18 Nov 2026" in visits and "2 earlier actions rated" in visits
    category = await seen(turns, "category", Role.head)
    assert "Recovery" in category and "Reinforcement → Recovery" in category
    # The improvement target falls due within weeks.
    assert "Target date\n31 December 2026" in category
    digest = await seen(turns, "digest", Role.head)
    assert "Needs attention: Recovery" in digest


async def test_coach_teacher_subject_lead_attendance_lead_and_governor_each_see_something(
    sessions: Sessions,
) -> None:
    turns = await demo_turns(sessions)
    coaching = await seen(turns, "my_coaching", Role.coach)
    due = coaching.split("Due a session")[1].split("Sessions you led")[0]
    assert "Liam Doherty" in due and "(56 days)" in due
    assert "Hannah Greene · Modelling" in coaching and "cancelled" in coaching
    mine = await seen(turns, "my_coaching", Role.teacher)
    assert "Your current action step" in mine and "From Priya Shah, Wed 7 Oct 2026" in mine
    qa = await seen(turns, "qa_status", Role.subject_lead)
    assert "Mathematics at Oakfield Primary: not yet submitted" in qa
    concerns = await seen(turns, "attendance_concerns", Role.attendance_lead)
    assert "3 open, the most overdue review first." in concerns
    assert "Review overdue by" in concerns
    assert {"Monitor", "Facilitate support", "Formalise support"} <= {
        line.split(" · ")[0] for line in concerns.splitlines()
    }
    governed = await seen(turns, "category", Role.governor)
    assert "Recovery" in governed
    assert "Visit 3" in await seen(turns, "visits", Role.governor)
    assert "Your school's actions" in await seen(turns, "actions", Role.governor)


async def test_the_adviser_and_the_trust_lead_see_their_schools(sessions: Sessions) -> None:
    turns = await demo_turns(sessions)
    qa = await seen(turns, "qa_status", Role.sia)
    assert "Across your 3 schools: 3 of 4 submitted." in qa
    assert "Visit 3" in await seen(turns, "visits", Role.sia, "oakfield")
    coverage = await seen(turns, "coaching_coverage", Role.trust_lead)
    assert (
        "Brontë Academy\n5 teachers · 2 sessions per teacher · 0% cancelled\n60%\n100%" in coverage
    )
    overdue = await seen(turns, "actions", Role.trust_lead)
    assert "Overdue actions across Waypoint Demo Trust" in overdue
    assert "Kingsbridge Secondary" in overdue and "Oakfield Primary" in overdue


async def test_the_trust_digest_lists_three_schools_for_stated_reasons(sessions: Sessions) -> None:
    turns = await demo_turns(sessions)
    async with sessions() as session:
        trust = await trust_by_tenant(session, DEMO_TENANT_ID)
        assert trust is not None
        position = await trust_position(session, trust_id=trust.id, today=TODAY)
    reasons = {school.name: school.reasons for school in position.schools}
    attention = {name for name, given in reasons.items() if given}
    assert attention == {"Oakfield Primary", "Ysgol Gymraeg Llwyncelyn", "Kingsbridge Secondary"}
    # Each reason once, the most severe first.
    assert reasons["Oakfield Primary"] == [
        "Recovery category",
        "2 overdue actions",
        "coaching 25% in 6 weeks (target 80%)",
    ]
    assert reasons["Ysgol Gymraeg Llwyncelyn"] == ["1 new severe-absence concern"]
    assert reasons["Kingsbridge Secondary"] == ["1 overdue action", "1 red QA judgement (English)"]
    # Brontë Academy (Excellence) has no issue at all.
    assert reasons["Brontë Academy"] == []

    digest = await seen(turns, "digest", Role.trust_lead)
    listed = digest.split("Needs attention (3)")[1].split("Other schools")[0]
    assert "Brontë Academy" not in listed
    assert all(name in listed for name in attention)
    # Counts only: no pupil reference reaches the digest.
    assert not re.search(r"DEMO\d", digest)


@pytest.mark.parametrize("today", [date(2027, 2, 10), date(2026, 9, 5)], ids=str)
async def test_on_any_day_the_attention_list_is_the_same_three(
    sessions: Sessions, today: date
) -> None:
    # Outside the QA window and on a Saturday at the start of the year as well.
    async with sessions.begin() as session:
        trust = await load_demo(session, today=today)
        position = await trust_position(session, trust_id=trust.id, today=today)
    assert {school.name for school in position.schools if school.reasons} == {
        "Oakfield Primary",
        "Ysgol Gymraeg Llwyncelyn",
        "Kingsbridge Secondary",
    }


async def snapshot(sessions: Sessions) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, without the ids the store hands out and the moments
    that default to the wall clock's (when a row was written, not what it says)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns: list[Any] = [
                c
                for c in table.columns
                if not c.primary_key
                and not c.foreign_keys
                and not c.name.endswith("_id")
                and not (isinstance(c.type, UTCDateTime) and c.default is not None)
            ]
            if not columns:  # ids only: how many
                columns = [func.count().label("rows")]
            rows = (await session.execute(select(*columns).select_from(table))).all()
            found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


async def test_the_demo_is_the_same_every_time_for_the_same_day(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await load_demo(session, today=TODAY)
    first = await snapshot(sessions)
    async with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(table.delete())
    async with sessions.begin() as session:
        await load_demo(session, today=TODAY)
    assert await snapshot(sessions) == first
    assert sum(map(len, first.values())) > 300
