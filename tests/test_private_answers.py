"""Private answers stay private: asked for in a group chat or a channel, they go to the
person's own chat with Waypoint; the room reads one neutral line.

Every private command (typed) and every private card verb (Action.Execute and its
Action.Submit fallback), from a group chat and from a channel, over HTTP as Teams
sends them, on SQLite and PostgreSQL. The world (tests/reliability.py) holds one
record of every kind whose every typed text carries the marker "ALPHA", so anything
private that reached the room would be found.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.rooms import NO_PERSONAL_CHAT, PRIVATE_ANSWER, SENT_TO_CHAT, STORE_DOWN
from dialogs.catalogue import build_registry
from storage.engine import create_engine, session_factory
from storage.models import ConversationRef, Delivery
from tests.reliability import (
    AAD,
    NOW,
    SUBJECT,
    Answer,
    Side,
    World,
    action_update,
    answer_of,
    build_world,
    categorise_form,
    changed_tables,
    close_form,
    coaching_form,
    concern_form,
    qa_form,
    review_form,
    served,
    snapshot,
    update_form,
    visit_form,
)
from tests.support import Connector, card_text, cards_in, loopback_connector, message

# The conversation of an activity from a group chat and from a team channel, as Teams
# names them.
ROOMS: dict[str, dict[str, Any]] = {
    "groupChat": {"conversationType": "groupChat", "id": "19:room-chat@thread.v2"},
    "channel": {
        "conversationType": "channel",
        "id": "19:staffroom@thread.tacv2;messageid=1700000000001",
        "isGroup": True,
    },
}


@dataclass(frozen=True)
class Ask:
    """One private request: who asks, and a typed command or a card verb with its data."""

    role: str
    typed: str | None = None
    verb: str | None = None
    data: dict[str, Any] | Callable[[Side], dict[str, Any]] | None = None
    # Shown in the real answer (so it reached the person's chat), never in the room.
    shows: tuple[str, ...] = ()

    def payload(self, side: Side) -> dict[str, Any]:
        data = self.data(side) if callable(self.data) else dict(self.data or {})
        return {"verb": self.verb, **data}


# Card data keys naming a record, and where the world keeps school one's record of that kind.
_RECORDS = {
    "session_id": "coaching",
    "summary_id": "summaries",
    "concern_id": "concerns",
    "action_id": "actions",
    "school_id": "schools",
    "visit_id": "visits",
}


def _names(key: str) -> Callable[[Side], dict[str, Any]]:
    """Card data naming school one's record, as the record's button carries it."""
    return lambda side: {key: getattr(side, _RECORDS[key])["one"]}


COMMANDS: dict[str, Ask] = {
    "whoami": Ask("head", typed="who am i", shows=("Hana Head", "Head")),
    "dashboard": Ask("head", typed="dashboard", shows=("Open dashboard",)),
    "schools": Ask("head", typed="list schools", shows=("Oakfield",)),
    "log_coaching": Ask("coach", typed="log coaching", shows=("Log a coaching session",)),
    "my_coaching": Ask("coach", typed="my coaching", shows=("Sessions you led", "Tom Teacher")),
    "categorise": Ask("trust_lead", typed="categorise oakfield", shows=("Oakfield",)),
    "review": Ask("trust_lead", typed="review oakfield", shows=("Oakfield", "Standards review")),
    "visit": Ask("sia", typed="visit oakfield", shows=("ALPHA action: phonics audit",)),
    "prep_visit": Ask("sia", typed="prep visit oakfield", shows=("ALPHA action: phonics audit",)),
    "visits": Ask("governor", typed="visits", shows=("ALPHA focus: early reading",)),
    "actions": Ask("head", typed="my actions", shows=("ALPHA action: phonics audit",)),
    "qa": Ask("subject_lead", typed="submit qa", shows=(SUBJECT,)),
    "qa_status": Ask("head", typed="qa status", shows=(SUBJECT,)),
    "raise_concern": Ask("teacher", typed="raise concern", shows=("never type a name",)),
    "attendance_concerns": Ask("attendance_lead", typed="concerns", shows=("AL4821",)),
    "digest": Ask("head", typed="digest", shows=("Oakfield",)),
    "digest_report": Ask("trust_lead", typed="digest report", shows=("digest",)),
}

_VERB_ASKS: dict[str, Ask] = {
    "coaching.school": Ask("coach", data=_names("school_id"), shows=("Tom Teacher",)),
    "coaching.save": Ask("coach", data=coaching_form, shows=("saved",)),
    "coaching.edit": Ask("coach", data=_names("session_id"), shows=("ALPHA notes",)),
    "coaching.view": Ask("teacher", data=_names("session_id"), shows=("ALPHA notes",)),
    "categorise.start": Ask("trust_lead", data=_names("school_id"), shows=("Oakfield",)),
    "categorise.save": Ask("trust_lead", data=categorise_form, shows=("Categorisation recorded",)),
    "review.start": Ask("trust_lead", data=_names("school_id"), shows=("Oakfield",)),
    "review.save": Ask("trust_lead", data=review_form, shows=("Standards review recorded",)),
    "visit.start": Ask("sia", data=_names("school_id"), shows=("ALPHA action: phonics audit",)),
    "visit.save": Ask("sia", data=visit_form, shows=("Note of visit saved",)),
    "prep.start": Ask("sia", data=_names("school_id"), shows=("ALPHA action: phonics audit",)),
    "visit.notes": Ask("head", data=_names("school_id"), shows=("ALPHA focus: early reading",)),
    "visit.show": Ask(
        "governor", data=_names("visit_id"), shows=("ALPHA strengths", "ALPHA risks")
    ),
    "actions.show": Ask("head", data=_names("school_id"), shows=("ALPHA action: phonics audit",)),
    "actions.done": Ask("head", data=_names("action_id"), shows=("Your open actions",)),
    "actions.update": Ask("head", data=action_update, shows=("ALPHA action",)),
    "qa.open": Ask(
        "subject_lead",
        data=lambda s: {"school_id": s.schools["one"], "subject": SUBJECT},
        shows=(SUBJECT,),
    ),
    "qa.save": Ask("subject_lead", data=qa_form, shows=("Well sequenced units",)),
    "qa.status": Ask("head", data=_names("school_id"), shows=(SUBJECT,)),
    "qa.status_page": Ask("head", data={"page": 1}, shows=(SUBJECT,)),
    "qa.show": Ask("head", data=_names("summary_id"), shows=("ALPHA strengths",)),
    "attendance.save": Ask("teacher", data=concern_form, shows=("QZ9911",)),
    "attendance.open": Ask("attendance_lead", data=_names("concern_id"), shows=("AL4821",)),
    "attendance.edit": Ask("attendance_lead", data=_names("concern_id"), shows=("AL4821",)),
    "attendance.update": Ask("attendance_lead", data=update_form, shows=("Met the family",)),
    "attendance.closing": Ask("attendance_lead", data=_names("concern_id"), shows=("AL4821",)),
    "attendance.close": Ask("attendance_lead", data=close_form, shows=("closed",)),
    "attendance.list": Ask("attendance_lead", data=_names("school_id"), shows=("AL4821",)),
    "digest.page": Ask("trust_lead", data={"page": 1}, shows=("Oakfield",)),
    "digest.show": Ask("trust_lead", data={}, shows=("Oakfield",)),
}
VERBS = {name: replace(ask, verb=name) for name, ask in _VERB_ASKS.items()}


@dataclass
class Rooms:
    world: World
    connector: Connector

    @property
    def side(self) -> Side:
        return self.world.a

    def body(self, role: str, room: str | None, **extra: Any) -> dict[str, Any]:
        """A Teams activity from the person: in `room`, or in their own chat (None)."""
        body = message(
            "",
            user=AAD[role],
            tenant=self.side.tenant,
            service_url=self.connector.url,
            expect_replies=True,
            conversation_id=f"a:chat-{role}",
        )
        if room is not None:
            body["conversation"] = {**ROOMS[room], "tenantId": self.side.tenant}
        body.update(extra)
        return body

    async def install(self, role: str) -> None:
        """Waypoint added to the person's own chat, as Teams announces it."""
        body = self.body(role, None, type="installationUpdate", action="add")
        body.pop("text")
        response = await self.world.http.post("/api/messages", json=body)
        assert response.status < 300

    async def ask(
        self, ask: Ask, room: str | None, *, submit: bool = False, **extra: Any
    ) -> Answer:
        if ask.typed is not None:
            body = self.body(ask.role, room, text=ask.typed, **extra)
        elif submit:
            body = self.body(ask.role, room, value=ask.payload(self.side), **extra)
        else:
            body = self.body(ask.role, room, type="invoke", name="adaptiveCard/action", **extra)
            body.pop("text")
            body.pop("deliveryMode")
            body["value"] = {
                "action": {
                    "type": "Action.Execute",
                    "verb": ask.verb,
                    "data": ask.payload(self.side),
                },
                "trigger": "manual",
            }
        response = await self.world.http.post("/api/messages", json=body)
        return await answer_of(response)

    async def answers_sent(self, role: str) -> list[str]:
        """What was queued for the person's own chat: each answer as they would read it."""
        async with self.world.sessions() as session:
            rows = await session.scalars(
                select(Delivery)
                .where(
                    Delivery.recipient_id == self.side.people[role],
                    Delivery.kind == PRIVATE_ANSWER,
                )
                .order_by(Delivery.id)
            )
            return [_shown(row.payload) for row in rows]


