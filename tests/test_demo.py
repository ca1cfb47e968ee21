"""The demo trust and the Agents Playground configuration that points at it."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.demo import (
    DEMO_TENANT_ID,
    DEMO_TRUST_NAME,
    PEOPLE_CSV,
    load_demo,
    store_is_empty,
)
from storage.directory import TrustExists, actor_for, add_trust, trust_by_tenant
from storage.models import (
    Category,
    Framework,
    Person,
    PersonRole,
    PersonSubject,
    Role,
    School,
    Trust,
)

Sessions = async_sessionmaker[AsyncSession]

PLAYGROUND = Path(__file__).resolve().parent.parent / ".m365agentsplayground.yml"
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


# --- the Agents Playground configuration -----------------------------------------------


def parse_playground(text: str) -> Any:
    """Block mappings, block sequences and scalars: the YAML this file uses.

    PyYAML is not a dependency, and this is all the configuration needs.
    """
    lines = [
        (len(line) - len(line.lstrip(" ")), line.strip())
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    value, end = _block(lines, 0, lines[0][0])
    assert end == len(lines), f"unparsed line: {lines[end][1]}"
    return value


def _block(lines: list[tuple[int, str]], at: int, indent: int) -> tuple[Any, int]:
    if lines[at][1].startswith("- "):
        items = []
        while at < len(lines) and lines[at][0] == indent and lines[at][1].startswith("- "):
            # An item's first line sits after its dash, in line with the lines below it.
            lines[at] = (indent + 2, lines[at][1][2:])
            item, at = _block(lines, at, indent + 2)
            items.append(item)
        return items, at
    mapping: dict[str, Any] = {}
    while at < len(lines) and lines[at][0] == indent and not lines[at][1].startswith("- "):
        key, colon, rest = lines[at][1].partition(":")
        assert colon, f"not a mapping entry: {lines[at][1]}"
        at += 1
        if rest.strip():
            mapping[key] = rest.strip().strip('"')
        else:
            mapping[key], at = _block(lines, at, lines[at][0])
    return mapping, at


def claimed_roles(text: str) -> dict[str, str]:
    """The role the `# role:` comment above each user claims, by the user's id."""
    found = re.findall(r"#\s*role:\s*(\w+)\s*\n\s*(?:currentUser:\s*\n\s*)?-?\s*id:\s*(\S+)", text)
    return {user_id: role for role, user_id in found}


def test_the_playground_config_has_the_shape_the_playground_requires() -> None:
    config = parse_playground(PLAYGROUND.read_text(encoding="utf-8"))
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


def test_the_playground_users_are_five_people_in_five_roles() -> None:
    text = PLAYGROUND.read_text(encoding="utf-8")
    config = parse_playground(text)
    roles = claimed_roles(text)
    assert set(roles) == {user["id"] for user in [config["currentUser"], *config["users"]]}
    assert sorted(roles[user["id"]] for user in config["users"]) == sorted(
        ["coach", "head", "teacher", "subject_lead", "trust_lead"]
    )


async def test_every_playground_user_is_a_demo_person_with_the_claimed_role(
    sessions: Sessions,
) -> None:
    text = PLAYGROUND.read_text(encoding="utf-8")
    config = parse_playground(text)
    roles = claimed_roles(text)
    await loaded(sessions)
    async with sessions() as session:
        trust = await trust_by_tenant(session, config["tenantId"])
        assert trust is not None
        for user in [config["currentUser"], *config["users"]]:
            actor = await actor_for(session, trust=trust, aad_object_id=user["aadObjectId"])
            assert actor is not None, user["name"]
            assert actor.display_name == user["name"]
            assert Role(roles[user["id"]]) in actor.roles, user["name"]
            person = await session.get(Person, actor.person_id)
            assert person is not None and person.email == user["email"]


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
