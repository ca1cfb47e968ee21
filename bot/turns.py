"""Waypoint's bot: one turn from an activity to an answer.

Identity is resolved once here; dialogs get an `Actor` and answer a `Reply`.
botbuilder types stop at this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.schema import ActivityTypes
from pydantic import ValidationError

from bot.adapter import turn_is_authenticated
from bot.identity import identify
from bot.invokes import ExecuteValue, error_body, invoke_body, invoke_response
from bot.metrics import Outcome, mark_turn
from bot.once import IN_FLIGHT, claim_turn, finish_turn, release_turn
from bot.rooms import PersonalChats, answer_in_room, in_shared_room, send_reply, store_down_reply
from dialogs.home import choices_text, unmatched, welcome
from dialogs.matcher import Ambiguous, Matched
from dialogs.registry import Registry
from dialogs.roles import ROLE_LABELS
from dialogs.turn import DashboardLinks, Handler, Reply, Turn
from storage.audit import record_refusal
from storage.conversations import remove_reference, save_reference
from storage.deliveries import Claim, claim_token
from storage.directory import Actor
from storage.directory_cache import DirectoryCache
from storage.engine import Sessions, TurnSessions, store_unavailable

log = logging.getLogger("waypoint.turn")

CHOICES = "choices"
# The turn's reads (who sent it, then the handler's) share one read transaction.
_READS: ContextVar[TurnSessions | None] = ContextVar("waypoint_turn_reads", default=None)


class WaypointBot:
    def __init__(
        self,
        *,
        sessions: Sessions,
        registry: Registry,
        conversation_state: ConversationState,
        notifier: PersonalChats,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        dashboard_links: DashboardLinks | None = None,
    ) -> None:
        self.sessions = sessions
        self.notifier = notifier
        self.dashboard_links = dashboard_links
        self.registry = registry
        self.conversation_state = conversation_state
        self.clock = clock
        self._choices = conversation_state.create_property(CHOICES)
        # Who this app identified, while their trust's directory version holds.
        self.directory = DirectoryCache()

    # -- the turn ---------------------------------------------------------------

    async def on_turn(self, context: TurnContext) -> None:
        try:
            await self._handle_once(context)
        except Exception as error:
            if not store_unavailable(error):
                raise
            mark_turn(Outcome.error, store_down=True)
            log.warning("store unavailable during a turn: %s", type(error).__name__)
            await self._answer_store_down(context)

    async def _handle_once(self, context: TurnContext) -> None:
        activity = context.activity
        mine = claim_token()
        claim = await claim_turn(self.sessions, activity, mine)
        if claim is Claim.handled or claim is Claim.in_flight:
            mark_turn(Outcome.redelivered)
            # Being answered elsewhere: the adapter answers 503 so the channel retries.
            context.turn_state[IN_FLIGHT] = claim is Claim.in_flight
            return
        token = _READS.set(reads := TurnSessions(self.sessions))
        answered = False
        try:
            if activity.type == ActivityTypes.message:
                await self._on_message(context)
            elif activity.type == ActivityTypes.invoke:
                await self._on_invoke(context)
            elif activity.type in (
                ActivityTypes.conversation_update,
                ActivityTypes.installation_update,
            ):
                await self._on_install_change(context)
            await self.conversation_state.save_changes(context)
            answered = True
        except Exception:
            if claim is Claim.first:
                await release_turn(self.sessions, activity, mine)
            raise
        finally:
            _READS.reset(token)
            # The mark as soon as it can be (a replica killed before it has its retry
            # answered again), while the read gives its connection back: the mark
            # needs one of its own, and waiting for it before giving this one back
            # deadlocked a busy pool (every connection held by a turn's read).
            closing = asyncio.ensure_future(reads.close())
            try:
                if answered and claim is Claim.first:
                    await finish_turn(self.sessions, activity, mine)
            finally:
                await closing

    async def _answer_store_down(self, context: TurnContext) -> None:
        """The store is out of reach: keep what the person submitted on a Retry card
        (in their own chat; never in a room others read)."""
        activity = context.activity
        reply = store_down_reply(activity)
        if activity.type == ActivityTypes.invoke:
            await invoke_response(context, 200, invoke_body(reply))
        else:
            await send_reply(context, reply)

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        """A failed turn: forget the conversation's dialog state so it can't wedge the user."""
        log.error("turn failed: %s", type(error).__name__, exc_info=error)
        mark_turn(Outcome.error)
        try:
            # botbuilder's delete() raises KeyError unless the state was loaded this turn.
            await self.conversation_state.load(context)
            await self.conversation_state.delete(context)
        except Exception:
            log.exception("could not clear conversation state after a failed turn")
        if context.activity.type == ActivityTypes.invoke:
            await invoke_response(
                context, 500, error_body(500, "Waypoint hit a problem; please try again.")
            )
            return
        await context.send_activity(
            "Sorry, something went wrong on my side and nothing was saved from that "
            "message. Please try again in a moment."
        )

    # -- messages ---------------------------------------------------------------

    async def _on_message(self, context: TurnContext) -> None:
        activity = context.activity
        value = activity.value if isinstance(activity.value, dict) else None
        text = activity.text or ""
        if value is not None and not text.strip():
            await self._on_card_submit(context, value)
            return
        actor = await self._identify(context)
        if actor is None:
            return
        chosen = await self._pending_choice(context, actor, text)
        if chosen is not None:
            await send_reply(context, await self._run_command(context, actor, chosen, ""))
            return
        match = self.registry.match(text)
        if isinstance(match, Ambiguous):
            # A group chat shares its conversation state: the choice is the asker's.
            keys = [c.key for c in match.commands]
            await self._choices.set(context, {"person_id": actor.person_id, "keys": keys})
            await context.send_activity(choices_text(match.commands))
            return
        if isinstance(match, Matched):
            reply = await self._run_command(context, actor, match.command.key, match.args)
        else:
            # Greetings, thanks, anything else: the home card or a confident "did you mean".
            handler = unmatched(text, match)
            reply = await self._answer(context, actor, handler, False, args="", data={})
        await send_reply(context, reply)

    async def _pending_choice(self, context: TurnContext, actor: Actor, text: str) -> str | None:
        stripped = text.strip()
        if not stripped.isdigit():
            return None
        pending = await self._choices.get(context, None)
        if not isinstance(pending, dict) or pending.get("person_id") != actor.person_id:
            # Someone else's choice (or none): the number is just a message.
            return None
        keys = pending.get("keys") or []
        await self._choices.delete(context)
        index = int(stripped) - 1
        return str(keys[index]) if 0 <= index < len(keys) else None

    async def _on_card_submit(self, context: TurnContext, value: dict[str, Any]) -> None:
        """Action.Submit: the card's data merged with its inputs, `verb` naming the action."""
        verb = value.get("verb")
        async with self._verb_sessions(context, verb):
            actor = await self._identify(context)
            if actor is None:
                return
            if not isinstance(verb, str) or not verb:
                await context.send_activity(
                    "That button didn't say what to do. Type help to start again."
                )
                return
            reply = await self._run_verb(context, actor, verb, value, refresh=False)
        await send_reply(context, reply)

    def _verb_sessions(
        self, context: TurnContext, name: object
    ) -> AbstractAsyncContextManager[None]:
        """For a verb that writes, the turn's one write transaction (`Verb.writes`)."""
        verb = self.registry.get_verb(name) if isinstance(name, str) else None
        reads = _READS.get()
        shared = in_shared_room(context.activity)
        if verb is None or reads is None or not verb.writes_in_one_transaction(shared_room=shared):
            return nullcontext()
        return reads.writing()

    # -- invokes (Action.Execute) ------------------------------------------------

    async def _on_invoke(self, context: TurnContext) -> None:
        activity = context.activity
        if activity.name != "adaptiveCard/action":
            await invoke_response(
                context,
                400,
                error_body(400, f"Waypoint does not handle {activity.name or 'this'} invokes."),
            )
            return
        try:
            execute = ExecuteValue.model_validate(activity.value)
        except ValidationError:
            await invoke_response(
                context, 400, error_body(400, "That card action was not understood.")
            )
            return
        verb, data = execute.action.verb, execute.action.data
        async with self._verb_sessions(context, verb):
            actor = await self._identify(context, invoke=True)
            if actor is None:
                return
            reply = await self._run_verb(context, actor, verb, data, refresh=True)
        await invoke_response(context, 200, invoke_body(reply))

    # -- install ------------------------------------------------------------------

    async def _on_install_change(self, context: TurnContext) -> None:
        activity = context.activity
        if activity.type == ActivityTypes.installation_update:
            action = (activity.action or "").lower()
            if action.startswith("remove"):
                await self._forget_conversation(context)
                return
            if not action.startswith("add"):
                return
        else:
            bot_id = activity.recipient.id if activity.recipient else None
            added = [m.id for m in activity.members_added or []]
            if bot_id not in added:
                return
        created = False
        async with self.sessions.begin() as session:
            who = await identify(session, activity, self.directory)
            trust_id = who.trust_id
            if trust_id is not None:
                reference = TurnContext.get_conversation_reference(activity)
                _, created = await save_reference(
                    session,
                    trust_id=trust_id,
                    person_id=who.person_id if isinstance(who, Actor) else None,
                    conversation_id=activity.conversation.id,
                    # Only what Teams called personal is: a reference of unknown
                    # type must never receive private answers.
                    conversation_type=activity.conversation.conversation_type or "unknown",
                    channel_id=activity.channel_id,
                    service_url=activity.service_url or "",
                    bot_id=activity.recipient.id if activity.recipient else "",
                    reference=reference.serialize(),
                    authenticated=turn_is_authenticated(context),
                    now=self.clock(),
                )
        # What waited for them (a digest, a notice) is due now: the sender need not
        # wait for its next round.
        self.notifier.wake_sender()
        # Teams announces one install twice (installationUpdate and
        # conversationUpdate): welcome once per install (see save_reference).
        if isinstance(who, Actor):
            if created:
                shared = in_shared_room(activity)
                reply = await self._call(
                    welcome, who, args="", data={}, refresh=False, shared=shared
                )
                await send_reply(context, reply)
        elif created or trust_id is None:
            await context.send_activity(who.message)

    async def _forget_conversation(self, context: TurnContext) -> None:
        async with self.sessions.begin() as session:
            who = await identify(session, context.activity, self.directory)
            if who.trust_id is not None:
                await remove_reference(
                    session, trust_id=who.trust_id, conversation_id=context.activity.conversation.id
                )

    # -- running dialogs --------------------------------------------------------

    async def _identify(self, context: TurnContext, *, invoke: bool = False) -> Actor | None:
        async with (_READS.get() or self.sessions)() as session:
            who = await identify(session, context.activity, self.directory)
        if isinstance(who, Actor):
            return who
        mark_turn(Outcome.refused)
        if invoke:
            await invoke_response(context, 200, invoke_body(Reply(text=who.message)))
        else:
            await context.send_activity(who.message)
        return None

    async def _run_command(self, context: TurnContext, actor: Actor, key: str, args: str) -> Reply:
        command = self.registry.get_command(key)
        if command is None:
            return Reply(text="I didn't catch that. Type help to see what I can do for you.")
        if not command.allowed(actor):
            return await self._refuse(actor, f"command:{key}", command.title, command.roles)
        return await self._answer(
            context, actor, command.handler, command.private, args=args, data={}, refresh=False
        )

    async def _run_verb(
        self, context: TurnContext, actor: Actor, name: str, data: dict[str, Any], *, refresh: bool
    ) -> Reply:
        if name == "run":
            # Buttons that stand for typed commands ("Help", "My actions", …).
            key = data.get("command")
            if not isinstance(key, str):
                return Reply(text="That button didn't say what to do. Type help to start again.")
            return await self._run_command(context, actor, key, "")
        verb = self.registry.get_verb(name)
        if verb is None:
            return Reply(text="That card is out of date. Type help to start again.")
        if not verb.allowed(actor):
            return await self._refuse(actor, f"verb:{name}", "that action", verb.roles)
        return await self._answer(
            context, actor, verb.handler, verb.private, args="", data=data, refresh=refresh
        )

    async def _answer(
        self,
        context: TurnContext,
        actor: Actor,
        handler: Handler,
        private: bool,
        *,
        args: str,
        data: dict[str, Any],
        refresh: bool = False,
    ) -> Reply:
        """Run the handler, in the room or, for a private answer, in the person's own chat."""
        shared = in_shared_room(context.activity)
        return await answer_in_room(
            context.activity,
            actor,
            self.notifier,
            private=private,
            answer=lambda: self._call(
                handler, actor, args=args, data=data, refresh=refresh, shared=shared
            ),
        )

    async def _call(
        self,
        handler: Handler,
        actor: Actor,
        *,
        args: str,
        data: dict[str, Any],
        refresh: bool,
        shared: bool,
    ) -> Reply:
        turn = Turn(
            actor=actor,
            sessions=_READS.get() or self.sessions,
            now=self.clock(),
            args=args,
            data=data,
            refresh=refresh,
            registry=self.registry,
            notifier=self.notifier,
            shared_room=shared,
        )
        if self.dashboard_links is not None:
            turn.dashboard_links = self.dashboard_links
        return await handler(turn)

    async def _refuse(self, actor: Actor, action: str, what: str, roles: Any) -> Reply:
        mark_turn(Outcome.refused)
        async with (_READS.get() or self.sessions).begin() as session:
            await record_refusal(session, actor, action[:64])
        allowed = ", ".join(ROLE_LABELS[r.value] for r in sorted(roles or ()))
        return Reply(text=f"You don't have access to {what}: it is for {allowed}.")