def _shown(payload: dict[str, Any]) -> str:
    card = payload.get("card")
    return "\n".join([payload.get("text") or "", card_text(card) if card else ""])


@pytest.fixture
async def rooms(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Rooms]:
    world = await build_world(engine, sessions)
    async with loopback_connector() as connector, served(world):
        yield Rooms(world, connector)


def _private_markers(side: Side) -> list[str]:
    """Text that only a private answer could carry into a room."""
    return [*side.texts(), "QZ9911", "Tom Teacher", "Sam Subject", "Hana Head"]


@pytest.mark.parametrize("name", sorted(COMMANDS), ids=str)
async def test_a_private_command_typed_in_a_shared_room_is_answered_in_the_persons_chat(
    rooms: Rooms, name: str
) -> None:
    await _check_redirected(rooms, COMMANDS[name], kinds=(False,))


@pytest.mark.parametrize("name", sorted(VERBS), ids=str)
async def test_a_private_card_action_in_a_shared_room_is_answered_in_the_persons_chat(
    rooms: Rooms, name: str
) -> None:
    await _check_redirected(rooms, VERBS[name], kinds=(False, True))


async def _check_redirected(rooms: Rooms, ask: Ask, *, kinds: tuple[bool, ...]) -> None:
    # Not installed personally: the room is told how to get the answer, nothing is sent.
    for room in ROOMS:
        answer = await rooms.ask(ask, room)
        assert answer.shown == NO_PERSONAL_CHAT, (room, answer.shown)
        _nothing_private(rooms, answer)
    assert await rooms.answers_sent(ask.role) == []

    await rooms.install(ask.role)
    expected = 0
    for room in ROOMS:
        for submit in kinds:
            answer = await rooms.ask(ask, room, submit=submit)
            assert answer.status == 200
            assert answer.shown == SENT_TO_CHAT, (room, submit, answer.shown)
            _nothing_private(rooms, answer)
            expected += 1
            sent = await rooms.answers_sent(ask.role)
            assert len(sent) == expected, (room, submit)
            for shown in ask.shows:
                assert shown in sent[-1], (room, submit, sent[-1])


