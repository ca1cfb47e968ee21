"""POST /api/messages: check the request before botbuilder sees it, answer in JSON.

In order, each step refusing with a short JSON error (no traceback, nothing stored):
1. development mode only: the caller is on this machine (loopback Host, no proxy);
2. the body: its type, its size (read to the end), JSON with bounded containers;
3. the channel (only Teams) and the service URL the token is checked against;
4. the token (bot/adapter.py);
5. the service URL Waypoint would answer at (only Teams' hosts, bot/channel_policy.py);
6. only then the whole activity: pydantic's checks, bounds, msrest's deserialiser.
An unauthenticated request costs a read and a parse, never the activity's checks.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.adapter import AuthUnavailable, TurnLogic, Unauthorized, turn_result_body
from bot.connector import ConnectorError
from bot.inbound import Refused, build_activity, error_response, read_body, read_envelope
from bot.once import RETRY_AFTER_SECONDS, ActivityInFlight

if TYPE_CHECKING:
    from bot.adapter import WaypointAdapter

log = logging.getLogger("waypoint.edge")

__all__ = ["error_response", "handle_messages"]


async def handle_messages(
    request: web.Request, adapter: WaypointAdapter, logic: TurnLogic
) -> web.Response:
    settings = adapter.settings
    policy = adapter.policy
    refusal = policy.refuses_origin(request.headers.get("Host"), request.headers)
    if refusal is not None:
        return error_response(403, "Forbidden", refusal)
    try:
        body = await read_body(request, settings.max_body_bytes)
        envelope = read_envelope(body.fields)
    except Refused as refused:
        return refused.response
    if not policy.allows_channel(envelope.channel_id):
        return error_response(403, "ChannelNotServed", "Waypoint serves Microsoft Teams only")
    try:
        result = await adapter.authenticate(
            envelope.for_authentication(), request.headers.get("Authorization", "")
        )
    except Unauthorized as error:
        log.info("refused a request: %s", error)
        return error_response(401, "Unauthorized", "the request's token is not valid for this bot")
    except AuthUnavailable as error:
        log.warning("could not check a token: %s", error)
        return error_response(503, "ServiceUnavailable", "tokens cannot be checked right now")
    if envelope.service_url is not None and not policy.allows_service_url(envelope.service_url):
        return error_response(
            403,
            "ServiceUrlNotAllowed",
            "Waypoint answers only at a Teams service URL"
            if not settings.anonymous
            else "development mode answers only at a loopback service URL",
        )
    try:
        activity = build_activity(body)
    except Refused as refused:
        return refused.response
    try:
        response = await adapter.run_turn(result, activity, logic)
    except ActivityInFlight:
        # Another replica is answering this activity now: the channel's retry finds it
        # answered, or takes it over if that replica died mid-turn.
        busy = error_response(503, "ActivityInFlight", "this activity is being answered")
        busy.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return busy
    except (ConnectorError, aiohttp.ClientError, TimeoutError) as error:
        # The turn ran but its answer could not be delivered; the channel may retry,
        # and the redelivery guard has released the activity so the retry is handled.
        log.warning("reply not delivered: %s", type(error).__name__)
        return error_response(502, "BadGateway", "the reply could not be delivered to the channel")
    except Exception:
        log.exception("turn failed (type=%s)", activity.type)
        return error_response(500, "InternalError", "Waypoint could not handle this activity")
    if response is None:
        return web.Response(status=201)
    status, payload = turn_result_body(response)
    if payload is None:
        return web.Response(status=status)
    return web.json_response(payload, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
