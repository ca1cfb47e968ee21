"""POST /api/messages: check the request before botbuilder sees it, answer in JSON.

Malformed JSON, a wrong content type, an oversized body or an activity missing
what a turn needs gets 400/413/415 with a short JSON error: no traceback, and
nothing reaches the store.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from botbuilder.schema import Activity
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.adapter import AuthUnavailable, TurnLogic, Unauthorized, turn_result_body
from bot.connector import ConnectorError

if TYPE_CHECKING:
    from bot.adapter import WaypointAdapter

log = logging.getLogger("waypoint.edge")


# Bounds below are the store's (storage/models.py): the redelivery guard and the
# conversation references keep these values, and PostgreSQL refuses longer ones.
class _Account(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=512)
    name: str | None = Field(default=None, max_length=512)
    aadObjectId: str | None = Field(default=None, max_length=128)


class _Bot(_Account):
    id: str = Field(min_length=1, max_length=256)


def _not_dot_segment(value: str | None) -> str | None:
    # Replies go to .../conversations/{id}/activities/{activity id}: "." and ".." would
    # be read as path steps and send the reply (with its token) to another path.
    if value in (".", ".."):
        raise ValueError("must not be a dot segment")
    return value


class _Conversation(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: str = Field(min_length=1, max_length=512)
    conversationType: str | None = Field(default=None, max_length=32)

    _id_is_a_segment = field_validator("id")(_not_dot_segment)


class InboundActivity(BaseModel):
    """The parts of an activity a turn relies on, with their types."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str = Field(min_length=1, max_length=64)
    id: str | None = Field(default=None, max_length=256)
    channelId: str = Field(min_length=1, max_length=32)
    serviceUrl: str | None = Field(default=None, max_length=512)
    conversation: _Conversation
    from_: _Account = Field(alias="from")
    recipient: _Bot | None = None
    text: str | None = None
    name: str | None = Field(default=None, max_length=256)
    deliveryMode: str | None = Field(default=None, max_length=32)
    channelData: dict[str, Any] | None = None
    replyToId: str | None = Field(default=None, max_length=512)
    timestamp: str | None = Field(default=None, max_length=64)
    localTimestamp: str | None = Field(default=None, max_length=64)

    _id_is_a_segment = field_validator("id")(_not_dot_segment)

    @field_validator("serviceUrl")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    def needs_service_url(self) -> bool:
        return self.deliveryMode != "expectReplies"


# What no store can keep: NUL (PostgreSQL refuses it in text) and lone UTF-16
# surrogates (not UTF-8). No Teams client sends them; JSON can only carry them
# escaped, so bodies without such an escape are never walked.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]).replace("from_", "from") or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


async def read_activity(request: web.Request, max_bytes: int) -> Activity | web.Response:
    """The request's activity, or the error response to give instead."""
    if request.content_type != "application/json":
        return error_response(415, "UnsupportedMediaType", "send the activity as application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        return error_response(413, "PayloadTooLarge", f"the body is over {max_bytes} bytes")
    try:
        raw = await request.content.read(max_bytes + 1)
    except (ConnectionError, OSError):
        return error_response(400, "BadRequest", "the body could not be read")
    if len(raw) > max_bytes:
        return error_response(413, "PayloadTooLarge", f"the body is over {max_bytes} bytes")
    try:
        # Strict UTF-8 (json.loads on bytes would let encoded surrogates through).
        text = raw.decode("utf-8-sig")
        body = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return error_response(400, "BadRequest", "the body is not valid JSON")
    if not isinstance(body, dict):
        return error_response(400, "BadRequest", "the body must be a JSON object (an activity)")
    if _SUSPECT_ESCAPE.search(text) and _unstorable(body):
        return error_response(
            400, "BadRequest", "the activity holds NUL or unpaired surrogate characters"
        )
    try:
        checked = InboundActivity.model_validate(body)
    except ValidationError as error:
        return error_response(400, "BadRequest", f"not a valid activity: {_describe(error)}")
    if checked.needs_service_url() and not checked.serviceUrl:
        return error_response(400, "BadRequest", "not a valid activity: serviceUrl: Field required")
    try:
        activity: Activity = Activity().deserialize(body)
    except Exception:
        # msrest rejects values of the wrong shape in fields we do not check above.
        return error_response(400, "BadRequest", "not a valid activity: a field has the wrong type")
    return activity


async def handle_messages(
    request: web.Request, adapter: WaypointAdapter, logic: TurnLogic
) -> web.Response:
    settings = adapter.settings
    activity = await read_activity(request, settings.max_body_bytes)
    if isinstance(activity, web.Response):
        return activity
    try:
        result = await adapter.authenticate(activity, request.headers.get("Authorization", ""))
    except Unauthorized as error:
        log.info("refused a request: %s", error)
        return error_response(401, "Unauthorized", "the request's token is not valid for this bot")
    except AuthUnavailable as error:
        log.warning("could not check a token: %s", error)
        return error_response(503, "ServiceUnavailable", "tokens cannot be checked right now")
    try:
        response = await adapter.run_turn(result, activity, logic)
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
    status, body = turn_result_body(response)
    if body is None:
        return web.Response(status=status)
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