def _nothing_private(rooms: Rooms, answer: Answer) -> None:
    raw = json.dumps(answer.raw)
    for marker in _private_markers(rooms.side):
        assert marker not in raw, marker
    assert "attachments" not in raw


def test_every_private_command_and_verb_is_checked_here() -> None:
    """A command or verb registered as private without a case above fails here."""
    registry = build_registry()
    assert set(COMMANDS) == {c.key for c in registry.commands() if c.private}
    assert set(VERBS) == {v.name for v in registry.verbs() if v.private}


async def test_the_redirected_answer_reaches_the_persons_own_chat_not_the_room(
    rooms: Rooms,
) -> None:
    assert rooms.world.waypoint is not None
    await rooms.install("attendance_lead")
    answer = await rooms.ask(COMMANDS["attendance_concerns"], "channel")
    assert answer.shown == SENT_TO_CHAT
    await rooms.world.waypoint.notifier.drain()
    [posted] = [p for p in rooms.connector.posted if p["activity"].get("attachments")]
    assert posted["conversation"] == "a:chat-attendance_lead"
    assert rooms.side.pupil("one") in card_text(cards_in([posted["activity"]])[0])
    assert not [p for p in rooms.connector.posted if p["conversation"].startswith("19:")]


async def test_a_button_standing_for_a_private_command_is_answered_in_the_persons_chat(
    rooms: Rooms,
) -> None:
    await rooms.install("attendance_lead")
    button = Ask("attendance_lead", verb="run", data={"command": "attendance_concerns"})
    for room in ROOMS:
        for submit in (False, True):
            answer = await rooms.ask(button, room, submit=submit)
            assert answer.shown == SENT_TO_CHAT, (room, submit)
            _nothing_private(rooms, answer)
    sent = await rooms.answers_sent("attendance_lead")
    assert len(sent) == 4 and all(rooms.side.pupil("one") in shown for shown in sent)


