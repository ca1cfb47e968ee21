"""Reading an inbound activity in two steps: what authentication needs, then the rest.

Before the token is checked Waypoint does only what it must: read the body up to
its limit, parse it once with bounded nesting, and read the two fields the token
is checked against (`channelId`, `serviceUrl`). Everything else about the activity
(pydantic's checks, the bounds on its arrays, msrest's deserialiser) runs only for
a request that proved it came from the channel.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity, ChannelAccount
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# No Teams activity comes near these: channelData, entities and card data nest a
# few levels and hold tens of arrays and objects.
MAX_JSON_DEPTH = 32
MAX_CONTAINERS = 4096
# Teams sends a mention entity per person mentioned and a few attachments at most.
MAX_ENTITIES = 100
MAX_ATTACHMENTS = 20
# A conversationUpdate lists the members added or removed at once.
MAX_MEMBERS = 500
# Card data (Action.Execute or a submit): the largest form's text, generously.
MAX_VALUE_CHARS = 64 * 1024
MAX_VALUE_DEPTH = 8
# An activity type is a word ("message", "conversationUpdate", "invoke"): it goes
# into log lines, so no newlines or other characters that could forge one.
ACTIVITY_TYPE = r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$"


class Refused(Exception):
    """The request is not an activity Waypoint will handle; `response` says why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = error_response(status, code, message)


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def bad_request(message: str) -> Refused:
    return Refused(400, "BadRequest", message)


# -- the body ---------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A request's JSON object, parsed once."""

    fields: dict[str, Any]
    # The text escapes a NUL or a surrogate, so its strings need a closer look.
    has_suspect_escape: bool


async def read_body(request: web.Request, max_bytes: int) -> Body:
    """The request's JSON object, read to its end (or to one byte past the limit)."""
    if request.content_type != "application/json":
        raise Refused(415, "UnsupportedMediaType", "send the activity as application/json")
    too_large = Refused(413, "PayloadTooLarge", f"the body is over {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        # read(n) returns what has arrived so far: a slow chunked body comes in parts.
        while size <= max_bytes:
            chunk = await request.content.read(max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (ConnectionError, OSError) as error:
        raise bad_request("the body could not be read") from error
    if size > max_bytes:
        raise too_large
    return parse_object(b"".join(chunks))


def parse_object(raw: bytes) -> Body:
    # Each array or object costs the parser an allocation: 80,000 empty arrays in
    # 240 KB took it 50 ms. Counting brackets is memchr-fast and over-counts (it sees
    # brackets inside strings too), which only matters to a body no Teams client sends.
    if raw.count(b"[") + raw.count(b"{") > MAX_CONTAINERS:
        raise bad_request(f"the body holds more than {MAX_CONTAINERS} arrays and objects")
    try:
        # Strict UTF-8 (json.loads on bytes would let encoded surrogates through).
        text = raw.decode("utf-8-sig")
        fields = json.loads(text)
    except RecursionError as error:
        # The C parser gives up near the interpreter's recursion limit, cheaply.
        raise bad_request("the body nests too deeply") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise bad_request("the body is not valid JSON") from error
    if not isinstance(fields, dict):
        raise bad_request("the body must be a JSON object (an activity)")
    return Body(fields=fields, has_suspect_escape=_SUSPECT_ESCAPE.search(text) is not None)


# -- step 1: what the token is checked against ------------------------------------


@dataclass(frozen=True)
class Envelope:
    """The fields a channel token vouches for, read before the token is checked."""

    channel_id: str
    service_url: str | None

    def for_authentication(self) -> Activity:
        # botbuilder's authenticate_request reads only these (and, for the Emulator's
        # skill calls in development mode, the recipient's role).
        return Activity(
            channel_id=self.channel_id, service_url=self.service_url, recipient=ChannelAccount()
        )


def read_envelope(body: dict[str, Any]) -> Envelope:
    channel_id = body.get("channelId")
    if not isinstance(channel_id, str) or not 1 <= len(channel_id) <= 32:
        raise bad_request("not a valid activity: channelId: a string of 1 to 32 characters")
    service_url = body.get("serviceUrl")
    if service_url is not None:
        if not isinstance(service_url, str) or len(service_url) > 512:
            raise bad_request(
                "not a valid activity: serviceUrl: a string of at most 512 characters"
            )
        if not service_url.startswith(("https://", "http://")):
            raise bad_request("not a valid activity: serviceUrl: must be an http(s) URL")
    return Envelope(channel_id=channel_id, service_url=service_url)


# -- step 2: the whole activity, once the request is authenticated ----------------


# Bounds below are the store's (storage/models/conversations.py): the redelivery guard
# and the conversation references keep these values, and PostgreSQL refuses longer ones.
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
    """The parts of an activity a turn relies on, with their types and bounds."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str = Field(min_length=1, max_length=64, pattern=ACTIVITY_TYPE)
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
    entities: list[Any] | None = Field(default=None, max_length=MAX_ENTITIES)
    attachments: list[Any] | None = Field(default=None, max_length=MAX_ATTACHMENTS)
    membersAdded: list[Any] | None = Field(default=None, max_length=MAX_MEMBERS)
    membersRemoved: list[Any] | None = Field(default=None, max_length=MAX_MEMBERS)
    value: Any = None

    _id_is_a_segment = field_validator("id")(_not_dot_segment)

    @field_validator("value")
    @classmethod
    def _bounded_card_data(cls, value: Any) -> Any:
        if value is None:
            return value
        if _depth(value) > MAX_VALUE_DEPTH:
            raise ValueError(f"card data nests deeper than {MAX_VALUE_DEPTH} levels")
        if len(json.dumps(value, ensure_ascii=False)) > MAX_VALUE_CHARS:
            raise ValueError(f"card data is over {MAX_VALUE_CHARS} characters")
        return value

    def needs_service_url(self) -> bool:
        return self.deliveryMode != "expectReplies"


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


# What no store can keep: NUL (PostgreSQL refuses it in text) and lone UTF-16
# surrogates (not UTF-8). No Teams client sends them; JSON can only carry them
# escaped, so bodies without such an escape are never walked.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any) -> bool:
    # The body's nesting is bounded (MAX_JSON_DEPTH), so this recursion is too.
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]).replace("from_", "from") or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def build_activity(body: Body) -> Activity:
    """The SDK's activity for an authenticated request's body, checked and bounded."""
    fields = body.fields
    if _depth(fields) > MAX_JSON_DEPTH:
        raise bad_request(f"the activity nests deeper than {MAX_JSON_DEPTH} levels")
    if body.has_suspect_escape and _unstorable(fields):
        raise bad_request("the activity holds NUL or unpaired surrogate characters")
    try:
        checked = InboundActivity.model_validate(fields)
    except ValidationError as error:
        raise bad_request(f"not a valid activity: {_describe(error)}") from error
    if checked.needs_service_url() and not checked.serviceUrl:
        raise bad_request("not a valid activity: serviceUrl: Field required")
    try:
        activity: Activity = Activity().deserialize(fields)
    except Exception as error:
        # msrest rejects values of the wrong shape in fields we do not check above.
        raise bad_request("not a valid activity: a field has the wrong type") from error
    return activity
