"""The edge's bounds: bodies read to the end, nesting, arrays, card data, activity types.

Each oversized or hostile request gets a short JSON 400 (never a 500, never a
logged traceback) and stores nothing, while the other turns on the same server are
answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.inbound import (
    MAX_ATTACHMENTS,
    MAX_CONTAINERS,
    MAX_ENTITIES,
    MAX_JSON_DEPTH,
    MAX_MEMBERS,
    MAX_VALUE_CHARS,
    MAX_VALUE_DEPTH,
)
from bot.settings import Settings
from tests.support import (
    BOT_ID,
    card_text,
    cards_in,
    count_rows,
    execute,
    message,
    seed_trust,
    serve_waypoint,
)

SETTINGS = Settings(_env_file=None)
JSON = {"Content-Type": "application/json"}


def _help() -> dict[str, Any]:
    return message("help", expect_replies=True)


async def _answered_help(client: Any) -> bool:
    response = await client.post("/api/messages", json=_help())
    body = await response.json()
    return response.status == 200 and "What I can do for you" in card_text(
        cards_in(body["activities"])[0]
    )


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"v": value}
    return value


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [
        r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR
    ] == []
    assert "Traceback" not in caplog.text


async def test_a_slow_chunked_body_is_read_to_its_end(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """`content.read(n)` returns what has arrived; the rest of the body is still coming."""
    await seed_trust(sessions)
    raw = json.dumps(_help()).encode()

    async def slowly() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 200):
            yield raw[start : start + 200]
            await asyncio.sleep(0.05)

    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", data=slowly(), headers=JSON)
        assert response.status == 200, await response.text()
        body = await response.json()
    assert "What I can do for you" in card_text(cards_in(body["activities"])[0])


async def test_a_slow_chunked_body_over_the_limit_gets_413(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    settings = Settings(_env_file=None, WAYPOINT_MAX_BODY_BYTES=4096)
    raw = json.dumps(message("x" * 8000, expect_replies=True)).encode()

    async def slowly() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 1000):
            yield raw[start : start + 1000]
            await asyncio.sleep(0.02)

    async with serve_waypoint(engine, settings) as (client, _):
        response = await client.post("/api/messages", data=slowly(), headers=JSON)
        assert response.status == 413


@pytest.mark.parametrize(
    ("name", "raw", "complaint"),
    [
        # Refused by counting brackets, before the parser runs.
        ("10,000-deep array", b"[" * 10_000 + b"]" * 10_000, "arrays and objects"),
        ("many empty arrays", b'{"a": [' + b"[]," * 80_000 + b"[]]}", "arrays and objects"),
        # Few enough brackets to parse, too deep for Python's parser: RecursionError.
        ("3,000-deep array", b"[" * 3_000 + b"]" * 3_000, "nests too deeply"),
    ],
)
async def test_deep_or_bracket_heavy_bodies_get_a_400_and_other_turns_are_answered(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    logged: pytest.LogCaptureFixture,
    name: str,
    raw: bytes,
    complaint: str,
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        hostile, answered = await asyncio.gather(
            client.post("/api/messages", data=raw, headers=JSON), _answered_help(client)
        )
        body = await hostile.json()
    assert hostile.status == 400, name
    assert set(body["error"]) == {"code", "message"}
    assert complaint in body["error"]["message"], name
    assert answered
    _no_traceback(logged)
    # Only the help turn's redelivery guard.
    after = await count_rows(sessions)
    assert {k: v - before[k] for k, v in after.items() if v != before[k]} == {
        "processed_activity": 1
    }


async def test_a_deep_activity_within_the_parsers_reach_is_refused_after_authentication(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    deep = _help()
    deep["channelData"]["extra"] = _nested(MAX_JSON_DEPTH)
    fine = _help()
    fine["channelData"]["extra"] = _nested(MAX_JSON_DEPTH - 3)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        refused = await client.post("/api/messages", json=deep)
        body = await refused.json()
        assert refused.status == 400
        assert f"nests deeper than {MAX_JSON_DEPTH}" in body["error"]["message"]
        assert await count_rows(sessions) == before
        assert (await client.post("/api/messages", json=fine)).status == 200


async def test_a_256_kib_body_of_mentions_is_answered_and_other_turns_too(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    mentions = message("", expect_replies=True)
    envelope = len(json.dumps(mentions).encode())
    mentions["text"] = "<at>" * ((256 * 1024 - envelope - 16) // 4) + " help"
    assert 255 * 1024 < len(json.dumps(mentions).encode()) <= 256 * 1024
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        big, answered = await asyncio.gather(
            client.post("/api/messages", json=mentions), _answered_help(client)
        )
        assert big.status in (200, 400)
        assert set(await big.json()) in ({"activities"}, {"error"})
    assert answered


@pytest.mark.parametrize(
    ("field", "limit", "item"),
    [
        ("entities", MAX_ENTITIES, {"type": "mention", "text": "<at>x</at>"}),
        ("attachments", MAX_ATTACHMENTS, {"contentType": "text/plain", "content": "x"}),
        ("membersAdded", MAX_MEMBERS, {"id": "29:someone"}),
        ("membersRemoved", MAX_MEMBERS, {"id": "29:someone"}),
    ],
)
async def test_arrays_have_bounds(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    field: str,
    limit: int,
    item: dict[str, Any],
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        over = _help() | {field: [item] * (limit + 1)}
        refused = await client.post("/api/messages", json=over)
        body = await refused.json()
        assert refused.status == 400
        assert body["error"]["message"].startswith(f"not a valid activity: {field}:")
        assert f"at most {limit} items" in body["error"]["message"]
        assert await count_rows(sessions) == before
        at_limit = _help() | {field: [item] * limit}
        assert (await client.post("/api/messages", json=at_limit)).status == 200


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"school_id": _nested(MAX_VALUE_DEPTH)}, f"nests deeper than {MAX_VALUE_DEPTH}"),
        ({"notes": "x" * MAX_VALUE_CHARS}, f"over {MAX_VALUE_CHARS} characters"),
    ],
)
async def test_card_data_has_bounds(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    data: dict[str, Any],
    complaint: str,
) -> None:
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        refused = await client.post("/api/messages", json=execute("run", data))
        body = await refused.json()
        assert refused.status == 400
        assert body["error"]["message"].startswith("not a valid activity: value:")
        assert complaint in body["error"]["message"]
        assert await count_rows(sessions) == before
        ordinary = await client.post("/api/messages", json=execute("run", {"command": "help"}))
        assert ordinary.status == 200
        assert "What I can do for you" in card_text((await ordinary.json())["value"])


async def test_a_body_with_more_arrays_and_objects_than_the_bound_is_refused(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_trust(sessions)
    many = _help()
    many["channelData"]["extra"] = [{} for _ in range(MAX_CONTAINERS)]
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", json=many)
        body = await response.json()
    assert response.status == 400
    assert f"more than {MAX_CONTAINERS} arrays and objects" in body["error"]["message"]


@pytest.mark.parametrize(
    "kind",
    [
        "message\nINFO waypoint.turns forged line",
        "message\r",
        "message ",
        "invoke\tx",
        "mess\u2028age",
        "conversationUpdate\n",
        "-message",
    ],
)
async def test_an_activity_type_that_is_not_a_word_is_refused(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    logged: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """The type goes into log lines: a newline in it would forge one."""
    await seed_trust(sessions)
    before = await count_rows(sessions)
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", json=_help() | {"type": kind})
        body = await response.json()
    assert response.status == 400
    assert body["error"]["message"].startswith("not a valid activity: type:")
    assert await count_rows(sessions) == before
    assert "forged line" not in logged.text


@pytest.mark.parametrize(
    "kind", ["message", "conversationUpdate", "installationUpdate", "messageReaction", "typing"]
)
async def test_the_activity_types_teams_sends_are_accepted(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], kind: str
) -> None:
    await seed_trust(sessions)
    activity = _help() | {"type": kind}
    if kind == "conversationUpdate":
        activity["membersAdded"] = [{"id": BOT_ID}]
    async with serve_waypoint(engine, SETTINGS) as (client, _):
        response = await client.post("/api/messages", json=activity)
    assert response.status < 300
