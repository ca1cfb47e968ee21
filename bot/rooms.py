"""Shared rooms: a private answer asked for in a group chat or channel goes to the
person's own chat with Waypoint, never into the room.

Teams names the room in `conversation.conversationType`: "personal" for someone's
one-to-one chat with Waypoint, "groupChat" or "channel" for rooms others read.
Anything but "personal", a missing type included, counts as shared: a wrong guess
that way costs a detour, the other way a leak.

An Action.Execute answer is shown only in the client of the person who pressed the
button (Teams, "User Specific Views"), but it stands in the room's card there, on a
screen that may be shared in a meeting, while everyone else keeps the original; and
the same button's Action.Submit fallback is answered with a message the whole room
reads. So a private invoke in a shared room is answered with the same neutral line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment

from cards.render import ADAPTIVE_CARD, render_card
from dialogs.turn import Notifier, Reply
from storage.directory import Actor

PERSONAL = "personal"
# The outbox kind of a private answer redirected to the person's own chat.
PRIVATE_ANSWER = "private_answer"

SENT_TO_CHAT = "I've sent that to you in our chat."
NO_PERSONAL_CHAT = (
    "That answer is private, so I won't post it here, and you have no chat with me "
    "where I could send it. In Teams, open Apps, find Waypoint and choose Add (or Open "
    "if you have it), then ask me again in that chat."
)
STORE_DOWN = (
    "Waypoint can't reach its records right now. Nothing was changed; please try again in a minute."
)


class PersonalChats(Notifier, Protocol):
    """Where private answers go: the person's own chat, through the outbox."""

    async def reachable(self, *, trust_id: int, person_id: int) -> bool:
        """Whether the person has a chat with Waypoint that can be sent to now."""
        ...

    def wake_sender(self) -> None:
        """Something became due (a person installed Waypoint): send without delay."""
        ...


async def answer_in_room(
    activity: Activity,
    actor: Actor,
    chats: PersonalChats,
    *,
    private: bool,
    answer: Callable[[], Awaitable[Reply]],
) -> Reply:
    """`answer()` for the room it was asked in; or, when it is private and the room
    is shared, queued for the person's own chat, and the room told only that."""
    if not private or not in_shared_room(activity):
        return await answer()
    if not await chats.reachable(trust_id=actor.trust_id, person_id=actor.person_id):
        # Nothing is done whose outcome the person could not be told.
        return Reply(text=NO_PERSONAL_CHAT)
    reply = await answer()
    await chats.notify(
        trust_id=actor.trust_id,
        person_id=actor.person_id,
        reply=reply,
        kind=PRIVATE_ANSWER,
        key=answer_key(activity),
    )
    return Reply(text=SENT_TO_CHAT)


def in_shared_room(activity: Activity) -> bool:
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation is not None else None
    return kind != PERSONAL


def answer_key(activity: Activity) -> str | None:
    """The redirected answer's once-only key: Teams resends an invoke it got no
    answer to in time, and the person should get one answer, not two."""
    if not activity.id or activity.conversation is None:
        return None
    where = f"{activity.channel_id}|{activity.conversation.id}|{activity.id}"
    return "answer:" + hashlib.sha256(where.encode()).hexdigest()[:40]


def store_down_reply(activity: Activity) -> Reply:
    """The store is out of reach. In the person's own chat a submitted form comes
    back on a Retry card that keeps their answers; in a shared room nothing they
    submitted is repeated, only that nothing was changed."""
    data = submitted_data(activity)
    if data is None or in_shared_room(activity):
        return Reply(text=STORE_DOWN)
    return Reply(card=render_card("store_down", data=data))


def submitted_data(activity: Activity) -> dict[str, Any] | None:
    """What a card submit carried (its data merged with its inputs), if this was one."""
    value = activity.value
    if activity.type == ActivityTypes.invoke and isinstance(value, dict):
        action = value.get("action")
        if isinstance(action, dict) and isinstance(action.get("data"), dict):
            verb = action.get("verb")
            return {**action["data"], "verb": verb} if isinstance(verb, str) else None
        return None
    if activity.type == ActivityTypes.message and isinstance(value, dict) and value.get("verb"):
        return dict(value)
    return None


async def send_reply(context: TurnContext, reply: Reply) -> None:
    """Send a dialog's answer in the turn's conversation: its card with its text, or
    the text alone."""
    if reply.card is not None:
        message = MessageFactory.attachment(
            Attachment(content_type=ADAPTIVE_CARD, content=reply.card), text=reply.text
        )
        await context.send_activity(message)
    elif reply.text:
        await context.send_activity(reply.text)