async def test_a_numbered_choice_of_a_private_command_is_answered_in_the_persons_chat(
    rooms: Rooms,
) -> None:
    await rooms.install("head")
    for room in ROOMS:
        asked = await rooms.ask(Ask("head", typed="actions coaching"), room)
        assert asked.shown.startswith("Did you mean one of these?")
        _nothing_private(rooms, asked)
        # The choice is remembered per conversation: the same room answers the number.
        chosen = await rooms.ask(Ask("head", typed="1"), room)
        assert chosen.shown == SENT_TO_CHAT, room
        _nothing_private(rooms, chosen)
    sent = await rooms.answers_sent("head")
    assert len(sent) == 2 and all("ALPHA action: phonics audit" in shown for shown in sent)


async def test_a_numbered_choice_belongs_to_the_person_it_was_offered_to(
    rooms: Rooms,
) -> None:
    await rooms.install("head")
    await rooms.install("attendance_lead")
    asked = await rooms.ask(Ask("head", typed="actions coaching"), "groupChat")
    assert asked.shown.startswith("Did you mean one of these?")
    # Another person in the same group chat types the number: it is not theirs to pick.
    other = await rooms.ask(Ask("attendance_lead", typed="1"), "groupChat")
    assert other.shown.startswith("I didn't catch that"), other.shown
    assert await rooms.answers_sent("attendance_lead") == []
    # The head's choice is still there for the head.
    chosen = await rooms.ask(Ask("head", typed="1"), "groupChat")
    assert chosen.shown == SENT_TO_CHAT
    [shown] = await rooms.answers_sent("head")
    assert "ALPHA action: phonics audit" in shown


async def test_a_person_who_blocked_waypoint_is_told_how_and_sent_nothing(
    rooms: Rooms,
) -> None:
    await rooms.install("attendance_lead")
    async with rooms.world.sessions.begin() as session:
        await session.execute(
            update(ConversationRef)
            .where(ConversationRef.person_id == rooms.side.people["attendance_lead"])
            .values(gone_at=NOW)
        )
    answer = await rooms.ask(COMMANDS["attendance_concerns"], "groupChat")
    assert answer.shown == NO_PERSONAL_CHAT
    assert await rooms.answers_sent("attendance_lead") == []


