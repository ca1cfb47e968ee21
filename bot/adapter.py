"""Waypoint's CloudAdapter: botbuilder's turn pipeline, with its HTTP edge replaced.

Faults of botbuilder 4.17.1 handled here (each has a test in tests/test_edge.py):
- `CloudAdapter.process` answers 500 to expectReplies and to every invoke with a
  body (it serialises an already-serialised dict); `turn_result_body` serialises
  what a turn returns, whatever its shape.
- It answers 500, not 401, to a bad token: `authenticate` maps every token
  failure to `Unauthorized`.
- Token validation fetches OpenID metadata with blocking `requests`: it runs on
  a worker thread, never on the serving loop.
- With credentials set, its Emulator path accepts any Entra token whose `appid`
  is the bot's own id, with no audience or `serviceurl` check (the bot's own
  outbound token is one): only tokens from the channel's issuer are accepted
  (tests/test_auth.py).
- Each turn builds an msrest ConnectorClient whose retry policy rebuilds ~500
  status codes per call, and replies go through `requests` in a thread pool:
  turns here carry no msrest client; `send_activities` posts with aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import jwt
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, ResourceResponse
from botframework.connector.auth import AuthenticateRequestResult

from bot.channel_policy import ChannelPolicy
from bot.connector import Connector
from bot.metrics import Metrics
from bot.offloop import BlockingWorker
from bot.once import IN_FLIGHT, ActivityInFlight
from bot.settings import Settings
from bot.size_guard import fit_result_body

log = logging.getLogger("waypoint.adapter")

AUDIENCE_KEY = "waypoint.audience"
AUTHENTICATED_KEY = "waypoint.authenticated"
AUTH_TIMEOUT = 15.0

TurnLogic = Callable[[TurnContext], Awaitable[None]]


class Unauthorized(Exception):
    """The request's token is missing, malformed, expired, wrongly signed or not for us."""


class AuthUnavailable(Exception):
    """Tokens could not be checked (the OpenID metadata could not be fetched)."""


