"""Card verbs are names the code shares (dialogs/registry.py).

Every verb a card names is registered (else pressing it says "out of date" at run
time), every command a button runs exists, and every registered verb is reached:
some card, drawn by a command or by a card it leads to, names it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cards.render import render_card
from dialogs.catalogue import build_registry
from dialogs.registry import EdgeVerb
from dialogs.turn import Reply
from storage.engine import Sessions
from storage.models import PersonSubject
from tests.card_samples import SAMPLES
from tests.reliability import AAD, NOW, PEOPLE, build_world
from tests.support import Turns, add_person, add_school, card_actions, card_inputs

REGISTRY = build_registry()
COMMANDS = {command.key for command in REGISTRY.commands()}
# A typed name that matches many schools: every command that takes a school then
# asks which, on a card whose button is its own verb.
AMBIGUOUS = "academy"
# Enough schools that a trust lead chooses the school first when logging coaching,
# and that a many-school QA status has a second page.
EXTRA_SCHOOLS = 21
# Presses followed at most: a crawl that never ends is a bug of its own.
MAX_PRESSES = 3000


def _named(card: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The verbs a card's buttons name, and the commands its "run" buttons run."""
    verbs: set[str] = set()
    commands: set[str] = set()
    for verb, data in card_actions(card):
        if verb == EdgeVerb.run:
            commands.add(str(data.get("command")))
        else:
            verbs.add(verb)
    return verbs, commands


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_every_verb_and_command_a_card_names_is_registered(template: str) -> None:
    for values in SAMPLES[template]:
        card = render_card(template, **copy.deepcopy(values))
        verbs, commands = _named(card)
        assert verbs <= REGISTRY.verb_names(), f"{template}: {verbs - REGISTRY.verb_names()}"
        assert commands <= COMMANDS, f"{template}: {commands - COMMANDS}"


def test_the_registry_lists_its_verbs_and_refuses_the_edges_own() -> None:
    names = {verb.name for verb in REGISTRY.verbs()}
    assert names and names < REGISTRY.verb_names()
    assert EdgeVerb.run in REGISTRY.verb_names()
    with pytest.raises(ValueError, match="the edge's own"):
        REGISTRY.verb(EdgeVerb.run, private=False)


async def _bigger(sessions: Sessions, trust_id: int) -> None:
    """Schools whose names all contain AMBIGUOUS, each with a teacher; and a subject
    the subject lead has not submitted for yet."""
    for n in range(EXTRA_SCHOOLS):
        school_id = await add_school(sessions, trust_id, f"2000{n:02d}", f"Castle Academy {n}")
        async with sessions.begin() as session:
            aad = f"dddddddd-0000-4000-8000-{n:012d}"
            await add_person(session, trust_id, aad, f"Teacher {n}", ["teacher"], [school_id])
    lead = await Turns(sessions, now=NOW).actor(AAD["subject_lead"])
    async with sessions.begin() as session:
        session.add(PersonSubject(person_id=lead.person_id, subject="Geography"))


async def test_every_registered_verb_is_reached_from_a_command(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    world = await build_world(engine, sessions)
    await _bigger(sessions, world.a.trust_id)
    turns = Turns(sessions, now=NOW)
    users = {AAD[key]: key for key in PEOPLE}
    person_ids = {(await turns.actor(user)).person_id: user for user in users}

    pending: list[tuple[str, dict[str, Any]]] = []

    def drawn(user: str, reply: Reply) -> None:
        if reply.card is not None:
            pending.append((user, reply.card))

    for user in users:
        actor = await turns.actor(user)
        for command in REGISTRY.commands_for(actor):
            drawn(user, await turns.command(command.key, user))
            drawn(user, await turns.command(command.key, user, AMBIGUOUS))

    reached: set[str] = set()
    pressed: set[tuple[str, str, str]] = set()
    while pending:
        assert len(pressed) < MAX_PRESSES, "the crawl did not end"
        user, card = pending.pop()
        inputs = card_inputs(card)
        for verb, data in card_actions(card):
            if verb == EdgeVerb.run:
                continue
            reached.add(verb)
            registered = REGISTRY.get_verb(verb)
            assert registered is not None, f"a card names {verb!r}, which is not registered"
            key = (user, verb, json.dumps(data, sort_keys=True, default=str))
            if key in pressed or not registered.allowed(await turns.actor(user)):
                continue
            pressed.add(key)
            drawn(user, await turns.verb(verb, {**inputs, **data}, user))
        # Notices (a new action step, a concern for the attendance lead) are cards too.
        while turns.notices.sent:
            person_id, notice = turns.notices.sent.pop()
            if person_id in person_ids:
                drawn(person_ids[person_id], notice)

    unreached = {verb.name for verb in REGISTRY.verbs()} - reached
    assert not unreached, f"registered, but no card names them: {sorted(unreached)}"