async def test_nothing_is_stored_from_a_shared_room_without_a_chat_to_answer_in(
    rooms: Rooms,
) -> None:
    before = await snapshot(rooms.world.sessions)
    answer = await rooms.ask(VERBS["attendance.save"], "channel", submit=True)
    assert answer.shown == NO_PERSONAL_CHAT
    assert changed_tables(before, await snapshot(rooms.world.sessions)) == set()


async def test_answers_without_private_data_are_given_in_the_room(rooms: Rooms) -> None:
    typed = await rooms.ask(Ask("head", typed="category oakfield"), "groupChat")
    assert "Refinement" in typed.shown
    shown = await rooms.ask(Ask("head", verb="category.show", data=_names("school_id")), "channel")
    assert "Refinement" in shown.shown
    assert "What I can do for you" in (await rooms.ask(Ask("head", typed="help"), "channel")).shown
    assert await rooms.answers_sent("head") == []


async def test_in_the_persons_own_chat_a_private_answer_is_given_there(rooms: Rooms) -> None:
    await rooms.install("attendance_lead")
    answer = await rooms.ask(COMMANDS["attendance_concerns"], None)
    assert rooms.side.pupil("one") in answer.shown
    assert await rooms.answers_sent("attendance_lead") == []


async def test_a_resent_card_action_sends_one_answer(rooms: Rooms) -> None:
    await rooms.install("attendance_lead")
    for _ in range(2):
        answer = await rooms.ask(VERBS["attendance.open"], "groupChat", id="f:resent-invoke")
        assert answer.shown == SENT_TO_CHAT
    assert len(await rooms.answers_sent("attendance_lead")) == 1


async def test_with_the_store_out_of_reach_a_room_is_not_shown_what_was_submitted(
    rooms: Rooms,
) -> None:
    waypoint = rooms.world.waypoint
    assert waypoint is not None
    form = VERBS["attendance.save"]
    working = waypoint.bot.sessions
    broken = create_engine(f"sqlite:////nonexistent-{uuid.uuid4().hex}/waypoint.db")
    waypoint.bot.sessions = session_factory(broken)
    try:
        for room in ROOMS:
            for submit in (False, True):
                answer = await rooms.ask(form, room, submit=submit)
                assert answer.status == 200
                assert answer.shown == STORE_DOWN, (room, submit)
                assert "QZ9911" not in json.dumps(answer.raw)
        # In the person's own chat the Retry card keeps their answers.
        kept = await rooms.ask(form, None, submit=True)
        [retry] = kept.card["actions"]
        assert retry["data"]["pupil_ref"] == "QZ9911"
    finally:
        waypoint.bot.sessions = working
        await broken.dispose()


async def test_a_conversation_that_does_not_say_its_type_counts_as_shared(
    rooms: Rooms,
) -> None:
    await rooms.install("attendance_lead")
    body = rooms.body("attendance_lead", "groupChat", text="concerns")
    del body["conversation"]["conversationType"]
    answer = await answer_of(await rooms.world.http.post("/api/messages", json=body))
    assert answer.shown == SENT_TO_CHAT
    _nothing_private(rooms, answer)


async def test_an_install_that_does_not_say_its_type_is_no_chat_for_private_answers(
    rooms: Rooms,
) -> None:
    install = rooms.body("attendance_lead", "groupChat", type="installationUpdate", action="add")
    del install["conversation"]["conversationType"]
    assert (await rooms.world.http.post("/api/messages", json=install)).status < 300
    answer = await rooms.ask(COMMANDS["attendance_concerns"], "groupChat")
    assert answer.shown == NO_PERSONAL_CHAT
    assert await rooms.answers_sent("attendance_lead") == []