class WaypointAdapter(CloudAdapter):  # type: ignore[misc]
    def __init__(
        self,
        settings: Settings,
        connector: Connector,
        worker: BlockingWorker,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(ConfigurationBotFrameworkAuthentication(settings.sdk_configuration()))
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.policy = ChannelPolicy(settings)
        self._connector = connector
        self._worker = worker

    async def authenticate(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        auth = self.bot_framework_authentication
        try:
            if self.settings.anonymous or not auth_header:
                # No token to check (or none needed in development): the SDK
                # decides from configuration alone, without I/O. It wants None,
                # not "": an empty string sends it down the token path and fails.
                return await auth.authenticate_request(activity, None)
            # Decided before any key is fetched: a token from anyone but the channel
            # (the Emulator's, a skill's) is never checked further.
            self._require_channel_issuer(_unverified_issuer(auth_header))
            result: AuthenticateRequestResult = await self._worker.run(
                auth.authenticate_request(activity, auth_header), within=AUTH_TIMEOUT
            )
            self._require_channel_issuer(result.claims_identity.claims.get("iss"))
            return result
        except Unauthorized:
            raise
        except TimeoutError as error:
            raise AuthUnavailable("token validation timed out") from error
        except OSError as error:
            # requests' ConnectionError is an OSError: the key server, not the caller.
            if isinstance(error, PermissionError):
                raise Unauthorized(_one_line(str(error))) from error
            raise AuthUnavailable(type(error).__name__) from error
        except Exception as error:
            # PyJWT's errors, the SDK's bare Exceptions ("Unauthorized Access…"),
            # an unknown key id (IndexError): all say the token is not good.
            raise Unauthorized(_one_line(f"{type(error).__name__}: {error}")) from error

    def _require_channel_issuer(self, issuer: object) -> None:
        if issuer != self.settings.channel_token_issuer:
            raise Unauthorized("the token was not issued by the channel")

    async def run_turn(
        self, result: AuthenticateRequestResult, activity: Activity, logic: TurnLogic
    ) -> InvokeResponse | None:
        activity.caller_id = result.caller_id
        context = self._create_turn_context(
            activity,
            result.claims_identity,
            result.audience,
            None,
            None,
            logic,
            result.connector_factory,
        )
        context.turn_state[AUDIENCE_KEY] = result.audience
        context.turn_state[AUTHENTICATED_KEY] = not self.settings.anonymous
        # Counted and timed here, around botbuilder's pipeline, so that the turn's
        # error handler (bot.turns.WaypointBot.on_error) is inside the turn too.
        with self.metrics.turn(activity):
            await self.run_pipeline(context, logic)
            response: InvokeResponse | None = self._process_turn_results(context)
        if context.turn_state.get(IN_FLIGHT):
            raise ActivityInFlight
        return response

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses: list[ResourceResponse] = []
        for activity in activities:
            activity.id = None
            if activity.type == "delay":
                await asyncio.sleep(float(activity.value or 1000) / 1000)
                responses.append(ResourceResponse(id=""))
            elif activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse(id=""))
            elif activity.type == ActivityTypes.trace:
                responses.append(ResourceResponse(id=""))
            else:
                sent_id = await self._connector.send(
                    service_url=activity.service_url or context.activity.service_url,
                    conversation_id=activity.conversation.id,
                    activity=serialize_activity(activity),
                    reply_to_id=activity.reply_to_id,
                    audience=context.turn_state.get(AUDIENCE_KEY),
                )
                responses.append(ResourceResponse(id=sent_id))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        await self._connector.update(
            service_url=activity.service_url or context.activity.service_url,
            conversation_id=activity.conversation.id,
            activity_id=activity.id,
            activity=activity.serialize(),
            audience=context.turn_state.get(AUDIENCE_KEY),
        )
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        raise NotImplementedError("Waypoint never deletes messages")


def turn_is_authenticated(context: TurnContext) -> bool:
    """Whether this turn's token was checked (False in development mode): what a
    conversation reference saved from it records, so no token ever goes to a
    service URL nobody vouched for."""
    return bool(context.turn_state.get(AUTHENTICATED_KEY, False))


def _unverified_issuer(auth_header: str) -> object:
    """The `iss` claim of a Bearer token, unchecked (only to choose whether to check it)."""
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer" or not token:
        raise Unauthorized("not a Bearer token")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise Unauthorized(f"malformed token ({type(error).__name__})") from error
    return claims.get("iss")


# The SDK's messages quote the token's claims (its appid, say), which a caller
# chooses: no newline or control character of theirs reaches a log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _one_line(message: str, limit: int = 200) -> str:
    return _CONTROL.sub(" ", message)[:limit]


def serialize_activity(activity: Activity) -> dict[str, Any]:
    """`activity.serialize()`, without msrest rebuilding each card value by value.

    A card is plain JSON already (cards.render parses it from its template), so it
    goes into the body as it is; msrest's walk of it was half of the reply's
    serialisation (bench/README.md). Anything else is msrest's to serialise.
    """
    attachments = activity.attachments or []
    cards = [a.content if isinstance(a.content, dict) else None for a in attachments]
    for attachment, card in zip(attachments, cards, strict=True):
        if card is not None:
            attachment.content = None
    try:
        body: dict[str, Any] = activity.serialize()
    finally:
        for attachment, card in zip(attachments, cards, strict=True):
            if card is not None:
                attachment.content = card
    for serialized, card in zip(body.get("attachments", []), cards, strict=True):
        if card is not None:
            serialized["content"] = card
    return body


def turn_result_body(response: InvokeResponse) -> tuple[int, Any]:
    """The HTTP status and JSON body for what a turn returned (an invoke's answer, or
    the replies of an `expectReplies` turn), each fitted to Teams' size limit."""
    body = response.body
    if hasattr(body, "serialize"):
        body = body.serialize()
    status = int(response.status or HTTPStatus.OK)
    return status, fit_result_body(body)
